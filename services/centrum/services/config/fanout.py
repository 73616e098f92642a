"""How replicas learn that new revisions were committed: a wake-up, never the data itself.

A writer announces the revision it committed; every replica's change hub then re-reads the change
table from its own position. Announcements carry no payload a reader relies on, so a lost, late,
duplicated or foreign message costs at most one extra query: the database stays the only source
of truth. Without Redis the announcer is in-process (one replica needs no messages: local writes
wake the local hub directly).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

__all__ = ["Announcer", "LocalAnnouncer", "RedisAnnouncer"]

_log = structlog.get_logger("centrum.config.fanout")


class Announcer(Protocol):
    """Tells other replicas that a revision was committed, and wakes this one on theirs."""

    async def announce(self, revision: int) -> None:
        """Announces that `revision` is committed (best effort; never raises)."""

    async def listen(self, wake: Callable[[], None]) -> None:
        """Calls `wake` on every announcement of any replica, until cancelled."""


class LocalAnnouncer:
    """The announcer of a single process: there is nobody else to tell."""

    async def announce(self, revision: int) -> None:
        """Nothing to do: local writes wake the local hub themselves."""

    async def listen(self, wake: Callable[[], None]) -> None:
        """Waits until cancelled."""
        await asyncio.Event().wait()


class RedisAnnouncer:
    """Announcements over one Redis pub/sub channel shared by every replica."""

    def __init__(
        self, client: redis.Redis, channel: str, *, reconnect_delay_s: float = 0.5
    ) -> None:
        self._client = client
        self._channel = channel
        self._reconnect_delay_s = reconnect_delay_s

    async def announce(self, revision: int) -> None:
        """Publishes the revision; a Redis failure is logged, and replicas catch up by polling."""
        try:
            await self._client.publish(self._channel, str(revision))
        except (RedisError, OSError) as exc:
            _log.warning("config change announcement failed", error=exc.__class__.__name__)

    async def listen(self, wake: Callable[[], None]) -> None:
        """Subscribes and wakes on every message; resubscribes after a Redis failure."""
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                # Whatever was announced while unsubscribed is in the database: read it now.
                wake()
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None:
                        wake()
            except (RedisError, OSError) as exc:
                _log.warning("config change subscription lost", error=exc.__class__.__name__)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(self._reconnect_delay_s)
