"""One queue per SQLite database file for the write transactions of this process.

SQLite admits one writer per database. A writer that finds the lock taken waits in SQLite's
busy handler, which polls in sleeps of up to 100 ms instead of waking when the lock frees: under
sustained load from several services the waiters fall behind, hold their pooled connections and
exhaust the pool. Here every write transaction of the process first takes its database's
`WriterQueue`, in arrival order, and the holder hands it straight to the next waiter at commit or
rollback, so SQLite's own lock is free whenever a connection asks for it.

The queue lives below SQLAlchemy, in the sqlite3 connection class the engine's driver creates
(`WriterConnection`), so every path is covered without the services knowing: SQLAlchemy
statements, raw DB-API work run on the driver connection (the audit log's `BEGIN IMMEDIATE`
batches) and anything else that executes SQL on it. All of it runs on the connection's aiosqlite
worker thread: a waiting writer blocks only that thread while its coroutine awaits, and the
event loop keeps serving.

* Taken by the first statement that writes: INSERT, UPDATE, DELETE, REPLACE (before which the
  sqlite3 module opens the transaction), a CTE that writes, DDL, `BEGIN IMMEDIATE` or `BEGIN
  EXCLUSIVE`, or a script. Reads never wait for it.
* Held until the connection is no longer in a transaction: checked after every commit, rollback
  and statement (a failed statement that ends the transaction, or one that wrote in autocommit,
  releases at once), and on close, which SQLAlchemy also uses to invalidate or terminate.
* Waited for at most the connection's busy timeout; then the statement fails as SQLite's own
  busy handler would, with `sqlite3.OperationalError("database is locked")` (SQLITE_BUSY), so
  callers map it the same way.

Why this cannot deadlock, only time out as SQLite would: the queue is never waited for on the
event loop's thread, so a queued writer stops no other coroutine; it is owned by a connection
(not a thread or a coroutine), and a connection holding it never waits for it again. A wait-for
cycle therefore needs the holder's coroutine to wait, inside its own write transaction, for
something that waits for the queue: a write transaction on a second connection (which deadlocks
on SQLite's own lock just the same), an asyncio lock whose owner's connection is queued (auth and
the audit log keep no such lock any more; one taken before checking out a connection, as a
service-level writer lock is, never waits inside a write transaction), or a pooled connection
while queued writers hold them all (bounded by the pool's timeout). Every such cycle contains a
wait for the queue, and that wait ends after the busy timeout with the error SQLite would raise:
the transaction rolls back, the cycle breaks, nothing waits forever. Writers of other processes
still meet SQLite's busy handler, as before.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ["WriterConnection", "WriterCursor", "WriterQueue", "queue_for"]

_WRITES = re.compile(
    r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER"
    r"|BEGIN\s+(?:IMMEDIATE|EXCLUSIVE)"
    r"|WITH\b.*\b(?:INSERT|UPDATE|DELETE|REPLACE))\b",
    re.IGNORECASE | re.DOTALL,
)


class WriterQueue:
    """First come, first served: one holder at a time, handed straight to the next waiter."""

    __slots__ = ("__weakref__", "_held", "_mutex", "_waiting")

    def __init__(self) -> None:
        """An idle queue."""
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        """Waits up to `timeout` seconds for the queue; tells whether the caller now holds it."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=max(timeout, 0.0)):
            return True
        with self._mutex:
            try:
                self._waiting.remove(turn)
            except ValueError:
                return True  # handed over between the timeout and here
            return False

    def release(self) -> None:
        """Hands the queue to the longest waiter, or leaves it idle."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False

    @property
    def held(self) -> bool:
        """Whether some connection holds the queue (for tests and diagnostics)."""
        return self._held

    @property
    def waiting(self) -> int:
        """How many connections wait for the queue."""
        return len(self._waiting)


_QUEUES: weakref.WeakValueDictionary[str, WriterQueue] = weakref.WeakValueDictionary()
_QUEUES_MUTEX = threading.Lock()


def queue_for(database: str | bytes | os.PathLike[str], *, uri: bool = False) -> WriterQueue | None:
    """The queue of the database file `database` names; None for an in-memory database."""
    name = os.fsdecode(database)
    if uri and name.startswith("file:"):
        parts = urlsplit(name)
        if "memory" in parse_qs(parts.query).get("mode", []):
            return None
        name = parts.path
    if name in ("", ":memory:"):
        return None
    key = os.path.realpath(name)
    with _QUEUES_MUTEX:
        queue = _QUEUES.get(key)
        if queue is None:
            queue = _QUEUES[key] = WriterQueue()
        return queue


def _locked() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = 5
    error.sqlite_errorname = "SQLITE_BUSY"
    return error


class WriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions take their database's `WriterQueue`.

    Pass it as `factory` to `sqlite3.connect`; `timeout` (the busy timeout) also bounds the wait
    for the queue.
    """

    def __init__(
        self,
        database: str | bytes | os.PathLike[str],
        timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        """Opens the connection (keyword arguments as `sqlite3.connect`'s) and finds its queue."""
        super().__init__(database, timeout, **kwargs)
        self._writer_queue = queue_for(database, uri=bool(kwargs.get("uri", False)))
        self._writer_timeout = timeout
        self._writing = False

    @property
    def holds_writer_queue(self) -> bool:
        """Whether this connection holds its database's queue."""
        return self._writing

    def cursor(self, factory: Any = None) -> Any:
        """A cursor that takes the queue at the first write statement."""
        return super().cursor(factory or WriterCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """Runs one statement on a new cursor (through the queue when it writes)."""
        cursor: sqlite3.Cursor = self.cursor().execute(sql, parameters)
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        """Runs one statement per parameter row on a new cursor."""
        cursor: sqlite3.Cursor = self.cursor().executemany(sql, parameters)
        return cursor

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """Runs a script on a new cursor (always through the queue)."""
        cursor: sqlite3.Cursor = self.cursor().executescript(sql_script)
        return cursor

    def commit(self) -> None:
        """Commits, then hands the queue on."""
        try:
            super().commit()
        finally:
            self._settle()

    def rollback(self) -> None:
        """Rolls back, then hands the queue on."""
        try:
            super().rollback()
        finally:
            self._settle()

    def close(self) -> None:
        """Closes (rolling back what is open), then hands the queue on."""
        try:
            super().close()
        finally:
            self._release()

    def __del__(self) -> None:
        self._release()

    def _before(self, sql: str | None) -> None:
        """Takes the queue before `sql` (None: a script) when it writes."""
        if self._writing or self._writer_queue is None:
            return
        if sql is not None and _WRITES.match(sql) is None:
            return
        if not self._writer_queue.acquire(self._writer_timeout):
            raise _locked()
        self._writing = True

    def _settle(self) -> None:
        """Hands the queue on once no transaction is open."""
        if not self._writing:
            return
        try:
            open_transaction = self.in_transaction
        except sqlite3.ProgrammingError:
            open_transaction = False  # closed
        if not open_transaction:
            self._release()

    def _release(self) -> None:
        if getattr(self, "_writing", False):
            self._writing = False
            assert self._writer_queue is not None
            self._writer_queue.release()


class WriterCursor(sqlite3.Cursor):
    """A cursor of a `WriterConnection`: its write statements go through the queue."""

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        """Runs one statement, first taking the queue if it writes."""
        connection = self._writer()
        connection._before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            connection._settle()

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Self:
        """Runs one statement per parameter row, first taking the queue if it writes."""
        connection = self._writer()
        connection._before(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            connection._settle()

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        """Runs a script, first taking the queue."""
        connection = self._writer()
        connection._before(None)
        try:
            return super().executescript(sql_script)
        finally:
            connection._settle()

    def _writer(self) -> WriterConnection:
        connection = self.connection
        assert isinstance(connection, WriterConnection)
        return connection
