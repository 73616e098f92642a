"""The composition root: settings -> backends -> chain -> servicers -> one grpc.aio server.

Nothing else in Centrum knows how the parts were built. Tests and embedders may hand in extra
services (a test-only service with its own contract) and their own key source; everything else
comes from the settings.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import redis.asyncio as redis
import structlog
from google.protobuf import descriptor
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import start_http_server
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.admission import AdmissionStep
from centrum.interceptors.audit import AuditPipeline, AuditStep, AuditStore
from centrum.interceptors.auth import AuthStep
from centrum.interceptors.chain import Chain, select
from centrum.interceptors.credentials import (
    ApiKeyVerifier,
    CredentialVerifier,
    IdentityLookup,
    JwtVerifier,
    KeySource,
    MemoryRevocations,
    MtlsVerifier,
    RedisRevocations,
)
from centrum.interceptors.error_mapping import ErrorMapper
from centrum.interceptors.logging import LoggingStep
from centrum.interceptors.metrics import Metrics, MetricsStep
from centrum.interceptors.policy import PolicyRegistry, RateLimitOverride
from centrum.interceptors.ratelimit import InProcessLimiter, Limiter, RateLimitStep, RedisLimiter
from centrum.interceptors.request_context import RequestContextStep
from centrum.interceptors.tracing import TracingStep, configure_tracing
from centrum.interceptors.validation import ValidationStep
from centrum.policy.v1 import policy_pb2
from centrum.sdk import aio
from centrum.server import catalog
from centrum.server.health import HealthMonitor
from centrum.server.reflection import enable_reflection
from centrum.server.remote import RemoteAuditStore, RemoteKeySource, open_remote
from centrum.server.settings import Settings, UnsafeSettingsError
from centrum.services.audit.log import SqlAuditLog
from centrum.services.db import create_engine, database_error, migrate, ping
from centrum.services.keys import MasterKey
from centrum.services.runtime import Probe, ServiceBundle, ServiceContext

__all__ = ["CentrumApp", "ExtraService"]

_log = structlog.get_logger("centrum.server")
_AUDIT_LEVELS = {
    "none": policy_pb2.AUDIT_LEVEL_NONE,
    "metadata": policy_pb2.AUDIT_LEVEL_METADATA,
    "full": policy_pb2.AUDIT_LEVEL_FULL,
}
_MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ExtraService:
    """A service registered beside Centrum's own, under the same chain and policy rules."""

    descriptor: descriptor.ServiceDescriptor
    servicer: Any


@dataclass
class _Backends:
    engine: AsyncEngine
    redis: redis.Redis | None
    probes: list[tuple[str, Probe]] = field(default_factory=list)


class CentrumApp:
    """One Centrum process: its backends, its chain and its gRPC server."""

    def __init__(
        self,
        settings: Settings,
        *,
        extra_services: Sequence[ExtraService] = (),
        key_source: KeySource | None = None,
        identity_lookup: IdentityLookup | None = None,
        reuse_port: bool = False,
    ) -> None:
        if key_source is None and "auth" not in settings.services and not settings.remote.auth:
            raise UnsafeSettingsError(
                "this process does not run auth and has no remote.auth: it could verify no token"
            )
        self.settings = settings
        self.metrics = Metrics()
        self.port = 0
        self._extra_services = tuple(extra_services)
        self._given_key_source = key_source
        self._identity_lookup = identity_lookup
        self._reuse_port = reuse_port
        self._server: grpc.aio.Server | None = None
        self._backends: _Backends | None = None
        self._pipeline: AuditPipeline | None = None
        self._revocations: MemoryRevocations | None = None
        self._health_monitor: HealthMonitor | None = None
        self._bundles: dict[str, ServiceBundle] = {}
        self._master_key: MasterKey | None = None
        self._remotes: dict[str, aio.AsyncClient] = {}

    @property
    def revocations(self) -> MemoryRevocations:
        """The revocation set the chain checks (shared through Redis when configured)."""
        assert self._revocations is not None, "start() first"
        return self._revocations

    @property
    def audit_log(self) -> SqlAuditLog:
        """The audit log store of this process."""
        assert self._backends is not None, "start() first"
        return SqlAuditLog(self._backends.engine)

    @property
    def audit_pipeline(self) -> AuditPipeline:
        """The audit pipeline events of audited calls go through."""
        assert self._pipeline is not None, "start() first"
        return self._pipeline

    async def start(self) -> int:
        """Migrates, connects the backends, starts serving; returns the bound port."""
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(settings.data_dir, 0o700)
        await asyncio.to_thread(migrate, settings.sqlalchemy_url)
        backends = self._backends = await self._connect_backends()

        self._pipeline = AuditPipeline(
            self._audit_store(backends),
            settings.data_dir / "audit-spool",
            on_store_error=lambda exc: self.metrics.backend_errors.labels(
                backend="audit_store"
            ).inc(),
            write_ahead=settings.audit_write_ahead,
            fsync=settings.audit_fsync,
        )
        await self._pipeline.start()
        self.metrics.audit_queue_depth.set_function(self._pipeline.depth)
        self._master_key = MasterKey.load_or_create(settings.master_key_path)
        if backends.redis is not None:
            revocations = RedisRevocations(backends.redis)
            await revocations.start()
            self._revocations = revocations
        else:
            self._revocations = MemoryRevocations()

        self._bundles = await self._build_services(backends)
        descriptors = [
            *catalog.descriptors_of(settings.services),
            *(extra.descriptor for extra in self._extra_services),
        ]
        registry = PolicyRegistry.from_services(
            descriptors,
            rate_limits={
                bucket: RateLimitOverride(**override.model_dump())
                for bucket, override in settings.rate_limits.items()
            },
            audit_levels={m: _AUDIT_LEVELS[level] for m, level in settings.audit_levels.items()},
        )
        configure_tracing(settings.otlp_endpoint)
        server = self._server = grpc.aio.server(
            interceptors=[self._chain(registry, backends)],
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 1 if self._reuse_port else 0),
            ],
        )
        self._register(server, descriptors)
        self.port = self._bind(server)
        assert self._health_monitor is not None
        await self._health_monitor.check_once()
        self._health_monitor.start()
        await server.start()
        for bundle in self._bundles.values():
            if bundle.start is not None:
                await bundle.start()
        if settings.metrics_listen:
            host, _, port = settings.metrics_listen.rpartition(":")
            start_http_server(int(port), addr=host or "127.0.0.1", registry=self.metrics.registry)
        _log.info(
            "centrum serving",
            listen=f"{settings.listen_host}:{self.port}",
            services=list(settings.services),
            data_dir=str(settings.data_dir),
            database=_describe_database(settings),
            redis="configured" if settings.redis_url else "in-process",
            tls=settings.tls_cert_file is not None,
            metrics=settings.metrics_listen or "off",
        )
        return self.port

    async def wait_for_termination(self) -> None:
        """Returns once the server has stopped."""
        assert self._server is not None
        await self._server.wait_for_termination()

    async def stop(self, grace_s: float | None = None) -> None:
        """Stops accepting calls, lets in-flight ones finish within the grace, then closes."""
        grace = self.settings.grace_period_s if grace_s is None else grace_s
        if self._health_monitor is not None:
            await self._health_monitor.stop()
        if self._server is not None:
            _log.info("draining in-flight calls", grace_period_s=grace)
            await self._server.stop(grace)
        for bundle in reversed(list(self._bundles.values())):
            if bundle.stop is not None:
                await bundle.stop()
        if self._pipeline is not None:
            await self._pipeline.close()
        for remote in self._remotes.values():
            await remote.close()
        if isinstance(self._revocations, RedisRevocations):
            await self._revocations.close()
        if self._backends is not None:
            if self._backends.redis is not None:
                await self._backends.redis.aclose()
            await self._backends.engine.dispose()
        _log.info("centrum stopped")

    def _remote(self, name: str, target: str, *, authenticated: bool) -> aio.AsyncClient:
        """The SDK client of the remote running service `name` (one per service)."""
        if name not in self._remotes:
            self._remotes[name] = open_remote(
                self.settings.remote, target, authenticated=authenticated
            )
        return self._remotes[name]

    def _audit_store(self, backends: _Backends) -> AuditStore:
        """Where audit events go: the remote Audit service when one is set, else the database."""
        target = self.settings.remote.audit
        if target:
            return RemoteAuditStore(self._remote("audit", target, authenticated=True))
        return SqlAuditLog(backends.engine)

    def _key_source(self, auth: ServiceBundle | None) -> KeySource:
        """Where JWT verification keys come from: given, local Auth, or the remote Auth."""
        if self._given_key_source is not None:
            return self._given_key_source
        if auth is not None and auth.key_source is not None:
            return auth.key_source
        target = self.settings.remote.auth
        assert target, "checked when the app was made"
        return RemoteKeySource(self._remote("auth", target, authenticated=False))

    async def _build_services(self, backends: _Backends) -> dict[str, ServiceBundle]:
        """Builds each configured service from its wiring modules, audit and auth first.

        A wiring module that does not exist yet leaves its RPCs answering UNIMPLEMENTED.
        """
        assert self._revocations is not None and self._pipeline is not None
        assert self._master_key is not None
        bundles: dict[str, ServiceBundle] = {}
        order = ("audit", "auth", "config", "notification", "storage")
        for name in sorted(self.settings.services, key=order.index):
            parts = []
            for module_name in catalog.WIRING[name]:
                try:
                    wiring = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != module_name:
                        raise
                    continue
                context = ServiceContext(
                    settings=self.settings,
                    engine=backends.engine,
                    redis=backends.redis,
                    data_dir=self.settings.data_dir,
                    metrics=self.metrics,
                    revocations=self._revocations,
                    audit=self._pipeline,
                    master_key=self._master_key,
                    built=dict(bundles),
                )
                parts.append(await wiring.build(context))
            if parts:
                bundles[name] = ServiceBundle.merge(parts)
        return bundles

    async def _connect_backends(self) -> _Backends:
        engine = create_engine(self.settings.sqlalchemy_url)
        backends = _Backends(engine=engine, redis=None)
        backends.probes.append(("database", lambda: ping(engine)))
        if self.settings.redis_url is not None:
            client = redis.Redis.from_url(
                self.settings.redis_url.get_secret_value(),
                socket_timeout=1.0,
                socket_connect_timeout=1.0,
                health_check_interval=10,
                # One immediate retry replaces a pooled connection that died with a Redis
                # restart; more would hold every call for seconds during a real outage.
                retry=Retry(NoBackoff(), 1),
                retry_on_error=[redis.ConnectionError],
            )
            backends.redis = client

            async def redis_ping() -> bool:
                return bool(await client.ping())

            backends.probes.append(("redis", redis_ping))
        return backends

    def _chain(self, registry: PolicyRegistry, backends: _Backends) -> Chain:
        settings = self.settings
        assert self._revocations is not None and self._pipeline is not None
        auth = self._bundles.get("auth")
        key_source = self._key_source(auth)
        api_keys = auth.api_key_lookup if auth else None
        identities = self._identity_lookup or (auth.identity_lookup if auth else None)
        verifier = CredentialVerifier(
            jwt=JwtVerifier(
                key_source,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                revocations=self._revocations,
            ),
            api_key=(ApiKeyVerifier(api_keys, revocations=self._revocations) if api_keys else None),
            mtls=MtlsVerifier(identities) if identities else None,
        )
        validators = {
            method: validator
            for bundle in self._bundles.values()
            for method, validator in bundle.validators.items()
        }
        limiter: Limiter = InProcessLimiter()
        if backends.redis is not None:
            limiter = RedisLimiter(
                backends.redis,
                fallback=InProcessLimiter(),
                fail_open=settings.rate_limit_fail_open,
                on_backend_error=lambda exc: self.metrics.backend_errors.labels(
                    backend="redis"
                ).inc(),
            )
        return Chain(
            registry,
            [
                TracingStep(),
                RequestContextStep(),
                MetricsStep(self.metrics),
                LoggingStep(),
                select(
                    AdmissionStep(settings.max_calls_in_progress),
                    lambda policy: (
                        settings.max_calls_in_progress > 0 and not policy.response_streaming
                    ),
                ),
                select(
                    AuthStep(verifier, client_certificates=settings.tls_client_ca_file is not None),
                    lambda policy: not policy.public,
                ),
                select(
                    RateLimitStep(limiter, self.metrics),
                    lambda policy: policy.rate_limit is not None,
                ),
                ValidationStep(validators),
                select(AuditStep(self._pipeline), lambda policy: policy.audited),
            ],
            errors=ErrorMapper(translate=database_error),
        )

    def _register(
        self, server: grpc.aio.Server, descriptors: Sequence[descriptor.ServiceDescriptor]
    ) -> None:
        servicers = {e.descriptor.full_name: e.servicer for e in self._extra_services}
        for bundle in self._bundles.values():
            servicers.update(bundle.servicers)
        for service in descriptors:
            servicer = servicers.get(service.full_name) or catalog.unimplemented_servicer(service)
            catalog.add_servicer(server, service, servicer)
        health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, catalog.generic_only(server))
        assert self._backends is not None
        shared = self._backends.probes
        probes = {service.full_name: shared for service in descriptors}
        for name, bundle in self._bundles.items():
            for service in catalog.SERVICES[name]:  # type: ignore[index]
                probes[service.full_name] = [*shared, *bundle.probes]
        self._health_monitor = HealthMonitor(health, probes, self.settings.health_interval_s)
        enable_reflection(
            [
                *(service.full_name for service in descriptors),
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            ],
            server,
        )

    def _bind(self, server: grpc.aio.Server) -> int:
        settings = self.settings
        if settings.tls_cert_file is None or settings.tls_key_file is None:
            return server.add_insecure_port(settings.listen)
        credentials = grpc.ssl_server_credentials(
            [(Path(settings.tls_key_file).read_bytes(), Path(settings.tls_cert_file).read_bytes())],
            root_certificates=(
                Path(settings.tls_client_ca_file).read_bytes()
                if settings.tls_client_ca_file
                else None
            ),
            require_client_auth=settings.tls_client_ca_file is not None,
        )
        return server.add_secure_port(settings.listen, credentials)


def _describe_database(settings: Settings) -> str:
    if settings.database_url is None:
        return f"sqlite:{settings.data_dir / 'centrum.db'}"
    return make_url(settings.database_url.get_secret_value()).render_as_string(hide_password=True)
