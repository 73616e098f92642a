"""Watch: every matching change in revision order, exactly once, then live changes.

One `ChangeHub` per process reads the change table from its position onwards whenever it is woken
(a local write, an announcement from another replica, or the poll timer as a safety net) and
hands each change to the subscriptions it matches, advancing its position in the same step. A
watch subscribes first, notes the hub's position P at that moment, replays (cursor, P] from the
database, then takes live changes from its subscription, skipping any at or below its cursor. A
watch that falls too far behind is dropped by the hub and catches up from the database the same
way. The database is the only source of truth; the hub only saves each watcher a query.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from centrum.interceptors.errors import CentrumError
from centrum.services.config.fanout import Announcer
from centrum.services.config.values import Change, KeyFilter, ValueStore

__all__ = ["ChangeHub", "Progress", "Subscription", "watch"]

_log = structlog.get_logger("centrum.config.watch")
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Progress:
    """A checkpoint: every matching change up to `revision` has been delivered."""

    revision: int


class Subscription:
    """Live changes of one watcher, buffered up to a bound."""

    def __init__(self, where: KeyFilter, start: int, capacity: int) -> None:
        self.where = where
        self.start = start
        """The hub's position when subscribed: every later matching change is pushed here."""
        self.lagged = False
        """Set when the buffer overflowed: the watcher must catch up from the database."""
        self._capacity = capacity
        self._pending: collections.deque[Change] = collections.deque()
        self._ready = asyncio.Event()

    def push(self, change: Change) -> None:
        """Buffers a change, or marks the subscription lagged when the buffer is full."""
        if self.lagged:
            return
        if len(self._pending) >= self._capacity:
            self.lagged = True
            self._pending.clear()
        else:
            self._pending.append(change)
        self._ready.set()

    def pop(self) -> Change | None:
        """The oldest buffered change, or None."""
        if self._pending:
            return self._pending.popleft()
        self._ready.clear()
        return None

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - the idle interval
        """Waits up to `timeout` seconds for a change; tells whether one (or a lag) arrived."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set()


class ChangeHub:
    """Reads new changes once per process and fans them out to the local watchers."""

    def __init__(
        self,
        store: ValueStore,
        announcer: Announcer,
        *,
        poll_interval_s: float,
        capacity: int,
    ) -> None:
        self._store = store
        self._announcer = announcer
        self._poll_interval_s = poll_interval_s
        self._capacity = capacity
        self._subscriptions: dict[tuple[str, str], set[Subscription]] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.position = 0
        """The revision up to which every change was handed to the subscriptions."""

    async def start(self) -> None:
        """Starts reading from the store's current head."""
        try:
            self.position = await self._store.head()
        except CentrumError:
            self.position = 0  # the reader catches up (from 0) once the database answers
        self._tasks = [
            asyncio.create_task(self._read_forever(), name="config-change-hub"),
            asyncio.create_task(self._announcer.listen(self.wake), name="config-change-listen"),
        ]

    async def stop(self) -> None:
        """Stops reading."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def wake(self) -> None:
        """Makes the reader look for new changes now."""
        self._wake.set()

    async def committed(self, revision: int) -> None:
        """Called after a local write commits: wakes this hub and announces to the others."""
        self.wake()
        await self._announcer.announce(revision)

    def subscribe(self, where: KeyFilter) -> Subscription:
        """A subscription receiving every matching change after the hub's current position."""
        subscription = Subscription(where, self.position, self._capacity)
        self._subscriptions.setdefault((where.tenant, where.environment), set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stops pushing to `subscription`."""
        where = subscription.where
        group = self._subscriptions.get((where.tenant, where.environment))
        if group is not None:
            group.discard(subscription)
            if not group:
                del self._subscriptions[(where.tenant, where.environment)]

    @property
    def watchers(self) -> int:
        """How many subscriptions are open."""
        return sum(len(group) for group in self._subscriptions.values())

    async def _read_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
            self._wake.clear()
            try:
                await self._drain()
            except CentrumError as exc:
                _log.warning("config change hub cannot read", reason=exc.reason)

    async def _drain(self) -> None:
        while True:
            changes = await self._store.changes(self.position, _BATCH)
            # No await between here and the position update: a subscription taken in between
            # cannot be handed a change it will also replay.
            for change in changes:
                for subscription in list(
                    self._subscriptions.get((change.tenant, change.environment), ())
                ):
                    if subscription.where.matches(change):
                        subscription.push(change)
                self.position = change.revision
            if len(changes) < _BATCH:
                return


async def watch(
    hub: ChangeHub,
    store: ValueStore,
    where: KeyFilter,
    start_revision: int,
    progress_interval_s: float,
) -> AsyncIterator[Change | Progress]:
    """Matching changes from `start_revision` (0: after the head) and progress checkpoints.

    The first item is a Progress at the revision before the first one that can be delivered.
    """
    subscription = hub.subscribe(where)
    try:
        cursor = await store.head() if start_revision == 0 else start_revision - 1
        yield Progress(cursor)
        while True:
            # Replay from the database everything the subscription will not carry.
            upto = subscription.start
            while cursor < upto:
                batch = await store.changes(cursor, _BATCH, where=where, upto=upto)
                for change in batch:
                    yield change
                    cursor = change.revision
                if len(batch) < _BATCH:
                    cursor = upto
            # Then live changes, until the subscription lags behind.
            while not subscription.lagged:
                live = subscription.pop()
                if live is not None:
                    if live.revision > cursor:
                        yield live
                        cursor = live.revision
                    continue
                if not await subscription.wait(progress_interval_s):
                    # Nothing buffered: the hub handed over everything up to its position.
                    cursor = max(cursor, hub.position)
                    yield Progress(cursor)
            hub.unsubscribe(subscription)
            subscription = hub.subscribe(where)
    finally:
        hub.unsubscribe(subscription)
