"""Engines for the embedded (SQLite) and scale-out (PostgreSQL) databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState

from centrum.interceptors.errors import Unavailable
from centrum.services.db.sqlite_writers import WriterConnection

__all__ = [
    "DATABASE_OUTAGES",
    "BackendUnavailable",
    "create_engine",
    "database_error",
    "outage_message",
    "ping",
    "sync_url",
]


class BackendUnavailable(RuntimeError):
    """A backend could not be reached; callers map it to UNAVAILABLE with RetryInfo."""


DATABASE_OUTAGES: tuple[type[Exception], ...] = (OperationalError, InterfaceError, OSError)
"""What a database that is away, restarting, locked or full raises: worth a retry, so services
answer UNAVAILABLE with RetryInfo. Anything else a driver raises (DataError, ProgrammingError,
an unexpected IntegrityError) is a statement the database refused: a bug that a retry repeats,
so it is left to the error mapper, which answers INTERNAL with an error id."""


def outage_message(exc: BaseException) -> str:
    """The driver's own words for a database error, without the statement and parameters
    SQLAlchemy appends to its message (parameters may hold user data)."""
    return str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)


def database_error(exc: BaseException) -> Unavailable | None:
    """The error a caller gets for a database failure no service caught: a full connection
    pool, a lock or connection the driver gave up on, or a store reported unreachable. These are
    the database being busy or away, not a bug, so UNAVAILABLE with RetryInfo, not INTERNAL."""
    if isinstance(exc, PoolTimeout):
        return Unavailable(
            "the database is busy; retry shortly", reason="DATABASE_BUSY", retry_after_s=1.0
        )
    if isinstance(exc, OperationalError | InterfaceError | BackendUnavailable) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return Unavailable(
            "the database is unavailable", reason="DATABASE_UNAVAILABLE", retry_after_s=1.0
        )
    return None


_SQLITE_POOL_SIZE = 32


def create_engine(url: str, *, busy_timeout: float = 30.0) -> AsyncEngine:
    """Creates the async engine for `url`; SQLite files get WAL, foreign keys and a busy timeout.

    On SQLite the driver opens a transaction at the first write of a block, so readers never
    hold a snapshot that a later write would have to upgrade (which fails at once under
    contention instead of waiting). Writers that must read a consistent state first serialise
    by writing first: an UPDATE of a counter or head row takes the database lock, as a row
    lock does on PostgreSQL.

    SQLite connections are `WriterConnection`s: the write transactions of the whole process
    queue for each database file in arrival order (see `sqlite_writers`), and wait for it, as
    for SQLite's own lock, at most `busy_timeout` seconds. PostgreSQL ignores `busy_timeout`.

    The SQLite pool keeps 32 connections (and opens up to 32 more under load): each is a
    sqlite3 connection with a thread of its own, and one opened per call (pool overflow) costs
    more than the call. A connection returning to the pool is rolled back only when it holds a
    transaction (`_rollback_if_open`): every rollback is a hop to the connection's thread.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_async_engine(
            url,
            connect_args={"timeout": busy_timeout, "factory": WriterConnection},
            pool_size=_SQLITE_POOL_SIZE,
            max_overflow=_SQLITE_POOL_SIZE,
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine.pool, "reset", _rollback_if_open)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _rollback_if_open(
    dbapi_connection: Any, record: ConnectionPoolEntry, state: PoolResetState
) -> None:
    """Rolls a SQLite connection back on its return to the pool if a transaction is open."""
    if state.transaction_was_reset or state.terminate_only:
        return
    driver: Any = record.driver_connection  # aiosqlite's connection, idle while returned
    if driver is None or driver._conn.in_transaction:
        dbapi_connection.rollback()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def ping(engine: AsyncEngine) -> bool:
    """Tells whether the database answers a trivial query."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def sync_url(url: str) -> str:
    """The synchronous form of an async URL, for Alembic."""
    return url.replace("sqlite+aiosqlite://", "sqlite://", 1)
