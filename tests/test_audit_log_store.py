"""The audit log store on SQLite and PostgreSQL: dense indices, dedup of replayed events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from centrum.audit.v1 import audit_pb2
from centrum.services.audit.log import EventConflict, SqlAuditLog, leaf_hash
from centrum.services.audit.verify import verify_log
from centrum.services.db import create_engine, migrate


def _event(event_id: str, tenant: str = "acme") -> bytes:
    event = audit_pb2.AuditEvent(event_id=event_id, category="test", action="append")
    event.actor.tenant = tenant
    return event.SerializeToString()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_appends_are_dense_and_deduplicated(database_url: str) -> None:
    """Two batches give indices 0..n-1 in order; an event replayed with its id is stored once."""
    await asyncio.to_thread(migrate, database_url)
    engine = create_engine(database_url)
    log = SqlAuditLog(engine)
    start = await log.size()
    await log.append_batch([_event(f"{start}-a"), _event(f"{start}-b")])
    await log.append_batch([_event(f"{start}-b"), _event(f"{start}-c")])
    assert await log.size() == start + 3
    events = await log.events(start)
    assert [e.event_id for e in events] == [f"{start}-a", f"{start}-b", f"{start}-c"]
    assert all(e.HasField("integrated_time") for e in events)
    await engine.dispose()


async def test_concurrent_appenders_leave_no_gap(database_url: str) -> None:
    """Twenty concurrent appenders on separate engines produce one dense, duplicate-free log."""
    await asyncio.to_thread(migrate, database_url)
    engines = [create_engine(database_url) for _ in range(4)]
    logs = [SqlAuditLog(e) for e in engines]
    start = await logs[0].size()
    await asyncio.gather(
        *(
            logs[i % 4].append_batch([_event(f"c{start}-{i}-{j}") for j in range(5)])
            for i in range(20)
        )
    )
    assert await logs[0].size() == start + 100
    events = await logs[0].events(start, limit=1000)
    assert len({e.event_id for e in events}) == 100
    for engine in engines:
        await engine.dispose()


def test_leaf_hash_is_rfc6962() -> None:
    """The leaf hash prefixes 0x00 before hashing (RFC 6962 section 2.1)."""
    import hashlib

    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()


async def test_a_batch_meeting_stored_or_repeated_ids_appends_each_event_once(
    database_url: str,
) -> None:
    """Stored ids and ids repeated inside one batch are appended once and answered with the
    stored index; a conflicting stored id under `strict` appends nothing of its batch."""
    await asyncio.to_thread(migrate, database_url)
    engine = create_engine(database_url)
    log = SqlAuditLog(engine)
    start = await log.size()

    def parsed(event_id: str, action: str = "append") -> audit_pb2.AuditEvent:
        event = audit_pb2.AuditEvent.FromString(_event(f"d{start}-{event_id}"))
        event.action = action
        return event

    first = await log.append([parsed("a"), parsed("b")])
    mixed = await log.append([parsed("c"), parsed("a"), parsed("d"), parsed("c")])
    assert [(o.index, o.deduplicated) for o in mixed] == [
        (start + 2, False),
        (first[0].index, True),
        (start + 3, False),
        (start + 2, True),
    ]
    assert mixed[1].leaf_hash == first[0].leaf_hash
    head = await log.head()
    with pytest.raises(EventConflict) as conflict:
        await log.append([parsed("e"), parsed("b", action="other"), parsed("f")])
    assert conflict.value.index == first[1].index
    assert await log.head() == head
    events = await log.events(start)
    assert [e.event_id for e in events] == [f"d{start}-{x}" for x in "abcd"]
    await engine.dispose()


async def test_a_batch_larger_than_one_insert_statement_keeps_its_order(database_url: str) -> None:
    """1,003 events (several multi-row INSERTs of different sizes), one of them a repeat of an
    earlier one past the first statement: dense indices in batch order, the repeat deduplicated,
    and the tree over them verifies against the leaves."""
    await asyncio.to_thread(migrate, database_url)
    engine = create_engine(database_url)
    log = SqlAuditLog(engine)
    start = await log.size()
    ids = [f"big{start}-{i}" for i in range(1003)]
    batch = [audit_pb2.AuditEvent.FromString(_event(event_id)) for event_id in ids]
    batch.append(audit_pb2.AuditEvent.FromString(_event(ids[300])))
    outcomes = await log.append(batch)
    assert [o.index for o in outcomes[:-1]] == list(range(start, start + 1003))
    assert (outcomes[-1].index, outcomes[-1].deduplicated) == (start + 300, True)
    events = await log.events(start, limit=2000)
    assert [e.event_id for e in events] == ids
    stored = [await log.entry(i) for i in (start, start + 767, start + 1002)]
    assert [s.leaf_hash if s else None for s in stored] == [
        outcomes[0].leaf_hash,
        outcomes[767].leaf_hash,
        outcomes[1002].leaf_hash,
    ]
    report = await verify_log(log)
    assert report.ok, report.problems
    await engine.dispose()
