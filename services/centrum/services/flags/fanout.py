"""Waking the WatchFlags streams of this process, and of the other replicas through Redis.

A notification only says "environment E of tenant T moved to revision R": the watcher then
reads the change log, the source of truth. A lost notification therefore delays a watcher until
its next progress tick, never loses a change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Protocol

import redis.asyncio as redis
import structlog

from centrum.interceptors.lifecycle import cancel_and_wait

__all__ = ["ChangeNotifier", "Subscription", "Wakeups"]

_log = structlog.get_logger("centrum.flags")


class Wakeups(Protocol):
    """What the domain needs: subscribe to an environment, publish a new revision."""

    def subscribe(self, tenant: str, environment: str) -> Subscription:
        """A subscription woken by every change of the environment."""
        ...

    def unsubscribe(self, subscription: Subscription) -> None:
        """Ends a subscription."""
        ...

    async def publish(self, tenant: str, environment: str, revision: int) -> None:
        """Wakes the environment's watchers here and on every replica."""
        ...


class Subscription:
    """One watcher's wake-up flag."""

    def __init__(self, tenant: str, environment: str) -> None:
        self.key = (tenant, environment)
        self._event = asyncio.Event()

    def wake(self) -> None:
        """Marks that something changed."""
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """Waits for a wake-up (True) or `seconds` to pass (False), and re-arms."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class ChangeNotifier:
    """In-process fan-out, bridged over Redis pub/sub (channel `<prefix><tenant>`) if set."""

    def __init__(self, client: redis.Redis | None, channel_prefix: str = "centrum:flags:") -> None:
        self._redis = client
        self._prefix = channel_prefix
        self._subscriptions: dict[tuple[str, str], set[Subscription]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    def subscribe(self, tenant: str, environment: str) -> Subscription:
        """A subscription woken by every change of the environment."""
        subscription = Subscription(tenant, environment)
        self._subscriptions[subscription.key].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Ends a subscription."""
        members = self._subscriptions.get(subscription.key)
        if members is not None:
            members.discard(subscription)
            if not members:
                del self._subscriptions[subscription.key]

    def _wake(self, key: tuple[str, str]) -> None:
        for subscription in self._subscriptions.get(key, ()):
            subscription.wake()

    def _wake_all(self) -> None:
        for members in self._subscriptions.values():
            for subscription in members:
                subscription.wake()

    async def publish(self, tenant: str, environment: str, revision: int) -> None:
        """Wakes local watchers, then tells the replicas (a failure there only delays them)."""
        self._wake((tenant, environment))
        if self._redis is None:
            return
        try:
            await self._redis.publish(self._prefix + tenant, f"{revision}:{environment}")
        except (redis.RedisError, OSError) as exc:
            _log.warning("flag change not published", error=exc.__class__.__name__)

    async def start(self) -> None:
        """Starts listening to the other replicas (no-op without Redis)."""
        if self._redis is not None and self._task is None:
            self._task = asyncio.create_task(self._listen(self._redis), name="flags-fanout")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), 5)

    async def stop(self) -> None:
        """Stops listening."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _listen(self, client: redis.Redis) -> None:
        delay = 0.1
        while True:
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(self._prefix.replace("*", r"\*") + "*")
                self._listening.set()
                # Changes published while the subscription was down are in the change log.
                self._wake_all()
                delay = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is None or message.get("type") != "pmessage":
                        continue
                    self._deliver(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                _log.warning("flag change subscription lost", error=exc.__class__.__name__)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _deliver(self, channel: bytes | str, data: bytes | str) -> None:
        channel_text = channel.decode() if isinstance(channel, bytes) else channel
        text = data.decode() if isinstance(data, bytes) else data
        tenant = channel_text[len(self._prefix) :]
        _revision, _, environment = text.partition(":")
        self._wake((tenant, environment))
