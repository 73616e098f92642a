"""Write transactions that take the write lock first, and group commits of hot inserts.

The SQLite engine opens deferred transactions: a transaction that reads and then writes fails
with SQLITE_BUSY when another connection wrote in between. Starting every write transaction
with a write statement (one that changes no row) takes the lock up front. The engine's writer
queue (`centrum.services.db.sqlite_writers`) lines every write transaction of the process up
for SQLite's lock; auth's writers first take the engine's writer lock (`db.writer_lock`), shared
with the other services' writers, because waiting there holds no pooled connection (a burst of
logins would otherwise hold one each while it waits). Code inside a `writing` block must not
wait for another write of the process. On PostgreSQL the statement and the lock are skipped.

`GroupInsert` batches concurrent inserts into one transaction (group commit): each caller still
returns only once its row is committed. An insert-only transaction needs no up-front write
statement: its first statement is the write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.services.auth.tables import keyring_secrets
from centrum.services.db import writer_lock

__all__ = ["GroupInsert", "writing"]

_TAKE_WRITE_LOCK = (
    sa.update(keyring_secrets)
    .where(sa.literal(False))
    .values(created_at=keyring_secrets.c.created_at)
)


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction holding the database's write lock (SQLite) from its first statement."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            yield connection
        return
    async with writer_lock(engine), engine.begin() as connection:
        await connection.execute(_TAKE_WRITE_LOCK)
        yield connection


class GroupInsert:
    """Inserts rows of one table, batching the rows of concurrent callers per transaction."""

    def __init__(self, engine: AsyncEngine, table: sa.Table, max_batch: int = 500) -> None:
        self._engine = engine
        self._table = table
        self._max_batch = max_batch
        self._pending: list[tuple[Mapping[str, Any], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def insert(self, row: Mapping[str, Any]) -> None:
        """Inserts `row`; returns once it is committed (raises what the commit raised)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                await self._commit([row for row, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _commit(self, rows: list[Mapping[str, Any]]) -> None:
        if self._engine.dialect.name != "sqlite":
            async with self._engine.begin() as connection:
                await connection.execute(sa.insert(self._table), rows)
            return
        async with writer_lock(self._engine), self._engine.begin() as connection:
            await connection.execute(sa.insert(self._table), rows)
