"""Builds ConfigService and SecretService from the shared backends.

Config values live in the relational database; replicas announce new revisions over Redis
pub/sub when Redis is configured (in-process otherwise). Secrets go to Vault/OpenBao KV v2 when
`vault_addr` is set, else to the local store sealed under the master key.
"""

from __future__ import annotations

from centrum.services.config.fanout import Announcer, LocalAnnouncer, RedisAnnouncer
from centrum.services.config.secret_access import ReadCache
from centrum.services.config.secret_backend import SecretBackend
from centrum.services.config.secret_local import LocalSecretBackend
from centrum.services.config.secret_servicer import SecretServicer
from centrum.services.config.secret_vault import VaultSecretBackend
from centrum.services.config.servicer import ConfigServicer
from centrum.services.config.validation import config_validators, secret_validators
from centrum.services.config.values import ValueStore
from centrum.services.config.watch import ChangeHub
from centrum.services.runtime import Probe, ServiceBundle, ServiceContext

__all__ = ["build"]


def _secret_backend(context: ServiceContext) -> tuple[str, SecretBackend]:
    settings = context.settings
    own = settings.config
    if settings.vault_addr and settings.vault_token is not None:
        return "vault", VaultSecretBackend(
            settings.vault_addr,
            settings.vault_token.get_secret_value(),
            mount=settings.vault_kv_mount,
            root=own.vault_path_root,
            timeout_s=own.vault_timeout_s,
            retry_after_s=own.secret_retry_after_s,
        )
    return "secrets", LocalSecretBackend(
        context.engine,
        context.master_key,
        max_versions=own.secret_max_versions,
        retry_after_s=own.secret_retry_after_s,
    )


async def build(context: ServiceContext) -> ServiceBundle:
    """The servicers, validators, probes and change hub of the config service."""
    own = context.settings.config
    store = ValueStore(context.engine, keep_revisions=own.history_revisions_per_key)
    announcer: Announcer = (
        RedisAnnouncer(context.redis, own.watch_channel)
        if context.redis is not None
        else LocalAnnouncer()
    )
    hub = ChangeHub(
        store,
        announcer,
        poll_interval_s=own.watch_poll_interval_s,
        capacity=own.watch_queue_size,
    )
    probe_name, backend = _secret_backend(context)
    cache = ReadCache(
        backend,
        context.master_key,
        ttl_s=own.secret_cache_ttl_s,
        retry_after_s=own.secret_retry_after_s,
    )
    probes: list[tuple[str, Probe]] = [(probe_name, backend.ping)] if probe_name == "vault" else []
    return ServiceBundle(
        servicers={
            "centrum.config.v1.ConfigService": ConfigServicer(
                store, hub, own.watch_progress_interval_s
            ),
            "centrum.config.v1.SecretService": SecretServicer(backend, cache),
        },
        validators={**config_validators(own.max_value_bytes), **secret_validators()},
        probes=probes,
        start=hub.start,
        stop=hub.stop,
        extra={"config_hub": hub},
    )
