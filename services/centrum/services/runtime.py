"""What the composition root hands each service, and what each service hands back.

A service package `centrum.services.<name>` exposes `wiring.build(context) -> ServiceBundle`.
The server builds every configured service through it, then registers the servicers, feeds the
credential lookups to the auth step and the validators to the validation step, adds the health
probes, and starts and stops the background work. No service knows how the others were built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis.asyncio as redis
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.audit import AuditRecorder
from centrum.interceptors.credentials import (
    ApiKeyLookup,
    IdentityLookup,
    KeySource,
    MemoryRevocations,
)
from centrum.interceptors.metrics import Metrics
from centrum.interceptors.validation import Validator
from centrum.services.keys import MasterKey

if TYPE_CHECKING:
    from centrum.server.settings import Settings

__all__ = ["Probe", "ServiceBundle", "ServiceContext"]

Probe = Callable[[], Awaitable[bool]]
"""Answers whether one backend of a service is reachable now."""


@dataclass(frozen=True)
class ServiceContext:
    """The shared backends and settings a service is built from."""

    settings: Settings
    engine: AsyncEngine
    redis: redis.Redis | None
    data_dir: Path
    metrics: Metrics
    revocations: MemoryRevocations
    """Revocation set of the chain; `RedisRevocations` (shared by replicas) when Redis is set."""
    audit: AuditRecorder
    """Durable recorder of serialized AuditEvents, for events a service emits itself."""
    master_key: MasterKey
    """The local key-encryption key of the embedded backends (keys, secrets, objects)."""
    built: Mapping[str, ServiceBundle] = field(default_factory=dict)
    """Bundles of the services built before this one (auth and audit come first)."""


@dataclass
class ServiceBundle:
    """A built service: its servicers and what it contributes to the process."""

    servicers: dict[str, Any]
    """Servicer per gRPC service full name (`centrum.auth.v1.AuthService`)."""
    validators: dict[str, Validator] = field(default_factory=dict)
    """Request validators per full method path, run by the chain's validation step."""
    probes: list[tuple[str, Probe]] = field(default_factory=list)
    """Health probes of this service's own backends, by backend name."""
    key_source: KeySource | None = None
    api_key_lookup: ApiKeyLookup | None = None
    identity_lookup: IdentityLookup | None = None
    start: Callable[[], Awaitable[None]] | None = None
    """Starts background work (dispatchers, watchers) once the server is up."""
    stop: Callable[[], Awaitable[None]] | None = None
    """Stops background work during shutdown."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Objects other services may use (e.g. the audit log for the audit step)."""

    @classmethod
    def merge(cls, parts: list[ServiceBundle]) -> ServiceBundle:
        """One bundle from the bundles of several wiring modules of one service."""
        merged = cls(servicers={})
        starts = [p.start for p in parts if p.start is not None]
        stops = [p.stop for p in parts if p.stop is not None]
        for part in parts:
            merged.servicers.update(part.servicers)
            merged.validators.update(part.validators)
            merged.probes.extend(part.probes)
            merged.extra.update(part.extra)
            merged.key_source = merged.key_source or part.key_source
            merged.api_key_lookup = merged.api_key_lookup or part.api_key_lookup
            merged.identity_lookup = merged.identity_lookup or part.identity_lookup

        async def start() -> None:
            for hook in starts:
                await hook()

        async def stop() -> None:
            for hook in reversed(stops):
                await hook()

        merged.start = start if starts else None
        merged.stop = stop if stops else None
        return merged
