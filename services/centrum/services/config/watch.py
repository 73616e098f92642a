"""Watch: every matching change in revision order, exactly once, then live changes.

One `ChangeHub` per process reads the change table from its position onwards whenever it is woken
(a local write, an announcement from another replica, or the poll timer as a safety net) and
hands each change to the subscriptions it matches, advancing its position in the same step. A
watch subscribes first, notes the hub's position P at that moment, replays (cursor, P] from the
database, then takes live changes from its subscription, skipping any at or below its cursor. A
watch that falls too far behind is dropped by the hub and catches up from the database the same
way. The database is the only source of truth; the hub only saves each watcher a query.

History compaction (the last N revisions per key) can remove changes a watcher has not seen: a
watch resuming below a selected key's compaction watermark, or whose replay raced a compaction,
ends with OUT_OF_RANGE (REVISION_COMPACTED) and the client lists again. When the hub finds that
rows were removed above its own position it cannot know whose, so every watcher catches up from
the database, where that check is made per filter.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog

from centrum.interceptors.errors import CentrumError
from centrum.interceptors.lifecycle import cancel_and_wait
from centrum.services.config.fanout import Announcer
from centrum.services.config.values import Change, KeyFilter, ValueStore, compacted_error

__all__ = ["ChangeHub", "Progress", "Subscription", "watch"]

_log = structlog.get_logger("centrum.config.watch")
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Progress:
    """A checkpoint: every matching change up to `revision` has been delivered."""

    revision: int


class Subscription:
    """Live changes of one watcher, buffered up to a bound."""

    __slots__ = ("_capacity", "_pending", "_waiter", "lagged", "start", "where")

    def __init__(self, where: KeyFilter, start: int, capacity: int) -> None:
        self.where = where
        self.start = start
        """The hub's position when subscribed: every later matching change is pushed here."""
        self.lagged = False
        """Set when the buffer overflowed: the watcher must catch up from the database."""
        self._capacity = capacity
        self._pending: collections.deque[Change] = collections.deque()
        self._waiter: asyncio.Future[bool] | None = None

    def push(self, change: Change) -> None:
        """Buffers a change, or marks the subscription lagged when the buffer is full."""
        if self.lagged:
            return
        if len(self._pending) >= self._capacity:
            self.overflow()
            return
        self._pending.append(change)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    def overflow(self) -> None:
        """Marks the subscription lagged: the watcher catches up from the database."""
        self.lagged = True
        self._pending.clear()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    def pop(self) -> Change | None:
        """The oldest buffered change, or None."""
        if self._pending:
            return self._pending.popleft()
        return None

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - the idle interval
        """Waits up to `timeout` seconds for a change; tells whether one (or a lag) arrived."""
        if self._pending or self.lagged:
            return True
        # One bare future and one timer per wait: a change wakes exactly the watcher's own task
        # (asyncio.wait_for would start a task per wait and take two more loop turns per change).
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter)
        self._waiter = waiter
        try:
            return await waiter
        finally:
            self._waiter = None
            timer.cancel()


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


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
        self._compaction_seen = 0

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
            await cancel_and_wait(task)
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
            changes, removed = await self._store.changes_for_hub(self.position, _BATCH)
            # No await between here and the position update: a subscription taken in between
            # cannot be handed a change it will also replay.
            if removed > max(self.position, self._compaction_seen):
                self._compaction_seen = removed
                # Compaction may have removed changes before they were read here: every watcher
                # catches up from the database, where it learns whether its keys lost any.
                for group in self._subscriptions.values():
                    for subscription in group:
                        subscription.overflow()
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
        if start_revision:
            await _ensure_kept(store, where, cursor)
        yield Progress(cursor)
        while True:
            # Replay from the database everything the subscription will not carry.
            upto = subscription.start
            replayed_from = cursor
            while cursor < upto:
                batch = await store.changes(cursor, _BATCH, where=where, upto=upto)
                for change in batch:
                    yield change
                    cursor = change.revision
                if len(batch) < _BATCH:
                    cursor = upto
            if replayed_from < upto:
                # Compaction may have removed rows while they were being read.
                await _ensure_kept(store, where, replayed_from)
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


async def _ensure_kept(store: ValueStore, where: KeyFilter, cursor: int) -> None:
    """Raises REVISION_COMPACTED unless every matching change after `cursor` is still stored."""
    removed = await store.compacted(where)
    if removed > cursor:
        raise compacted_error(where, cursor + 1, removed)
