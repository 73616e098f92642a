"""The audit pipeline: group-committed writes to the audit store, with a durable spool behind it.

An audited call hands its serialized event to :meth:`AuditPipeline.record`, which returns once the
event is durable: committed to the store, or fsync'd into the local spool. One writer task takes
everything queued (up to ``max_batch``) and writes it with one store call (group commit). When the
store fails or times out, the batch goes to the spool with one fsync, and later batches follow it
there while the spool holds anything, so events reach the store in the order ``record()`` was
called. A replayer task moves spooled events to the store, oldest first, every
``retry_interval_s``.

Delivery is at least once. The store sees a batch a second time only when it committed the batch
but the pipeline did not learn so: the process died between the store's commit and the write of
the spool's committed offset, or a store call failed or timed out after the store had committed
(for example a response lost on the network). Each event carries a unique id so the store can
ignore such duplicates.

The writer and the replayer never call the store at the same time: the writer calls it only while
the spool is empty, the replayer only while it is not, and only the writer makes it non-empty.

With ``write_ahead=True`` the spool is a write-ahead log: every batch goes to the spool first and
the replayer moves it to the store in the background, so an audited call waits for one local
append (and fsync) instead of a database transaction. ``fsync=False`` skips that fsync: events
then survive the death of the process but not a crash of the machine before they reach the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import structlog

from centrum.interceptors.audit._spool import DEFAULT_SEGMENT_BYTES, MAX_RECORD_BYTES, Spool

__all__ = ["AuditPipeline", "AuditStore", "QueueFull"]

_log = structlog.get_logger(__name__)

_Item = tuple[bytes, asyncio.Future[None]]


class AuditStore(Protocol):
    """Where audit events end up: the Audit service's store, in process or over gRPC."""

    async def append_batch(self, records: Sequence[bytes]) -> None:
        """Append ``records`` in order, all or nothing; raise if they were not appended.

        Calls never overlap. A call that is cancelled (the pipeline's timeout) must leave
        nothing appended unless it already committed.
        """
        ...


class QueueFull(Exception):
    """``max_queue`` events are already waiting to become durable; this one was not taken.

    The caller's event is not recorded: an audited call must not return OK after this.
    """


class AuditPipeline:
    """Makes audit events durable in batches: in the store, or in a local spool until it returns.

    Construct it, ``await start()``, then ``await record(event)`` per audited call;
    ``await close()`` on shutdown. See the module docstring for the guarantees.
    """

    def __init__(
        self,
        store: AuditStore,
        spool_dir: Path,
        *,
        max_batch: int = 2048,
        max_queue: int = 100_000,
        store_timeout_s: float = 2.0,
        retry_interval_s: float = 1.0,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        on_store_error: Callable[[BaseException], None] | None = None,
        write_ahead: bool = False,
        fsync: bool = True,
        replay_linger_s: float = 0.2,
    ) -> None:
        """Configure the pipeline; nothing touches the disk or the store before :meth:`start`.

        ``max_batch``: most events per store call or spool append. ``max_queue``: most events
        waiting to become durable before :meth:`record` raises :class:`QueueFull`.
        ``store_timeout_s``: a store call taking longer counts as failed. ``retry_interval_s``:
        pause between replay attempts while the store fails. ``segment_bytes``: spool segment
        size before rotation. ``on_store_error``: called with every store failure (for a metric).
        """
        if max_batch <= 0 or max_queue <= 0:
            raise ValueError("max_batch and max_queue must be positive")
        if store_timeout_s <= 0 or retry_interval_s <= 0:
            raise ValueError("store_timeout_s and retry_interval_s must be positive")
        self._store = store
        self._spool_dir = spool_dir
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._store_timeout_s = store_timeout_s
        self._retry_interval_s = retry_interval_s
        self._segment_bytes = segment_bytes
        self._on_store_error = on_store_error
        self._write_ahead = write_ahead
        self._fsync = fsync
        # In write-ahead mode nobody waits for the store, so the replayer lets events gather
        # for a moment: one store transaction per many events instead of one per batch. Each
        # transaction and spool commit has a fixed cost (several fsyncs, thread hand-offs),
        # and the replay shares the CPU with the calls, so a fifth of a second is worth it.
        self._replay_linger_s = replay_linger_s if write_ahead else 0.0

        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        # Events handed to record() and not yet durable (queued or in the writer's batch).
        self._waiting = 0
        self._spool: Spool | None = None
        self._writer: asyncio.Task[None] | None = None
        self._replayer: asyncio.Task[None] | None = None
        self._wake_replayer = asyncio.Event()
        self._drain_requested = asyncio.Event()
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._closing = False
        self._stopping_replayer = False
        self._store_healthy = True

    async def start(self) -> None:
        """Open (and after a crash, recover) the spool, then start the writer and the replayer.

        Raises :class:`~centrum.interceptors.audit.SpoolCorruptError` if acknowledged events in
        the spool are damaged; the pipeline does not start then.
        """
        if self._spool is not None:
            raise RuntimeError("audit pipeline already started")
        spool = await asyncio.to_thread(
            Spool.open, self._spool_dir, segment_bytes=self._segment_bytes
        )
        self._spool = spool
        if spool.pending():
            _log.info("audit spool holds events from an earlier run", events=spool.pending())
        self._writer = asyncio.create_task(self._run_writer(), name="audit-writer")
        self._replayer = asyncio.create_task(self._run_replayer(), name="audit-replayer")

    async def record(self, event: bytes) -> None:
        """Return once ``event`` is durable: committed to the store, or fsync'd into the spool.

        Raises :class:`QueueFull` when ``max_queue`` events are already waiting, and the spool's
        error when neither the store nor the spool took the event; in both cases the event is
        not recorded. Cancelling the caller does not withdraw the event.
        """
        if self._writer is None or self._closing or self._writer.done():
            raise RuntimeError("audit pipeline is not running")
        if len(event) > MAX_RECORD_BYTES:
            raise ValueError(f"audit event of {len(event)} bytes exceeds {MAX_RECORD_BYTES}")
        if self._waiting >= self._max_queue:
            raise QueueFull(f"{self._waiting} audit events are waiting (max_queue)")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting += 1
        self._queue.put_nowait((event, done))
        await done

    def depth(self) -> int:
        """Events not yet in the store: waiting to become durable, or spooled."""
        spooled = self._spool.pending() if self._spool is not None else 0
        return self._waiting + spooled

    async def drain(self) -> None:
        """Wait until the queue is empty and the spool replayed as far as the store allows.

        "As far as the store allows": a replay attempt that started after the queue emptied has
        finished, with an empty spool or a store failure. For tests and shutdown; while events
        keep arriving it may not return.
        """
        if self._replayer is None or self._replayer.done():
            raise RuntimeError("audit pipeline is not running")
        await self._queue.join()
        replayed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(replayed)
        self._wake_replayer.set()
        self._drain_requested.set()
        await replayed

    async def close(self) -> None:
        """Make everything queued durable (store or spool), then stop both tasks.

        Spooled events stay on disk for the next start. Idempotent.
        """
        if self._writer is None or self._replayer is None or self._spool is None:
            return
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(None)
        await self._writer
        self._stopping_replayer = True
        self._wake_replayer.set()
        self._drain_requested.set()
        await self._replayer
        await asyncio.to_thread(self._spool.close)

    def _require_spool(self) -> Spool:
        if self._spool is None:  # pragma: no cover - the tasks start after the spool opens
            raise RuntimeError("audit pipeline not started")
        return self._spool

    async def _run_writer(self) -> None:
        """Take up to ``max_batch`` queued events at once and make them durable together."""
        batch: list[_Item] = []
        taken = 0  # queue items taken and not yet marked done, the stop marker included
        try:
            stopping = False
            while not stopping:
                item = await self._queue.get()
                taken = 1
                while item is not None:
                    batch.append(item)
                    if len(batch) >= self._max_batch:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                    taken += 1
                stopping = item is None
                if batch:
                    error = await self._write(batch)
                    self._settle(batch, error)
                    batch = []
                for _ in range(taken):
                    self._queue.task_done()
                taken = 0
        finally:
            # Only reached early if the task is cancelled or has a bug: no caller may believe an
            # event durable that is not, and none may wait forever.
            self._closing = True
            stopped = RuntimeError("audit pipeline stopped before the event became durable")
            self._settle(batch, stopped)
            for _ in range(taken):
                self._queue.task_done()
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is not None:
                    self._settle([item], stopped)
                self._queue.task_done()

    async def _write(self, batch: list[_Item]) -> BaseException | None:
        """Write ``batch`` to the store, or to the spool; return the error if neither took it."""
        spool = self._require_spool()
        events = [event for event, _ in batch]
        if not self._write_ahead and spool.pending() == 0:
            try:
                async with asyncio.timeout(self._store_timeout_s):
                    await self._store.append_batch(events)
            except Exception as exc:
                self._store_failed(exc)
            else:
                self._store_succeeded()
                return None
        try:
            await asyncio.to_thread(spool.append, events, sync=self._fsync)
        except Exception as exc:
            _log.error(
                "audit events lost: store and spool both failed",
                events=len(events),
                error=repr(exc),
            )
            return exc
        if self._write_ahead:
            self._wake_replayer.set()
        return None

    def _settle(self, batch: list[_Item], error: BaseException | None) -> None:
        """Resolve the callers' futures of ``batch`` (a cancelled caller's future is done)."""
        for _, done in batch:
            if not done.done():
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)
        self._waiting -= len(batch)

    async def _run_replayer(self) -> None:
        """Every ``retry_interval_s`` (or when drained), move spooled events to the store."""
        attempt_now = self._require_spool().pending() > 0
        waiters: list[asyncio.Future[None]] = []
        try:
            while True:
                if not attempt_now:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._retry_interval_s):
                            await self._wake_replayer.wait()
                attempt_now = False
                self._wake_replayer.clear()
                if self._stopping_replayer:
                    break
                waiters, self._drain_waiters = self._drain_waiters, []
                await self._replay()
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
                waiters = []
        finally:
            for waiter in waiters + self._drain_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._drain_waiters = []

    async def _replay(self) -> None:
        """Send spooled events to the store in order until the spool is empty or the store fails."""
        spool = self._require_spool()
        while spool.pending() > 0 and not self._stopping_replayer:
            await self._linger(spool)
            try:
                batch = await asyncio.to_thread(spool.read, self._max_batch)
            except Exception as exc:
                _log.error("audit spool unreadable", spool=str(spool.directory), error=repr(exc))
                return
            if batch is None:
                return
            try:
                async with asyncio.timeout(self._store_timeout_s):
                    await self._store.append_batch(batch.records)
            except Exception as exc:
                self._store_failed(exc)
                return
            # At least once: if the process dies before the offset below is written, the next
            # start sends this batch again.
            try:
                await asyncio.to_thread(spool.commit, batch)
            except Exception as exc:
                _log.error(
                    "audit spool offset not written; the store will see a batch again",
                    spool=str(spool.directory),
                    error=repr(exc),
                )
                return
            self._store_succeeded()
        if spool.pending() == 0:
            _log.debug("audit spool replayed")

    async def _linger(self, spool: Spool) -> None:
        """Lets events gather before a store call, unless a batch is full or a drain waits."""
        if not self._replay_linger_s or spool.pending() >= self._max_batch:
            return
        if self._drain_requested.is_set():
            self._drain_requested.clear()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._replay_linger_s):
                await self._drain_requested.wait()
        self._drain_requested.clear()

    def _store_failed(self, exc: BaseException) -> None:
        if self._store_healthy:
            self._store_healthy = False
            _log.warning("audit store unavailable; spooling events", error=repr(exc))
        if self._on_store_error is not None:
            try:
                self._on_store_error(exc)
            except Exception as callback_exc:
                _log.error("audit on_store_error callback failed", error=repr(callback_exc))

    def _store_succeeded(self) -> None:
        if not self._store_healthy:
            self._store_healthy = True
            _log.info("audit store available again")
