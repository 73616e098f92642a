"""Synchronous SQLAlchemy work on one pooled connection, run in one hop to its driver.

Through the async engine on SQLite, every statement is several hand-offs between the event
loop and the connection's aiosqlite thread (cursor, execute, fetch, cursor close) and the
connection's return is one more: a read of two statements costs about ten thread hand-offs,
more than SQLite's own work, and a write of seven statements holds a pooled connection through
all of them. `OneHop.run(work)` instead runs `work`, a plain function of a synchronous
`sqlalchemy.Connection`, whole on the connection's aiosqlite thread (the same SQLAlchemy Core
statements, through a synchronous engine bound to that one sqlite3 connection). On PostgreSQL
it runs under `AsyncConnection.run_sync`: the same code, one await per statement.

With `write=True` the work runs in one transaction, committed when it returns and rolled back
when it raises. On SQLite, writers first queue on an asyncio lock per engine (`writer_lock`), so
a waiting writer holds no pooled connection (readers keep finding one), then on the engine's
writer queue with the writers of the other services (`sqlite_writers`). Only work that awaits
nothing may hold the lock, which `run` guarantees: the work is synchronous.

On SQLite at most `SQLITE_SLOTS` reads per engine run at once, beside the one writer the lock
admits (a writer does not queue behind reads); the others wait on the event loop, holding no
connection. SQLite serves a read from its page cache without letting go of the GIL for long, so
more threads running at once only contend for it: with 32 reads in flight, 32 threads spent 2.7
times the CPU per read of 2 (one per core of the machines here).
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

__all__ = ["OneHop", "writer_lock"]

_T = TypeVar("_T")

SQLITE_SLOTS = 2
"""Reads per SQLite engine running at once (see the module docstring)."""

_WRITER_LOCKS: weakref.WeakKeyDictionary[sa.Engine, asyncio.Lock] = weakref.WeakKeyDictionary()
_SLOTS: weakref.WeakKeyDictionary[sa.Engine, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_BOUND_ENGINE_ATTRIBUTE = "_centrum_one_hop_engine"


def writer_lock(engine: AsyncEngine) -> asyncio.Lock:
    """The lock this process's writers of a SQLite database take before checking out a connection.

    OneHop's writes, auth's `writing` and group inserts, the audit log's and the outbox's writes
    all take it, so a queued writer holds no pooled connection. Whoever holds it must not wait
    for another write of the process (only for SQLite itself): a holder that awaited a second
    writer of the same engine would wait for itself.
    """
    lock = _WRITER_LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _WRITER_LOCKS[engine.sync_engine] = asyncio.Lock()
    return lock


def _read_slots(engine: AsyncEngine) -> asyncio.Semaphore:
    slots = _SLOTS.get(engine.sync_engine)
    if slots is None:
        slots = _SLOTS[engine.sync_engine] = asyncio.Semaphore(SQLITE_SLOTS)
    return slots


def _bound_engine(connection: sqlite3.Connection) -> sa.Engine:
    """A synchronous engine whose one connection is `connection` (created once per connection).

    Kept on the connection itself, so the two go away together when the pool closes it (a
    weak-keyed map would keep every closed connection: its engine refers back to it).
    """
    engine: sa.Engine | None = getattr(connection, _BOUND_ENGINE_ATTRIBUTE, None)
    if engine is None:
        engine = sa.create_engine("sqlite://", creator=lambda: connection, poolclass=StaticPool)
        setattr(connection, _BOUND_ENGINE_ATTRIBUTE, engine)
    return engine


class OneHop:
    """Runs synchronous SQLAlchemy work on a connection of `engine`, in one hop on SQLite."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Inspects the engine's driver; nothing touches the database yet."""
        self._engine = engine
        self._sqlite = engine.dialect.driver == "aiosqlite"

    async def run(self, work: Callable[[sa.Connection], _T], *, write: bool = False) -> _T:
        """Runs `work(connection)`; with `write`, in one transaction committed when it returns.

        Raises what the work raises, database errors as SQLAlchemy's `DBAPIError` subclasses,
        as the async API would.
        """
        if not self._sqlite:
            context = self._engine.begin() if write else self._engine.connect()
            async with context as connection:
                return await connection.run_sync(work)
        if write:
            async with writer_lock(self._engine):
                return await self._in_driver_thread(work, write=True)
        async with _read_slots(self._engine):
            return await self._in_driver_thread(work, write=False)

    async def _in_driver_thread(self, work: Callable[[sa.Connection], _T], *, write: bool) -> _T:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            # aiosqlite has no public way to run a function on its thread; `_execute` and
            # `_conn` are what its own methods use (the audit log's DriverRunner does the same).
            driver: Any = raw.driver_connection
            bound = _bound_engine(driver._conn)

            def call() -> _T:
                with bound.begin() if write else bound.connect() as sync:
                    return work(sync)

            result: _T = await driver._execute(call)
            return result
