"""Builds the auth service: key ring, directory, token service, servicers, chain lookups.

The bundle hands the chain's auth step the in-process key source (the published JWKS, read from
the database, no network), the API key lookup and the certificate identity lookup (mTLS), so that
what this service issues and registers is what the chain verifies.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.audit import AuditRecorder
from centrum.interceptors.credentials import MemoryRevocations
from centrum.services.auth import bootstrap
from centrum.services.auth.admin_servicer import AuthAdminServicer
from centrum.services.auth.api_keys import ApiKeys
from centrum.services.auth.directory import Directory
from centrum.services.auth.hashing import PasswordHashing, Pepper
from centrum.services.auth.keys import KeyRing, LocalKeys, SigningBackend, TransitKeys
from centrum.services.auth.mtls_identities import CertificateIdentities
from centrum.services.auth.principal_cache import PrincipalCache
from centrum.services.auth.security_events import SecurityEvents
from centrum.services.auth.servicer import AuthServicer
from centrum.services.auth.tables import keyring_secrets
from centrum.services.auth.tokens import TokenService
from centrum.services.auth.transactions import writing
from centrum.services.auth.validators import VALIDATORS
from centrum.services.keys import MasterKey
from centrum.services.runtime import Probe, ServiceBundle, ServiceContext

__all__ = ["AuthDomain", "build", "open_domain"]

_PEPPER_PURPOSE = b"centrum.auth.pepper"


@dataclass
class AuthDomain:
    """The auth service's domain objects, built once per process."""

    keyring: KeyRing
    directory: Directory
    api_keys: ApiKeys
    tokens: TokenService
    transit_client: Any | None = None


async def _pepper(engine: AsyncEngine, master_key: MasterKey, ring: str) -> Pepper:
    for _ in range(2):
        async with engine.connect() as connection:
            blob = (
                await connection.execute(
                    sa.select(keyring_secrets.c.encrypted_pepper).where(
                        keyring_secrets.c.keyring == ring
                    )
                )
            ).scalar_one_or_none()
        if blob is not None:
            return Pepper(master_key.decrypt(blob, _PEPPER_PURPOSE))
        try:
            async with writing(engine) as connection:
                await connection.execute(
                    sa.insert(keyring_secrets).values(
                        keyring=ring,
                        encrypted_pepper=master_key.encrypt(
                            secrets.token_bytes(32), _PEPPER_PURPOSE
                        ),
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            continue
    raise RuntimeError("could not create the auth pepper")


async def open_domain(
    settings: Any,
    engine: AsyncEngine,
    master_key: MasterKey,
    revocations: MemoryRevocations,
    audit: AuditRecorder | None = None,
) -> AuthDomain:
    """Builds the domain objects from the root settings (server, CLI and tests alike).

    `audit` receives the security events (lockouts, refresh token reuse); without it they are
    not recorded (the CLI's direct bootstrap needs none).
    """
    auth = settings.auth
    master_bytes = await asyncio.to_thread(Path(settings.master_key_path).read_bytes)
    local_ring = KeyRing.local_id(master_bytes)
    pepper = await _pepper(engine, master_key, local_ring)
    use_transit = auth.signing_backend == "transit" or (
        auth.signing_backend == "auto" and settings.vault_addr
    )
    backend: SigningBackend
    client = None
    if use_transit:
        client = hvac.Client(
            url=settings.vault_addr,
            token=settings.vault_token.get_secret_value() if settings.vault_token else None,
            timeout=3,
        )
        backend = TransitKeys(
            client, mount=settings.vault_transit_mount, prefix=auth.transit_key_prefix
        )
        mount = settings.vault_transit_mount
        ring = f"transit:{settings.vault_addr}/{mount}/{auth.transit_key_prefix}"
    else:
        backend, ring = LocalKeys(master_key), local_ring
    keyring = KeyRing(
        engine,
        backend,
        keyring=ring,
        algorithm=auth.algorithm,
        max_token_ttl_s=auth.max_access_token_ttl_s,
        refresh_s=auth.key_refresh_s,
    )
    await keyring.start()
    passwords = PasswordHashing(
        time_cost=auth.argon2_time_cost,
        memory_kib=auth.argon2_memory_kib,
        parallelism=auth.argon2_parallelism,
    )
    directory = Directory(
        engine,
        passwords,
        pepper,
        password_min_length=auth.password_min_length,
        max_access_token_ttl_s=auth.max_access_token_ttl_s,
        cache=PrincipalCache(revocations, ttl_s=auth.principal_cache_ttl_s),
    )
    api_keys = ApiKeys(engine, directory, pepper, revocations)
    tokens = TokenService(
        engine,
        keyring,
        directory,
        api_keys,
        pepper,
        revocations,
        auth,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        security=SecurityEvents(audit),
    )
    directory.revoker = tokens
    return AuthDomain(keyring, directory, api_keys, tokens, client)


async def build(context: ServiceContext) -> ServiceBundle:
    """The auth service's servicers, validators, probes and credential lookups."""
    settings = context.settings
    domain = await open_domain(
        settings, context.engine, context.master_key, context.revocations, context.audit
    )
    if settings.auth.bootstrap:
        created = await bootstrap.first_start(domain.directory, settings.auth.operator_tenant)
        if created is not None:
            if settings.auth.bootstrap_announce:
                bootstrap.announce(created, None)
            if settings.auth.bootstrap_credentials_file:
                bootstrap.announce(created, context.data_dir)
    probes: list[tuple[str, Probe]] = []
    client = domain.transit_client
    if client is not None:

        async def transit_probe() -> bool:
            try:
                return bool(await asyncio.to_thread(client.sys.is_initialized))
            except Exception:
                return False

        probes.append(("transit", transit_probe))

    async def start() -> None:
        await domain.tokens.restore_revocations()

    return ServiceBundle(
        servicers={
            "centrum.auth.v1.AuthService": AuthServicer(
                settings.auth,
                issuer=settings.jwt_issuer,
                keyring=domain.keyring,
                tokens=domain.tokens,
                directory=domain.directory,
                api_keys=domain.api_keys,
            ),
            "centrum.auth.v1.AuthAdminService": AuthAdminServicer(domain.directory),
        },
        validators=dict(VALIDATORS),
        probes=probes,
        key_source=domain.keyring,
        api_key_lookup=domain.api_keys,
        identity_lookup=CertificateIdentities(domain.directory),
        start=start,
        extra={"auth": domain},
    )
