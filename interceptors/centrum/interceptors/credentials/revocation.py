"""Revoked credentials, checked on every call without a network round trip.

`MemoryRevocations` serves one process. `RedisRevocations` serves a fleet: a revocation is
written to Redis (a key that expires with the credential) and published on a channel; every
replica keeps a local set fed by that channel, reloaded in full on (re)connection, so a revoked
token is refused everywhere within the pub/sub delay (milliseconds), and `is_revoked` stays a set
lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as redis
import structlog

from centrum.interceptors.lifecycle import cancel_and_wait

__all__ = ["MemoryRevocations", "RedisRevocations", "RevocationChecker"]

_log = structlog.get_logger("centrum.revocation")


class RevocationChecker(Protocol):
    """Answers whether a credential id (token `jti`, API key id) has been revoked."""

    def is_revoked(self, credential_id: str) -> bool:
        """Tells whether the credential is revoked; must not block."""
        ...


class MemoryRevocations:
    """Revocations of one process, each forgotten once its credential would have expired."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._revoked: dict[str, float] = {}

    def is_revoked(self, credential_id: str) -> bool:
        """Tells whether the credential is revoked (a revocation ends at its `expires_at`)."""
        expires_at = self._revoked.get(credential_id)
        return expires_at is not None and expires_at > self._clock()

    async def revoke(self, credential_id: str, expires_at: float) -> None:
        """Revokes a credential until `expires_at` (Unix time)."""
        self._note(credential_id, expires_at)

    def _note(self, credential_id: str, expires_at: float) -> None:
        now = self._clock()
        if len(self._revoked) > 1024:
            self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        if expires_at > now:
            self._revoked[credential_id] = expires_at


class RedisRevocations(MemoryRevocations):
    """Revocations shared by every replica through Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "centrum:revoked:",
        clock: Callable[[], float] = time.time,
        reconnect_delay_s: float = 0.5,
    ) -> None:
        super().__init__(clock)
        self._client = client
        self._prefix = prefix
        self._channel = prefix + "events"
        self._reconnect_delay_s = reconnect_delay_s
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        """Starts following revocations; returns once the first full load is done."""
        self._task = asyncio.create_task(self._follow(), name="revocations")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def close(self) -> None:
        """Stops following revocations."""
        await cancel_and_wait(self._task)

    async def revoke(self, credential_id: str, expires_at: float) -> None:
        """Revokes a credential for every replica until `expires_at` (Unix time)."""
        self._note(credential_id, expires_at)
        ttl_ms = int((expires_at - self._clock()) * 1000)
        if ttl_ms <= 0:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(self._prefix + credential_id, str(expires_at), px=ttl_ms)
            pipe.publish(self._channel, f"{credential_id} {expires_at}")
            await pipe.execute()

    async def _follow(self) -> None:
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    await self._load_all()
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            credential_id, _, expires = _text(message["data"]).partition(" ")
                            self._note(credential_id, float(expires or 0))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("revocation feed interrupted; reconnecting", error=str(exc))
                await asyncio.sleep(self._reconnect_delay_s)

    async def _load_all(self) -> None:
        async for key in self._client.scan_iter(match=self._prefix + "*", count=1000):
            name = _text(key)
            if name == self._channel:
                continue
            value = await self._client.get(name)
            if value is not None:
                self._note(name[len(self._prefix) :], float(_text(value)))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
