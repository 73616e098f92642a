"""Tests for the audit pipeline: group commit, spooling while the store is down, ordered replay,
restart and kill -9 recovery, and back-pressure."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest

from centrum.interceptors.audit import AuditPipeline, QueueFull, SpoolError
from centrum.interceptors.audit._spool import Spool

_INTERCEPTORS_DIR = Path(__file__).resolve().parents[1] / "interceptors"
_WAIT_S = 10.0
"""Deadline for any polled condition; generous, as tests normally pass in milliseconds."""


class MemoryStore:
    """An audit store in memory that can be taken down, or held inside a call by a gate."""

    def __init__(self) -> None:
        self.records: list[bytes] = []
        self.calls: list[list[bytes]] = []
        self.up = True
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def append_batch(self, records: Sequence[bytes]) -> None:
        self.calls.append(list(records))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if not self.up:
            raise ConnectionError("audit store down")
        self.records.extend(records)


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Poll ``predicate`` until it holds, failing at a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _WAIT_S
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {_WAIT_S}s waiting for {what}")
        await asyncio.sleep(0.002)


def spooled_records(directory: Path) -> list[bytes]:
    """Everything uncommitted in a (closed) spool directory, in order."""
    spool = Spool.open(directory)
    try:
        batch = spool.read(1_000_000)
        return [] if batch is None else batch.records
    finally:
        spool.close()


def events(prefix: str, count: int) -> list[bytes]:
    return [f"{prefix}-{i}".encode() for i in range(count)]


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def started() -> AsyncIterator[list[AuditPipeline]]:
    """Collects pipelines a test starts and closes them afterwards, even when the test fails."""
    pipelines: list[AuditPipeline] = []
    yield pipelines
    for pipeline in pipelines:
        await pipeline.close()


async def start(pipelines: list[AuditPipeline], pipeline: AuditPipeline) -> AuditPipeline:
    await pipeline.start()
    pipelines.append(pipeline)
    return pipeline


async def test_happy_path_group_commits_what_queued_during_a_store_call(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """Events recorded while a store call is in flight go to the store together in one call,
    in record() order, and nothing touches the spool."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    store.gate = asyncio.Event()
    sent = events("e", 100)
    first = asyncio.create_task(pipeline.record(sent[0]))
    await asyncio.wait_for(store.entered.wait(), _WAIT_S)
    rest = [asyncio.create_task(pipeline.record(event)) for event in sent[1:]]
    await wait_until(lambda: pipeline.depth() == 100, "99 events queued behind the first")

    store.gate.set()
    await asyncio.gather(first, *rest)

    assert [len(call) for call in store.calls] == [1, 99]
    assert store.records == sent
    assert pipeline.depth() == 0
    assert list(spool_dir.glob("segment-*")) == []


async def test_max_batch_bounds_each_store_call(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """No store call carries more than max_batch events."""
    pipeline = await start(
        started, AuditPipeline(store, spool_dir, max_batch=10, retry_interval_s=3600)
    )
    store.gate = asyncio.Event()
    sent = events("e", 36)
    first = asyncio.create_task(pipeline.record(sent[0]))
    await asyncio.wait_for(store.entered.wait(), _WAIT_S)
    rest = [asyncio.create_task(pipeline.record(event)) for event in sent[1:]]
    await wait_until(lambda: pipeline.depth() == 36, "35 events queued")

    store.gate.set()
    await asyncio.gather(first, *rest)

    assert [len(call) for call in store.calls] == [1, 10, 10, 10, 5]
    assert store.records == sent


async def test_store_down_record_returns_and_events_wait_in_the_spool(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """With the store down, record() still returns; the events are in the spool, depth() counts
    them, on_store_error sees the failure, and only the first batch paid for a store attempt."""
    errors: list[BaseException] = []
    pipeline = await start(
        started,
        AuditPipeline(store, spool_dir, retry_interval_s=3600, on_store_error=errors.append),
    )
    store.up = False
    sent = events("e", 20)
    for event in sent:
        await pipeline.record(event)

    assert pipeline.depth() == 20
    assert store.records == []
    assert len(store.calls) == 1
    assert len(errors) == 1 and isinstance(errors[0], ConnectionError)
    await pipeline.close()
    assert spooled_records(spool_dir) == sent


async def test_store_timeout_counts_as_failure(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """A store that hangs holds record() only for store_timeout_s; the event is then spooled."""
    errors: list[BaseException] = []
    pipeline = await start(
        started,
        AuditPipeline(
            store,
            spool_dir,
            store_timeout_s=0.05,
            retry_interval_s=3600,
            on_store_error=errors.append,
        ),
    )
    store.gate = asyncio.Event()  # never set: the store call never completes

    await asyncio.wait_for(pipeline.record(b"e-0"), _WAIT_S)

    assert pipeline.depth() == 1
    assert store.records == []
    assert len(errors) == 1 and isinstance(errors[0], TimeoutError)


async def test_replays_in_order_and_empties_the_spool_when_the_store_returns(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """Spooled events reach the store in record() order, in batches of at most max_batch, and
    the spool is empty afterwards."""
    pipeline = await start(
        started, AuditPipeline(store, spool_dir, max_batch=8, retry_interval_s=3600)
    )
    store.up = False
    sent = events("e", 30)
    for event in sent:
        await pipeline.record(event)
    store.up = True
    calls_before = len(store.calls)

    await pipeline.drain()

    assert store.records == sent
    assert [len(call) for call in store.calls[calls_before:]] == [8, 8, 8, 6]
    assert pipeline.depth() == 0
    assert list(spool_dir.glob("segment-*")) == []


async def test_replayer_retries_by_itself(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """Without drain(), the replayer retries every retry_interval_s until the store takes them."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=0.01))
    store.up = False
    sent = events("e", 5)
    for event in sent:
        await pipeline.record(event)
    await wait_until(lambda: len(store.calls) >= 3, "the replayer retrying a failing store")

    store.up = True
    await wait_until(lambda: pipeline.depth() == 0, "the spool to be replayed")
    assert store.records == sent


async def test_events_recorded_after_the_store_returns_follow_the_spooled_ones(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """Once the store is back but the spool is not yet replayed, new events go to the spool
    behind the old ones instead of overtaking them in the store."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    store.up = False
    before = events("before", 3)
    for event in before:
        await pipeline.record(event)
    store.up = True
    after = events("after", 3)
    for event in after:
        await pipeline.record(event)

    assert store.records == []  # the writer did not send "after" straight to the store
    assert pipeline.depth() == 6
    await pipeline.drain()
    assert store.records == before + after


async def test_events_recorded_during_replay_follow_the_replayed_ones(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """While a replay batch is in the store, record() is not held by it, its events queue behind
    the replayed ones, and once the spool is empty events go straight to the store again."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    store.up = False
    spooled = events("spooled", 4)
    for event in spooled:
        await pipeline.record(event)
    store.up = True
    store.gate = asyncio.Event()
    store.entered.clear()
    draining = asyncio.create_task(pipeline.drain())
    await asyncio.wait_for(store.entered.wait(), _WAIT_S)  # the replay call is in the store

    during = events("during", 3)
    for event in during:
        await asyncio.wait_for(pipeline.record(event), _WAIT_S)
    store.gate.set()
    await draining

    assert store.records == spooled + during
    store.gate = None
    await pipeline.record(b"direct")
    assert store.calls[-1] == [b"direct"]
    assert store.records == [*spooled, *during, b"direct"]


async def test_restart_replays_what_the_previous_pipeline_spooled(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """A new pipeline on the same spool directory sends the old pipeline's events first, then
    its own."""
    down = MemoryStore()
    down.up = False
    old = AuditPipeline(down, spool_dir, retry_interval_s=3600)
    await old.start()
    left_behind = events("old", 10)
    for event in left_behind:
        await old.record(event)
    await old.close()

    new = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    assert new.depth() == 10
    await new.record(b"new-0")
    await new.drain()

    assert store.records == [*left_behind, b"new-0"]
    assert new.depth() == 0


async def test_queue_full_when_max_queue_exceeded(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """With max_queue events waiting to become durable, record() raises QueueFull and the event
    is not recorded; once they are durable, record() accepts events again."""
    pipeline = await start(
        started, AuditPipeline(store, spool_dir, max_queue=3, retry_interval_s=3600)
    )
    store.gate = asyncio.Event()
    waiting = [asyncio.create_task(pipeline.record(event)) for event in events("e", 3)]
    await wait_until(lambda: pipeline.depth() == 3, "three events waiting")

    with pytest.raises(QueueFull):
        await pipeline.record(b"rejected")

    store.gate.set()
    await asyncio.gather(*waiting)
    await pipeline.record(b"accepted")
    assert store.records == [*events("e", 3), b"accepted"]


async def test_record_fails_when_neither_store_nor_spool_takes_the_event(
    store: MemoryStore,
    spool_dir: Path,
    started: list[AuditPipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the spool's disk is full while the store is down, record() raises (the call must not
    return OK), the half-written event is cut from the spool, and later events spool normally."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    store.up = False
    await pipeline.record(b"e-0")
    real_write = os.write

    def write_half_then_fail(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        await pipeline.record(b"e-lost")
    monkeypatch.undo()
    assert pipeline.depth() == 1

    await pipeline.record(b"e-2")
    await pipeline.close()
    assert spooled_records(spool_dir) == [b"e-0", b"e-2"]


async def test_spool_that_could_not_undo_a_failed_append_recovers_once_replayed(
    store: MemoryStore,
    spool_dir: Path,
    started: list[AuditPipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an fsync failure the spool refuses appends (record() raises rather than claim
    durability), still replays what it holds, and once that is in the store events flow again
    without a restart."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    store.up = False
    await pipeline.record(b"e-0")

    def fsync_fails(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync_fails)
    with pytest.raises(OSError, match="Input/output"):
        await pipeline.record(b"e-lost")
    monkeypatch.undo()
    with pytest.raises(SpoolError, match="failed to undo"):
        await pipeline.record(b"e-refused")

    store.up = True
    await pipeline.drain()
    await pipeline.record(b"e-3")
    assert store.records == [b"e-0", b"e-3"]
    assert pipeline.depth() == 0


async def test_close_makes_queued_events_durable_and_refuses_new_ones(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """close() waits for everything queued to be durable (here: spooled, as the store fails the
    call it was in), then record() raises."""
    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    store.gate = asyncio.Event()
    sent = events("e", 6)
    recording = [asyncio.create_task(pipeline.record(event)) for event in sent]
    await wait_until(lambda: pipeline.depth() == 6 and store.entered.is_set(), "events queued")

    closing = asyncio.create_task(pipeline.close())
    store.up = False
    store.gate.set()
    await closing
    await asyncio.gather(*recording)

    with pytest.raises(RuntimeError, match="not running"):
        await pipeline.record(b"late")
    assert spooled_records(spool_dir) == sent


_KILLED_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path

    import structlog

    from centrum.interceptors.audit import AuditPipeline

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

    class DownStore:
        async def append_batch(self, records):
            raise ConnectionError("audit store down")

    async def main():
        pipeline = AuditPipeline(
            DownStore(), Path(sys.argv[1]), max_batch=64, retry_interval_s=0.005,
            segment_bytes=4096,
        )
        await pipeline.start()

        async def worker(w):
            i = 0
            while True:
                event_id = f"{w}-{i}"
                await pipeline.record(event_id.encode())
                print(event_id, flush=True)
                i += 1

        await asyncio.gather(*(worker(w) for w in range(8)))

    asyncio.run(main())
    """
)


async def test_kill_9_while_recording_loses_no_acknowledged_event(
    store: MemoryStore, spool_dir: Path, started: list[AuditPipeline]
) -> None:
    """A process SIGKILLed while recording with the store down: a new pipeline replays every
    event whose record() had returned, exactly once, in per-writer order; the only extras are
    events whose record() was still in flight at the kill."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_INTERCEPTORS_DIR), *sys.path])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _KILLED_WRITER,
        str(spool_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    printed: list[str] = []
    try:
        while len(printed) < 3000:
            line = await asyncio.wait_for(proc.stdout.readline(), _WAIT_S)
            if not line:
                stderr = (await proc.stderr.read()).decode(errors="replace")
                raise AssertionError(f"writer exited early ({proc.returncode}):\n{stderr}")
            printed.append(line.decode().strip())
    finally:
        proc.kill()  # SIGKILL
    tail = await proc.stdout.read()
    printed += [line for line in tail.decode().split("\n")[:-1]]  # complete lines only
    assert await proc.wait() == -signal.SIGKILL

    pipeline = await start(started, AuditPipeline(store, spool_dir, retry_interval_s=3600))
    await pipeline.drain()

    stored = [record.decode() for record in store.records]
    assert [event for event, count in Counter(stored).items() if count > 1] == []
    assert set(printed) <= set(stored)
    by_writer: dict[str, list[int]] = {}
    for event_id in stored:
        writer, index = event_id.split("-")
        by_writer.setdefault(writer, []).append(int(index))
    printed_per_writer = Counter(event_id.split("-")[0] for event_id in printed)
    for writer, indexes in by_writer.items():
        assert indexes == list(range(len(indexes))), f"writer {writer} out of order or gapped"
        assert len(indexes) - printed_per_writer[writer] in (0, 1)
    assert pipeline.depth() == 0
    for segment in spool_dir.iterdir():
        assert stat.S_IMODE(segment.stat().st_mode) == 0o600


@pytest.mark.parametrize("fsync", [True, False])
async def test_write_ahead_acknowledges_from_the_spool_and_fills_the_store_in_order(
    spool_dir: Path, store: MemoryStore, started: list[AuditPipeline], fsync: bool
) -> None:
    """In write-ahead mode record() returns once spooled; the replayer then moves the events
    to the store in order, and the spool ends empty."""
    store.gate = asyncio.Event()  # hold the store: acknowledgements must not wait for it
    pipeline = await start(started, AuditPipeline(store, spool_dir, write_ahead=True, fsync=fsync))
    await asyncio.gather(*(pipeline.record(e) for e in events("wal", 50)))
    assert store.records == []
    assert pipeline.depth() == 50
    store.gate.set()
    await pipeline.drain()
    assert store.records == events("wal", 50)
    assert pipeline.depth() == 0
