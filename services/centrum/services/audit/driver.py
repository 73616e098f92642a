"""One hop to the database: synchronous DB-API work run where the driver connection lives.

The audit log's hot paths (a batch append, the reads of a proof, a verification scan) are a
handful of statements each. Issued through SQLAlchemy's async API every statement is a handoff
to the driver and back, and row processing costs more than SQLite's own work. Here the caller
hands over one synchronous function that talks DB-API to the driver connection:

* SQLite (aiosqlite): the function runs on the connection's worker thread against the sqlite3
  connection, so a whole batch, its `executemany` inserts and its commit are one handoff. A
  writing function starts with `BEGIN IMMEDIATE`, which the engine's connection class runs
  through the database's writer queue, shared with every other writer of the process
  (`centrum.services.db.sqlite_writers`); the commit or rollback hands the queue on.
* Any other driver (psycopg, asyncpg): the function runs through `run_sync` on SQLAlchemy's
  adapted DB-API connection (psycopg pipelines an `executemany`).

SQL is written with `?` placeholders and rewritten to the driver's parameter style once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.services.db import writer_lock

__all__ = ["Cursor", "DriverRunner", "Sql", "Work", "insert_rows"]

_T = TypeVar("_T")


class Cursor(Protocol):
    """The part of a DB-API cursor the audit log uses."""

    def execute(self, operation: str, parameters: Sequence[Any] = ..., /) -> Any:
        """Runs one statement."""

    def executemany(self, operation: str, seq_of_parameters: Sequence[Sequence[Any]], /) -> Any:
        """Runs one statement once per parameter row."""

    def fetchone(self) -> Any:
        """The next result row, or None."""

    def fetchall(self) -> Sequence[Any]:
        """Every remaining result row."""


Sql = Callable[[str], str]
"""Rewrites a statement written with `?` placeholders into the driver's parameter style."""

Work = Callable[[Cursor, Sql], _T]
"""Synchronous work against a cursor of the driver connection."""


def _rewriter(paramstyle: str) -> Sql:
    cache: dict[str, str] = {}

    def rewrite(statement: str) -> str:
        found = cache.get(statement)
        if found is None:
            if paramstyle == "qmark":
                found = statement
            elif paramstyle in ("format", "pyformat"):
                found = statement.replace("%", "%%").replace("?", "%s")
            elif paramstyle == "numeric_dollar":
                parts = statement.split("?")
                found = parts[0] + "".join(f"${n}{p}" for n, p in enumerate(parts[1:], start=1))
            else:
                raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")
            cache[statement] = found
        return found

    return rewrite


_MAX_ROWS_PER_STATEMENT = 256
"""Rows per multi-row INSERT: 256 x 17 columns stays far below SQLite's 32,766 parameters and
PostgreSQL's 65,535."""


def insert_rows(
    cursor: Cursor, sql: Sql, insert: str, rows: Sequence[Sequence[Any]], width: int
) -> None:
    """Inserts `rows` (each of `width` values) with `insert` ("INSERT INTO t (a, b) VALUES")
    as multi-row statements.

    Not `executemany`: the sqlite3 module steps the statement once per row, releasing and
    retaking the GIL each time; one statement of many rows is one step, and the audit log's
    rows cost 13-20 % less CPU this way (BENCHMARKS.md). Batches are cut into chunks of powers
    of two so that the driver's statement cache holds a handful of statements, not one per
    batch size.
    """
    placeholders = "(" + ", ".join("?" * width) + ")"
    start = 0
    while start < len(rows):
        count = min(_MAX_ROWS_PER_STATEMENT, 1 << ((len(rows) - start).bit_length() - 1))
        chunk = rows[start : start + count]
        cursor.execute(
            sql(f"{insert} {', '.join([placeholders] * count)}"),
            [value for row in chunk for value in row],
        )
        start += count


def _sqlite_call(connection: sqlite3.Connection, work: Work[_T], sql: Sql, write: bool) -> _T:
    """Runs on the aiosqlite worker thread: `work` in one transaction when it writes."""
    cursor = connection.cursor()
    try:
        if write:
            # IMMEDIATE takes the write lock before anything is read, as the head-row lock does
            # on PostgreSQL; the writer queue (or busy_timeout, across processes) makes a second
            # writer wait for it.
            cursor.execute("BEGIN IMMEDIATE")
        result = work(cursor, sql)
    except BaseException:
        if write:
            connection.rollback()
        raise
    finally:
        cursor.close()
    if write:
        connection.commit()
    return result


class DriverRunner:
    """Runs synchronous DB-API work on a connection of `engine` in one hop."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Inspects the engine's driver; nothing touches the database yet."""
        self._engine = engine
        dbapi: Any = engine.dialect.loaded_dbapi
        self._sqlite = engine.dialect.driver == "aiosqlite"
        self.integrity_error: type[Exception] = (
            sqlite3.IntegrityError if self._sqlite else dbapi.IntegrityError
        )
        self.error: type[Exception] = sqlite3.Error if self._sqlite else dbapi.Error
        self.sql = _rewriter("qmark" if self._sqlite else str(dbapi.paramstyle))

    @property
    def errors(self) -> tuple[type[Exception], ...]:
        """What a failed hop raises when the store is unreachable or refuses the work."""
        return (self.error, DBAPIError, OSError)

    async def run(self, work: Work[_T], *, write: bool = False) -> _T:
        """Runs `work`; with `write`, in one transaction that commits when it returns."""
        if self._sqlite and write:
            # Queued here, a waiting writer holds no pooled connection; the writer queue then
            # lines it up with writers that keep no such lock.
            async with writer_lock(self._engine):
                return await self._run_sqlite(work, write)
        if self._sqlite:
            return await self._run_sqlite(work, write)
        return await self._run_sync(work, write)

    async def _run_sqlite(self, work: Work[_T], write: bool) -> _T:
        async with self._engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            execute = getattr(driver, "_execute", None)
            if execute is not None:
                result: _T = await execute(_sqlite_call, driver._conn, work, self.sql, write)
                return result
        return await self._run_sync(work, write)

    async def _run_sync(self, work: Work[_T], write: bool) -> _T:
        context = self._engine.begin() if write else self._engine.connect()
        async with context as connection:

            def call(sync: Any) -> _T:
                cursor = sync.connection.dbapi_connection.cursor()
                try:
                    return work(cursor, self.sql)
                finally:
                    cursor.close()

            return await connection.run_sync(call)
