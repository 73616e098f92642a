"""The audit log store: gap-free, duplicate-free appends with the Merkle tree kept beside them.

Appends of every replica serialise on the single `audit_head` row (a row lock on PostgreSQL, the
database lock on SQLite), so indices are dense and each event id is stored once per tenant:
a replayed event (the audit spool delivers at least once) is recognised and skipped. The same
transaction that inserts a batch's entries inserts the subtree hashes the batch completes and
moves the head's compact range (see `merkle`), so the tree can never disagree with the entries,
also after a crash.

Leaf values are the deterministic protobuf encoding of the complete event (integrated time set,
unknown fields dropped); see `LEAF_ENCODING_PROTOBUF_DETERMINISTIC` in the contract. They are
encoded and hashed before the head row is locked, so the lock is held for the inserts only.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256 as _sha256
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.audit.v1 import audit_pb2
from centrum.services.audit import merkle
from centrum.services.audit.driver import Cursor, DriverRunner, Sql, Work, insert_rows
from centrum.services.audit.merkle import leaf_hash
from centrum.services.audit.tables import (
    PRUNABLE_COLUMNS,
    audit_checkpoints,
    audit_entries,
    audit_head,
    audit_signing_keys,
)
from centrum.services.db import BackendUnavailable

__all__ = [
    "AppendOutcome",
    "EventConflict",
    "SqlAuditLog",
    "StoredCheckpoint",
    "StoredEntry",
    "StoredKey",
    "TreeHead",
    "encode_event",
    "leaf_hash",
]

_T = TypeVar("_T")
_IN_CHUNK = 900
"""Most bound parameters per IN list (SQLite allows 32766, PostgreSQL 65535)."""
_CACHED_LEVEL = 8
"""Complete subtrees of 256 leaves and more are cached once a proof resolved them."""
_CACHE_LIMIT = 1 << 17
"""Most cached subtree hashes (about 17 MB); the cache starts over beyond it."""


class EventConflict(Exception):
    """An event id of the tenant already holds an event with other content."""

    def __init__(self, tenant: str, event_id: str, index: int) -> None:
        super().__init__(f"event {event_id!r} already exists at index {index} with other content")
        self.tenant = tenant
        self.event_id = event_id
        self.index = index


@dataclass(slots=True)
class AppendOutcome:
    """Where one appended event ended up (not frozen: a frozen init costs 5x, once per event)."""

    index: int
    leaf_hash: bytes
    integrated_ns: int
    deduplicated: bool


@dataclass(slots=True)
class StoredEntry:
    """One row of the log; `payload` (the leaf value) is None once pruned.

    Not frozen for the same reason as :class:`AppendOutcome`: verification makes one per leaf.
    """

    index: int
    tenant: str
    event_id: str
    integrated_ns: int
    leaf_hash: bytes
    payload: bytes | None


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The current tree: its size, root hash and compact range."""

    size: int
    root: bytes
    compact: merkle.CompactRange


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A signed checkpoint as stored."""

    tree_size: int
    root_hash: bytes
    timestamp_ns: int
    key_id: bytes
    note: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A checkpoint signing key as stored (the private half encrypted under the master key)."""

    key_id: bytes
    key_name: str
    public_key: bytes
    private_key: bytes
    create_ns: int


@dataclass(slots=True)
class _Prepared:
    event: audit_pb2.AuditEvent
    leaf: bytes
    integrated_ns: int
    row: tuple[str, str, *tuple[object, ...]]
    """The entry's columns after `idx`, in :data:`_INSERT_ENTRIES` order (tenant, event id
    first)."""

    @property
    def key(self) -> tuple[str, str]:
        """(tenant, event id): what the log stores once."""
        return self.row[0], self.row[1]


_INSERT_ENTRIES = (
    "INSERT INTO audit_entries (idx, tenant, event_id, integrated_ns, leaf_hash, payload, "
    "category, action, outcome, severity, actor_id, resource_type, resource_id, request_id, "
    "trace_id, correlation_id, transaction_id) VALUES"
)
_ENTRY_WIDTH = 17
_INSERT_NODES = "INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)"
# Writing the head row first takes the write lock on both engines (a row lock on PostgreSQL;
# on SQLite the transaction is BEGIN IMMEDIATE already) before the size is read.
_LOCK_HEAD = (
    "UPDATE audit_head SET tree_size = tree_size WHERE id = 1 RETURNING tree_size, compact_range"
)
_MOVE_HEAD = "UPDATE audit_head SET tree_size = ?, compact_range = ? WHERE id = 1"
_ENTRY_SELECT = "SELECT idx, tenant, event_id, integrated_ns, leaf_hash, payload FROM audit_entries"
_NS = 1_000_000_000


def encode_event(event: audit_pb2.AuditEvent) -> bytes:
    """The leaf value of an event: its deterministic protobuf encoding without unknown fields."""
    event.DiscardUnknownFields()
    return event.SerializeToString(deterministic=True)


def _prepare(event: audit_pb2.AuditEvent, now_ns: int, seconds: int, nanos: int) -> _Prepared:
    """Stamps `event` with the integration time (`now_ns`, also as `seconds` and `nanos`),
    encodes and hashes it, and copies out its filter columns. Runs once per appended event, so
    every protobuf field is read once."""
    stamp = event.integrated_time
    stamp.seconds = seconds
    stamp.nanos = nanos
    if event.severity == audit_pb2.AUDIT_SEVERITY_UNSPECIFIED:
        event.severity = audit_pb2.AUDIT_SEVERITY_INFO
    payload = encode_event(event)
    leaf = _sha256(b"\x00" + payload).digest()
    actor = event.actor
    resource = event.resource
    correlation = event.correlation
    return _Prepared(
        event,
        leaf,
        now_ns,
        (
            actor.tenant,
            event.event_id,
            now_ns,
            leaf,
            payload,
            event.category or None,
            event.action or None,
            event.outcome,
            event.severity,
            actor.principal_id or None,
            resource.type or None,
            resource.id or None,
            correlation.request_id or None,
            correlation.trace_id or None,
            correlation.correlation_id or None,
            event.financial.transaction_id or None,
        ),
    )


def _same_content(stored: bytes | None, event: audit_pb2.AuditEvent) -> bool:
    """Tells whether a stored leaf value holds `event` apart from the server-set fields."""
    if stored is None:
        return True  # pruned: the content can no longer be compared
    before = audit_pb2.AuditEvent.FromString(stored)
    after = audit_pb2.AuditEvent()
    after.CopyFrom(event)
    for message in (before, after):
        message.ClearField("integrated_time")
        message.ClearField("submitter")
    return before.SerializeToString(deterministic=True) == after.SerializeToString(
        deterministic=True
    )


_CHECKPOINT_COLUMNS = ("tree_size", "root_hash", "timestamp_ns", "key_id", "note")
# Built from the constant column names above, so nothing outside can reach the statement.
_CHECKPOINT_SELECT = f"SELECT {', '.join(_CHECKPOINT_COLUMNS)} FROM audit_checkpoints"  # noqa: S608


def _checkpoint(row: Sequence[Any]) -> StoredCheckpoint:
    """A StoredCheckpoint of a row in `_CHECKPOINT_COLUMNS` order."""
    tree_size, root_hash, timestamp_ns, key_id, note = row
    return StoredCheckpoint(
        int(tree_size), bytes(root_hash), int(timestamp_ns), bytes(key_id), str(note)
    )


def _entry(row: Any) -> StoredEntry:
    return _raw_entry(tuple(row))


def _raw_entry(row: Sequence[Any]) -> StoredEntry:
    """A StoredEntry of a row in `_ENTRY_SELECT` column order."""
    index, tenant, event_id, integrated_ns, leaf, payload = row
    return StoredEntry(
        int(index),
        str(tenant),
        str(event_id),
        int(integrated_ns),
        bytes(leaf),
        None if payload is None else bytes(payload),
    )


_ENTRY_COLUMNS = (
    audit_entries.c.idx,
    audit_entries.c.tenant,
    audit_entries.c.event_id,
    audit_entries.c.integrated_ns,
    audit_entries.c.leaf_hash,
    audit_entries.c.payload,
)


class SqlAuditLog:
    """The audit log in the relational database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        on_append: Callable[[], None] | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """`on_append` is called after each commit that added entries (to wake readers)."""
        self._engine = engine
        self._driver = DriverRunner(engine)
        self._on_append = on_append
        self._clock_ns = clock_ns
        self._upper: dict[merkle.NodeId, bytes] = {}

    @property
    def engine(self) -> AsyncEngine:
        """The database engine of the store."""
        return self._engine

    async def _hop(self, work: Work[_T], *, write: bool = False) -> _T:
        """Runs `work` on the driver's side (see `driver`); an unreachable store is
        BackendUnavailable."""
        try:
            return await self._driver.run(work, write=write)
        except self._driver.errors as exc:
            raise BackendUnavailable(f"audit store unavailable: {exc.__class__.__name__}") from exc

    # -- appending ---------------------------------------------------------------------------

    async def append_batch(self, records: Sequence[bytes]) -> None:
        """Appends serialized AuditEvents in order, skipping event ids already stored."""
        events = [audit_pb2.AuditEvent.FromString(record) for record in records]
        await self.append(events, strict=False)

    async def append(
        self, events: Sequence[audit_pb2.AuditEvent], *, strict: bool = True
    ) -> list[AppendOutcome]:
        """Appends events in order, all or nothing, and says where each one is.

        Each event gets its integrated time (and default severity) set in place. An event whose
        (tenant, event_id) is stored already is not appended again: its outcome names the stored
        entry with `deduplicated` set. With `strict`, a stored event of other content raises
        :class:`EventConflict` and nothing is appended.
        """
        now = self._clock_ns()
        seconds, nanos = divmod(now, _NS)
        prepared = [_prepare(event, now, seconds, nanos) for event in events]
        if not prepared:
            return []
        outcomes = await self._hop(
            lambda cursor, sql: self._append_locked(cursor, sql, prepared, strict), write=True
        )
        if self._on_append is not None and any(not o.deduplicated for o in outcomes):
            self._on_append()
        return outcomes

    def _append_locked(
        self, cursor: Cursor, sql: Sql, prepared: list[_Prepared], strict: bool
    ) -> list[AppendOutcome]:
        """The whole append in the caller's transaction (runs on the driver's side of the hop).

        Most batches hold no event the log has already, so the rows are inserted at once and
        the unique (tenant, event_id) index is the duplicate check; only when it objects is the
        batch rolled back to the savepoint and redone with a lookup of the stored events.
        """
        cursor.execute(sql(_LOCK_HEAD))
        size, blob = cursor.fetchone()
        cursor.execute(sql("SAVEPOINT audit_append"))
        try:
            outcomes = self._write(cursor, sql, prepared, int(size), blob, None, strict)
        except self._driver.integrity_error:
            cursor.execute(sql("ROLLBACK TO SAVEPOINT audit_append"))
            stored = self._stored_keys(cursor, sql, {p.key for p in prepared})
            outcomes = self._write(cursor, sql, prepared, int(size), blob, stored, strict)
        cursor.execute(sql("RELEASE SAVEPOINT audit_append"))
        return outcomes

    @staticmethod
    def _write(
        cursor: Cursor,
        sql: Sql,
        prepared: list[_Prepared],
        size: int,
        blob: bytes | None,
        stored: dict[tuple[str, str], StoredEntry] | None,
        strict: bool,
    ) -> list[AppendOutcome]:
        compact = merkle.CompactRange.decode(size, None if blob is None else bytes(blob))
        outcomes: list[AppendOutcome] = []
        rows: list[tuple[object, ...]] = []
        nodes: list[tuple[int, int, bytes]] = []

        def emit(level: int, index: int, value: bytes) -> None:
            nodes.append((level, index, value))

        append = compact.append
        for item in prepared:
            existing = stored.get(item.key) if stored is not None else None
            if existing is not None:
                if strict and not _same_content(existing.payload, item.event):
                    raise EventConflict(item.key[0], item.key[1], existing.index)
                outcomes.append(
                    AppendOutcome(existing.index, existing.leaf_hash, existing.integrated_ns, True)
                )
                continue
            index = compact.size
            append(item.leaf, emit)
            rows.append((index, *item.row))
            if stored is not None:  # a later event of the batch with this id is a duplicate
                stored[item.key] = StoredEntry(
                    index, item.key[0], item.key[1], item.integrated_ns, item.leaf, None
                )
            outcomes.append(AppendOutcome(index, item.leaf, item.integrated_ns, False))
        if rows:
            insert_rows(cursor, sql, _INSERT_ENTRIES, rows, _ENTRY_WIDTH)
            if nodes:
                cursor.executemany(sql(_INSERT_NODES), nodes)
            cursor.execute(sql(_MOVE_HEAD), (compact.size, compact.encode()))
        return outcomes

    @staticmethod
    def _stored_keys(
        cursor: Cursor, sql: Sql, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredEntry]:
        by_tenant: dict[str, list[str]] = {}
        for tenant, event_id in sorted(wanted):
            by_tenant.setdefault(tenant, []).append(event_id)
        found: dict[tuple[str, str], StoredEntry] = {}
        for tenant, ids in by_tenant.items():
            # (tenant, event_id) is the unique index, so each lookup is an index probe.
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                cursor.execute(
                    sql(
                        f"{_ENTRY_SELECT} WHERE tenant = ? AND event_id IN "
                        f"({', '.join('?' * len(chunk))})"
                    ),
                    (tenant, *chunk),
                )
                for row in cursor.fetchall():
                    entry = _raw_entry(row)
                    found[(entry.tenant, entry.event_id)] = entry
        return found

    # -- reading entries ---------------------------------------------------------------------

    async def size(self) -> int:
        """The number of entries in the log."""
        return (await self.head()).size

    async def head(self) -> TreeHead:
        """The current tree size, root hash and compact range (one consistent read)."""
        try:
            async with self._engine.connect() as connection:
                row = (
                    await connection.execute(
                        sa.select(audit_head.c.tree_size, audit_head.c.compact_range).where(
                            audit_head.c.id == 1
                        )
                    )
                ).one()
        except (DBAPIError, OSError) as exc:
            raise BackendUnavailable(f"audit store unavailable: {exc.__class__.__name__}") from exc
        compact = merkle.CompactRange.decode(int(row.tree_size), row.compact_range)
        return TreeHead(compact.size, compact.root(), compact)

    async def events(self, start: int = 0, limit: int = 1000) -> list[audit_pb2.AuditEvent]:
        """Events from index `start` on, in log order (pruned entries are left out)."""
        entries = await self.entries(sa.true(), after=start - 1, limit=limit)
        return [audit_pb2.AuditEvent.FromString(e.payload) for e in entries if e.payload]

    async def entry(self, index: int) -> StoredEntry | None:
        """The entry at `index`, or None past the end."""
        found = await self.entries(audit_entries.c.idx == index, limit=1)
        return found[0] if found else None

    async def entries(
        self,
        condition: sa.ColumnElement[bool],
        *,
        after: int | None = None,
        before: int | None = None,
        descending: bool = False,
        limit: int = 1000,
    ) -> list[StoredEntry]:
        """Entries matching `condition` with after < index < before, in index order."""
        query = sa.select(*_ENTRY_COLUMNS).where(condition)
        if after is not None:
            query = query.where(audit_entries.c.idx > after)
        if before is not None:
            query = query.where(audit_entries.c.idx < before)
        order = audit_entries.c.idx.desc() if descending else audit_entries.c.idx
        try:
            async with self._engine.connect() as connection:
                result = await connection.execute(query.order_by(order).limit(limit))
                return [_entry(row) for row in result]
        except (DBAPIError, OSError) as exc:
            raise BackendUnavailable(f"audit store unavailable: {exc.__class__.__name__}") from exc

    async def scan(self, chunk: int = 20_000) -> AsyncIterator[list[StoredEntry]]:
        """Every entry in index order, `chunk` rows at a time (for verification and export)."""
        after = -1
        statement = f"{_ENTRY_SELECT} WHERE idx > ? ORDER BY idx LIMIT ?"

        def read(cursor: Cursor, sql: Sql) -> list[StoredEntry]:
            cursor.execute(sql(statement), (after, chunk))
            return [_raw_entry(row) for row in cursor.fetchall()]

        while True:
            rows = await self._hop(read)
            if not rows:
                return
            yield rows
            after = rows[-1].index

    async def prune(self, before_ns: int) -> int:
        """Removes the payloads of entries integrated before `before_ns`; returns how many.

        Leaf hashes, indices, times and the tree stay, so every proof still verifies.
        """
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    sa.update(audit_entries)
                    .where(audit_entries.c.integrated_ns < before_ns)
                    .where(audit_entries.c.payload.is_not(None))
                    .values({name: None for name in PRUNABLE_COLUMNS})
                )
                return int(result.rowcount)
        except (DBAPIError, OSError) as exc:
            raise BackendUnavailable(f"audit store unavailable: {exc.__class__.__name__}") from exc

    # -- proofs ------------------------------------------------------------------------------

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The RFC 6962 audit path of leaf `index` in the tree of `size` (<= the head size)."""
        return await self.range_hashes(merkle.inclusion_ranges(index, size))

    async def inclusion_proofs(self, indices: Sequence[int], size: int) -> list[list[bytes]]:
        """The audit paths of several leaves in the tree of `size`, read together."""
        paths = [merkle.inclusion_ranges(index, size) for index in indices]
        hashes = await self.range_hashes([r for ranges in paths for r in ranges])
        proofs: list[list[bytes]] = []
        start = 0
        for ranges in paths:
            proofs.append(hashes[start : start + len(ranges)])
            start += len(ranges)
        return proofs

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The RFC 6962 consistency proof from `first` to `second` leaves (<= the head size)."""
        return await self.range_hashes(merkle.consistency_ranges(first, second))

    async def root_at(self, size: int) -> bytes:
        """The root hash of the tree of the first `size` leaves (<= the head size)."""
        if size == 0:
            return merkle.CompactRange().root()
        return (await self.range_hashes([(0, size)]))[0]

    async def range_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        """The hash of each leaf range, from O(log n) stored hashes read in one query.

        Complete subtrees never change, so those of :data:`_CACHED_LEVEL` and above (the upper
        tree every proof passes through) are kept once resolved; a proof then reads only the
        few stored hashes near its leaves.
        """
        per_range = [merkle.nodes_of_range(low, high) for low, high in ranges]
        wanted = {node for nodes in per_range for node in nodes}
        cache = self._upper
        known = {node: cache[node] for node in wanted if node in cache}
        plan = merkle.fetch_plan(wanted.difference(known))
        parts: list[str] = []
        values: list[int] = []
        for low, high in _merge(plan.leaf_ranges):
            parts.append("SELECT 0, idx, leaf_hash FROM audit_entries WHERE idx >= ? AND idx < ?")
            values += (low, high)
        for level, low, high in plan.node_ranges:
            parts.append(
                "SELECT level, idx, hash FROM audit_tree_nodes "
                "WHERE level = ? AND idx >= ? AND idx < ?"
            )
            values += (level, low, high)
        leaves: dict[int, bytes] = {}
        stored: dict[merkle.NodeId, bytes] = {}
        if parts:
            statement = " UNION ALL ".join(parts)

            def read(cursor: Cursor, sql: Sql) -> list[Any]:
                cursor.execute(sql(statement), values)
                return list(cursor.fetchall())

            rows = await self._hop(read)
            for level, index, value in rows:
                if level:
                    stored[(int(level), int(index))] = bytes(value)
                else:
                    leaves[int(index)] = bytes(value)
        hashes = plan.resolve(leaves, stored)
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        for node, value in hashes.items():
            if node[0] >= _CACHED_LEVEL:
                cache[node] = value
        hashes.update(known)
        return [merkle.range_hash(nodes, hashes) for nodes in per_range]

    async def stored_nodes(self, level: int, low: int, high: int) -> dict[int, bytes]:
        """Stored subtree hashes of `level` with low <= index < high (for verification)."""

        def read(cursor: Cursor, sql: Sql) -> dict[int, bytes]:
            cursor.execute(
                sql(
                    "SELECT idx, hash FROM audit_tree_nodes WHERE level = ? AND idx BETWEEN ? AND ?"
                ),
                (level, low, high - 1),
            )
            return {int(i): bytes(h) for i, h in cursor.fetchall()}

        return await self._hop(read)

    # -- checkpoints and keys ----------------------------------------------------------------

    async def checkpoint_head(
        self, sign: Callable[[int, bytes], StoredCheckpoint]
    ) -> StoredCheckpoint:
        """A checkpoint of the current tree, in one write transaction: the latest stored one
        when it covers the head, else `sign(size, root)` of the head, stored.

        `sign` runs inside the transaction (an Ed25519 signature, tens of microseconds); holding
        the head's lock meanwhile is what makes the checkpoint's size the head's.
        """

        def issue(cursor: Cursor, sql: Sql) -> StoredCheckpoint:
            cursor.execute(sql(_LOCK_HEAD))
            size, blob = cursor.fetchone()
            cursor.execute(sql(f"{_CHECKPOINT_SELECT} ORDER BY tree_size DESC LIMIT 1"))
            latest = cursor.fetchone()
            if latest is not None and int(latest[0]) >= int(size):
                return _checkpoint(latest)
            compact = merkle.CompactRange.decode(int(size), None if blob is None else bytes(blob))
            signed = sign(compact.size, compact.root())
            cursor.execute(
                sql(
                    "INSERT INTO audit_checkpoints (tree_size, root_hash, timestamp_ns, key_id, "
                    "note) VALUES (?, ?, ?, ?, ?)"
                ),
                (
                    signed.tree_size,
                    signed.root_hash,
                    signed.timestamp_ns,
                    signed.key_id,
                    signed.note,
                ),
            )
            return signed

        return await self._hop(issue, write=True)

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The checkpoint of the largest tree size, if any was issued."""
        found = await self._checkpoints(sa.true(), descending=True, limit=1)
        return found[0] if found else None

    async def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        """The checkpoint issued at exactly `size` leaves, if there is one."""
        found = await self._checkpoints(audit_checkpoints.c.tree_size == size, limit=1)
        return found[0] if found else None

    async def checkpoints(self, after_size: int = -1, limit: int = 1000) -> list[StoredCheckpoint]:
        """Checkpoints of sizes above `after_size`, smallest first."""
        return await self._checkpoints(audit_checkpoints.c.tree_size > after_size, limit=limit)

    async def _checkpoints(
        self, condition: sa.ColumnElement[bool], *, descending: bool = False, limit: int
    ) -> list[StoredCheckpoint]:
        column = audit_checkpoints.c.tree_size
        try:
            async with self._engine.connect() as connection:
                result = await connection.execute(
                    sa.select(*(audit_checkpoints.c[name] for name in _CHECKPOINT_COLUMNS))
                    .where(condition)
                    .order_by(column.desc() if descending else column)
                    .limit(limit)
                )
                return [_checkpoint(tuple(row)) for row in result]
        except (DBAPIError, OSError) as exc:
            raise BackendUnavailable(f"audit store unavailable: {exc.__class__.__name__}") from exc

    async def signing_keys(self) -> list[StoredKey]:
        """Every checkpoint signing key, oldest first."""
        async with self._engine.connect() as connection:
            result = await connection.execute(
                sa.select(audit_signing_keys).order_by(audit_signing_keys.c.create_ns)
            )
            return [
                StoredKey(
                    bytes(r.key_id),
                    str(r.key_name),
                    bytes(r.public_key),
                    bytes(r.private_key),
                    int(r.create_ns),
                )
                for r in result
            ]

    async def add_signing_key(self, key: StoredKey) -> None:
        """Stores a new signing key."""
        async with self._engine.begin() as connection:
            await connection.execute(
                sa.insert(audit_signing_keys).values(
                    key_id=key.key_id,
                    key_name=key.key_name,
                    public_key=key.public_key,
                    private_key=key.private_key,
                    create_ns=key.create_ns,
                )
            )


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or touching ranges merged into one."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged
