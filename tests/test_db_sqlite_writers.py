"""The SQLite writer queue: the write transactions of every service take turns per database file.

Real SQLite files, the services' own stores (auth's `writing`/`GroupInsert`, the audit log's
one-hop appends, config's `ValueStore`) on one engine, as in the server.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.audit.v1 import audit_pb2
from centrum.interceptors.errors import Unavailable
from centrum.services.audit.log import SqlAuditLog
from centrum.services.auth.tables import access_tokens
from centrum.services.auth.transactions import GroupInsert, writing
from centrum.services.config.tables import config_head
from centrum.services.config.values import KeyFilter, ValueStore
from centrum.services.db import BackendUnavailable, create_engine, migrate
from centrum.services.db.sqlite_writers import WriterQueue, queue_for
from harness.backends import async_wait_for

# Long enough that no waiter in these tests gives up unless a test means it to.
PATIENT_S = 60.0


def _event(event_id: str) -> bytes:
    event = audit_pb2.AuditEvent(event_id=event_id, category="test", action="append")
    event.actor.tenant = "acme"
    return event.SerializeToString()


def _token(jti: str) -> dict[str, object]:
    return {
        "jti": jti,
        "tenant": "acme",
        "principal_kind": "user",
        "principal_id": f"p-{jti}",
        "session_id": None,
        "expires_at": 4_000_000_000.0,
        "revoked_at": None,
    }


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    path = tmp_path / "centrum.db"
    await asyncio.to_thread(migrate, f"sqlite+aiosqlite:///{path}")
    return path


@asynccontextmanager
async def engine_on(path: Path, busy_timeout: float = PATIENT_S) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}", busy_timeout=busy_timeout)
    try:
        yield engine
    finally:
        await engine.dispose()


def _queued(queue: WriterQueue, n: int) -> bool:
    return queue.waiting == n


def _queue(path: Path) -> WriterQueue:
    queue = queue_for(str(path))
    assert queue is not None
    return queue


@asynccontextmanager
async def holding(engine: AsyncEngine, path: Path) -> AsyncIterator[AsyncConnection]:
    """An open write transaction that holds the queue until the caller commits or leaves."""
    async with engine.connect() as connection:
        await connection.begin()
        await connection.execute(sa.insert(access_tokens).values(_token("holder")))
        assert _queue(path).held
        yield connection


async def test_writers_of_three_services_all_commit_with_a_short_busy_timeout(
    database: Path,
) -> None:
    """Auth, audit and config writers at once on one engine: every transaction commits.

    Before the queue these writers met in SQLite's busy handler (auth and audit behind asyncio
    locks of their own, config behind none), which polls in sleeps instead of serving waiters in
    order: with a timeout this short some config writes kept losing the lock and failed with
    "database is locked". In the queue nobody waits longer than the writers ahead of it.
    """
    n = 100
    async with engine_on(database, busy_timeout=0.5) as engine:
        tokens = GroupInsert(engine, access_tokens)
        log = SqlAuditLog(engine)
        values = ValueStore(engine)
        start = await log.size()

        async def auth(i: int) -> None:
            await tokens.insert(_token(f"t{i}"))
            async with writing(engine) as connection:
                await connection.execute(
                    sa.update(access_tokens)
                    .where(access_tokens.c.jti == f"t{i}")
                    .values(revoked_at=1.0)
                )

        async def audit(i: int) -> None:
            await log.append_batch([_event(f"e{i}-{j}") for j in range(3)])

        async def config(i: int) -> None:
            await values.put(KeyFilter("acme", "prod", f"k{i % 5}"), b"1", actor="test")

        await asyncio.gather(*(step(i) for i in range(n) for step in (auth, audit, config)))

        assert await log.size() == start + 3 * n
        assert await values.head() == n
        async with engine.connect() as connection:
            revoked = await connection.scalar(
                sa.select(sa.func.count()).where(access_tokens.c.revoked_at.is_not(None))
            )
        assert revoked == n
        assert not _queue(database).held


async def _auth_write(engine: AsyncEngine) -> None:
    async with writing(engine) as connection:
        await connection.execute(sa.insert(access_tokens).values(_token("waiter")))


async def _audit_write(engine: AsyncEngine) -> None:
    await SqlAuditLog(engine).append_batch([_event("waiter")])


async def _config_write(engine: AsyncEngine) -> None:
    await ValueStore(engine).put(KeyFilter("acme", "prod", "k"), b"1", actor="test")


WRITERS: dict[str, Callable[[AsyncEngine], Coroutine[Any, Any, None]]] = {
    "auth": _auth_write,
    "audit": _audit_write,
    "config": _config_write,
}


@pytest.mark.parametrize("service", sorted(WRITERS))
async def test_a_waiting_writer_proceeds_when_the_holder_commits(
    database: Path, service: str
) -> None:
    """Each service's writer queues behind an open write transaction and commits after it."""
    async with engine_on(database) as engine:
        queue = _queue(database)
        async with holding(engine, database) as holder:
            waiter = asyncio.create_task(WRITERS[service](engine))
            await async_wait_for(lambda: queue.waiting == 1, PATIENT_S, f"the {service} writer")
            assert not waiter.done()
            async with engine.connect() as reader:  # readers do not queue
                assert await reader.scalar(sa.select(sa.func.count(access_tokens.c.jti))) == 0
            await holder.commit()
            await asyncio.wait_for(waiter, PATIENT_S)
        assert not queue.held and queue.waiting == 0


async def _next_revision(engine: AsyncEngine) -> int:
    """A write transaction straight to the queue: it takes the next revision of config's head."""
    head = config_head.c
    async with engine.begin() as connection:
        taken = await connection.execute(
            sa.update(config_head)
            .where(head.id == 1)
            .values(revision=head.revision + 1)
            .returning(head.revision)
        )
        return int(taken.scalar_one())


async def test_waiting_writers_are_served_in_arrival_order(database: Path) -> None:
    """Writers queued behind a holder commit in the order they arrived (revisions taken)."""
    async with engine_on(database) as engine:
        queue = _queue(database)
        async with holding(engine, database) as holder:
            writers: list[asyncio.Task[int]] = []
            for queued in range(1, 4):
                writers.append(asyncio.create_task(_next_revision(engine)))
                await async_wait_for(partial(_queued, queue, queued), PATIENT_S, f"writer {queued}")
            await holder.commit()
            revisions = await asyncio.wait_for(asyncio.gather(*writers), PATIENT_S)
        assert revisions == [1, 2, 3]


async def test_a_cancelled_waiter_does_not_keep_the_queue(database: Path) -> None:
    """A writer cancelled while it waits (a caller's deadline) leaves nothing held behind."""
    async with engine_on(database) as engine:
        queue = _queue(database)
        async with holding(engine, database) as holder:
            waiter = asyncio.create_task(_config_write(engine))
            await async_wait_for(lambda: queue.waiting == 1, PATIENT_S, "the waiting writer")
            waiter.cancel()
            await holder.commit()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(waiter, PATIENT_S)
        await async_wait_for(lambda: not queue.held, PATIENT_S, "the queue to be idle")
        async with engine.connect() as connection:
            assert await connection.scalar(sa.select(sa.func.count(access_tokens.c.jti))) == 1
        await _config_write(engine)
        assert not queue.held


async def test_rollback_hands_the_queue_on(database: Path) -> None:
    """A rolled-back transaction releases the queue: the waiter commits, the holder's row is
    gone."""
    async with engine_on(database) as engine:
        queue = _queue(database)
        async with holding(engine, database) as holder:
            waiter = asyncio.create_task(_auth_write(engine))
            await async_wait_for(lambda: queue.waiting == 1, PATIENT_S, "the waiting writer")
            await holder.rollback()
            await asyncio.wait_for(waiter, PATIENT_S)
        async with engine.connect() as connection:
            jtis = (await connection.scalars(sa.select(access_tokens.c.jti))).all()
        assert jtis == ["waiter"]
        assert not queue.held


async def test_a_failed_statement_does_not_keep_the_queue(database: Path) -> None:
    """A statement that fails before opening a transaction releases at once; one that fails
    inside a transaction releases when the transaction rolls back."""
    async with engine_on(database) as engine:
        queue = _queue(database)
        async with engine.connect() as connection:
            await connection.begin()
            with pytest.raises(OperationalError, match="no such table"):
                await connection.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))
            assert not queue.held
            await connection.rollback()

        async with engine.begin() as connection:
            await connection.execute(sa.insert(access_tokens).values(_token("dup")))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(sa.insert(access_tokens).values(_token("dup")))
        assert not queue.held
        await _auth_write(engine)
        assert not queue.held


async def test_a_holder_that_never_commits_fails_the_waiter_like_sqlite(database: Path) -> None:
    """A waiter gives up after the busy timeout with SQLite's own error, which each service maps
    as before (config: UNAVAILABLE, audit: BackendUnavailable); nothing hangs, and the queue
    works on afterwards."""
    async with engine_on(database, busy_timeout=0.2) as engine:
        queue = _queue(database)
        async with holding(engine, database) as holder:
            with pytest.raises(OperationalError) as raised:
                await asyncio.wait_for(_auth_write(engine), PATIENT_S)
            error = raised.value.orig
            assert isinstance(error, sqlite3.OperationalError)
            assert str(error) == "database is locked"
            assert error.sqlite_errorname == "SQLITE_BUSY"
            with pytest.raises(Unavailable):
                await asyncio.wait_for(_config_write(engine), PATIENT_S)
            with pytest.raises(BackendUnavailable) as audit_raised:
                await asyncio.wait_for(_audit_write(engine), PATIENT_S)
            assert str(audit_raised.value.__cause__) == "database is locked"
            assert queue.held and queue.waiting == 0
            await holder.commit()
        await _config_write(engine)
        assert not queue.held


async def test_a_nested_write_transaction_times_out_instead_of_hanging(database: Path) -> None:
    """A coroutine that opens a second write transaction inside its own would wait for itself
    (in SQLite as in the queue): it fails after the busy timeout and the outer one commits."""
    async with engine_on(database, busy_timeout=0.2) as engine:
        async with engine.begin() as outer:
            await outer.execute(sa.insert(access_tokens).values(_token("outer")))
            with pytest.raises(OperationalError, match="database is locked"):
                async with engine.begin() as inner:
                    await asyncio.wait_for(
                        inner.execute(sa.insert(access_tokens).values(_token("inner"))), PATIENT_S
                    )
        async with engine.connect() as connection:
            jtis = (await connection.scalars(sa.select(access_tokens.c.jti))).all()
        assert jtis == ["outer"]


async def test_engines_share_the_queue_of_their_file_only(database: Path, tmp_path: Path) -> None:
    """Two engines on one file queue together; a writer of another file does not wait."""
    other = tmp_path / "other" / "centrum.db"
    await asyncio.to_thread(migrate, f"sqlite+aiosqlite:///{other}")
    async with (
        engine_on(database) as first,
        engine_on(database) as second,
        engine_on(other) as elsewhere,
    ):
        queue = _queue(database)
        async with holding(first, database) as holder:
            waiter = asyncio.create_task(_audit_write(second))
            await async_wait_for(lambda: queue.waiting == 1, PATIENT_S, "the second engine")
            await asyncio.wait_for(_audit_write(elsewhere), PATIENT_S)
            assert not waiter.done()
            await holder.commit()
            await asyncio.wait_for(waiter, PATIENT_S)
        assert not queue.held


def test_in_memory_databases_have_no_queue() -> None:
    """A private in-memory database has no other connection to wait for."""
    assert queue_for(":memory:") is None
    assert queue_for("file:scratch?mode=memory&cache=shared", uri=True) is None
    assert queue_for("file:/tmp/a.db?mode=rwc", uri=True) is queue_for("/tmp/a.db")
