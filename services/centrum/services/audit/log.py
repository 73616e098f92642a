"""The audit log store: gap-free, duplicate-free appends of serialized events.

Appends of every replica serialise on the single `audit_head` row (a row lock on PostgreSQL, the
database lock on SQLite), so indices are dense and each event id is stored once per tenant:
a replayed event (the audit spool delivers at least once) is recognised and skipped.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.audit.v1 import audit_pb2
from centrum.services.audit.tables import audit_entries, audit_head
from centrum.services.db import BackendUnavailable

__all__ = ["SqlAuditLog", "leaf_hash"]


def leaf_hash(payload: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256 over 0x00 followed by the leaf's bytes."""
    return hashlib.sha256(b"\x00" + payload).digest()


class SqlAuditLog:
    """The audit log in the relational database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def append_batch(self, records: Sequence[bytes]) -> None:
        """Appends serialized AuditEvents in order, skipping event ids already stored."""
        now = time.time_ns()
        events = []
        for record in records:
            event = audit_pb2.AuditEvent.FromString(record)
            event.integrated_time.FromNanoseconds(now)
            events.append(event)
        try:
            async with self._engine.begin() as connection:
                # Writing the head row first takes the write lock on both engines (a row lock on
                # PostgreSQL, the database lock on SQLite) before the size is read.
                size = (
                    await connection.execute(
                        sa.update(audit_head)
                        .where(audit_head.c.id == 1)
                        .values(tree_size=audit_head.c.tree_size)
                        .returning(audit_head.c.tree_size)
                    )
                ).scalar_one()
                keys = [(e.actor.tenant, e.event_id) for e in events]
                stored = {
                    (row.tenant, row.event_id)
                    for row in await connection.execute(
                        sa.select(audit_entries.c.tenant, audit_entries.c.event_id).where(
                            audit_entries.c.event_id.in_([k[1] for k in keys])
                        )
                    )
                }
                rows: list[dict[str, object]] = []
                for event, key in zip(events, keys, strict=True):
                    if key in stored:
                        continue
                    stored.add(key)
                    payload = event.SerializeToString(deterministic=True)
                    rows.append(
                        {
                            "idx": size + len(rows),
                            "tenant": key[0],
                            "event_id": key[1],
                            "integrated_ns": now,
                            "leaf_hash": leaf_hash(payload),
                            "payload": payload,
                        }
                    )
                if rows:
                    await connection.execute(sa.insert(audit_entries), rows)
                    await connection.execute(
                        sa.update(audit_head)
                        .where(audit_head.c.id == 1)
                        .values(tree_size=size + len(rows))
                    )
        except (DBAPIError, OSError) as exc:
            raise BackendUnavailable(f"audit store unavailable: {exc.__class__.__name__}") from exc

    async def size(self) -> int:
        """The number of entries in the log."""
        async with self._engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        sa.select(audit_head.c.tree_size).where(audit_head.c.id == 1)
                    )
                ).scalar_one()
            )

    async def events(self, start: int = 0, limit: int = 1000) -> list[audit_pb2.AuditEvent]:
        """Events from index `start` on, in log order."""
        async with self._engine.connect() as connection:
            result = await connection.execute(
                sa.select(audit_entries.c.payload)
                .where(audit_entries.c.idx >= start)
                .order_by(audit_entries.c.idx)
                .limit(limit)
            )
            return [audit_pb2.AuditEvent.FromString(row[0]) for row in result if row[0]]
