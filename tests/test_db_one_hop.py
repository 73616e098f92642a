"""`db.OneHop`: synchronous work on one pooled connection, and the SQLite pool around it.

Real SQLite files and the session's PostgreSQL; a table of this test's own.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.services.db import OneHop, create_engine
from centrum.services.db.one_hop import SQLITE_SLOTS
from centrum.services.db.sqlite_writers import queue_for
from harness.backends import PostgresDatabaseFactory, async_wait_for

PATIENT_S = 60.0

_metadata = sa.MetaData()
rows = sa.Table(
    "one_hop_rows",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
)


@asynccontextmanager
async def _engine_with_rows(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: PostgresDatabaseFactory
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}"
    else:
        url = postgres_database("one_hop")
    async with _engine_with_rows(url) as engine:
        yield engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with _engine_with_rows(f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}") as engine:
        yield engine


def _insert(name: str) -> Callable[[sa.Connection], object]:
    return lambda connection: connection.execute(sa.insert(rows).values(name=name))


def _names(connection: sa.Connection) -> list[str]:
    return list(connection.execute(sa.select(rows.c.name).order_by(rows.c.id)).scalars())


async def test_a_write_commits_and_a_failed_write_leaves_nothing(engine: AsyncEngine) -> None:
    hop = OneHop(engine)
    await hop.run(_insert("kept"), write=True)

    def insert_then_fail(connection: sa.Connection) -> None:
        connection.execute(sa.insert(rows).values(name="undone"))
        raise LookupError("the work's own error")

    with pytest.raises(LookupError, match="the work's own error"):
        await hop.run(insert_then_fail, write=True)
    assert await hop.run(_names) == ["kept"]


async def test_a_database_error_surfaces_as_sqlalchemys(engine: AsyncEngine) -> None:
    """Callers map outages and refusals by SQLAlchemy's exception classes, as for the async API."""
    hop = OneHop(engine)
    await hop.run(lambda c: c.execute(sa.insert(rows).values(id=1, name="a")), write=True)
    with pytest.raises(sa.exc.IntegrityError):
        await hop.run(lambda c: c.execute(sa.insert(rows).values(id=1, name="b")), write=True)
    assert await hop.run(_names) == ["a"]


async def test_queued_writers_hold_no_connection_and_readers_pass_them(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    """Writers behind an open write transaction wait on the writer lock, not in the pool."""
    hop = OneHop(sqlite_engine)
    queue = queue_for(str(tmp_path / "one_hop.db"))
    assert queue is not None
    async with sqlite_engine.connect() as holder:
        await holder.begin()
        await holder.execute(sa.insert(rows).values(name="holder"))
        writers = [asyncio.create_task(hop.run(_insert(f"w{i}"), write=True)) for i in range(5)]
        await async_wait_for(lambda: queue.waiting == 1, PATIENT_S, "the first writer to queue")
        pool = sqlite_engine.pool
        assert isinstance(pool, sa.pool.QueuePool)
        assert pool.checkedout() == 2  # the holder and the first writer, none of the other four
        assert await hop.run(_names) == []  # a reader is served meanwhile
        await holder.commit()
        await asyncio.wait_for(asyncio.gather(*writers), PATIENT_S)
    assert await hop.run(_names) == ["holder", "w0", "w1", "w2", "w3", "w4"]


async def test_at_most_the_read_slots_run_at_once_and_a_write_passes_them(
    sqlite_engine: AsyncEngine,
) -> None:
    hop = OneHop(sqlite_engine)
    release = threading.Event()
    lock = threading.Lock()
    inside = 0
    most = 0

    def blocked_read(connection: sa.Connection) -> int:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        released = release.wait(PATIENT_S)
        with lock:
            inside -= 1
        assert released
        return int(connection.execute(sa.select(sa.func.count()).select_from(rows)).scalar_one())

    reads = [asyncio.create_task(hop.run(blocked_read)) for _ in range(3 * SQLITE_SLOTS)]
    await async_wait_for(lambda: inside == SQLITE_SLOTS, PATIENT_S, "the slots to fill")
    assert not any(read.done() for read in reads)
    await asyncio.wait_for(hop.run(_insert("written"), write=True), PATIENT_S)
    release.set()
    assert await asyncio.wait_for(asyncio.gather(*reads), PATIENT_S) == [1] * len(reads)
    assert most == SQLITE_SLOTS


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    sqlite_engine: AsyncEngine, tmp_path: Path
) -> None:
    """The pool skips the rollback hop only when no transaction is open, never when one is."""
    async with sqlite_engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.execute("INSERT INTO one_hop_rows (name) VALUES ('never committed')")
        assert driver._conn.in_transaction  # opened below SQLAlchemy, which does not know of it
    queue = queue_for(str(tmp_path / "one_hop.db"))
    assert queue is not None and not queue.held
    assert await OneHop(sqlite_engine).run(_names) == []


async def test_a_connection_the_pool_closes_is_freed(tmp_path: Path) -> None:
    """The synchronous engine bound to a SQLite connection leaves with the connection."""
    async with _engine_with_rows(f"sqlite+aiosqlite:///{tmp_path / 'one_hop.db'}") as engine:
        assert await OneHop(engine).run(_names) == []
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            freed = weakref.ref(driver._conn)
        del connection, raw, driver
    gc.collect()
    assert freed() is None
