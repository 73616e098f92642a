"""Migration audit_0002 on an existing SQLite log: entries keep their rows and tree, `idx`
becomes the rowid, the append-only triggers still hold, and appends continue the same tree."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from centrum.audit.v1 import audit_pb2
from centrum.services.audit.log import SqlAuditLog
from centrum.services.audit.verify import verify_log
from centrum.services.db import create_engine, migrate
from centrum.services.db.migrate import alembic_config


def _events(prefix: str, count: int) -> list[audit_pb2.AuditEvent]:
    events = []
    for i in range(count):
        event = audit_pb2.AuditEvent(event_id=f"{prefix}-{i}", category="test", action="migrate")
        event.actor.tenant = "acme"
        event.actor.principal_id = "svc"
        events.append(event)
    return events


def _schema(path: Path) -> tuple[str, list[str]]:
    with sqlite3.connect(path) as db:
        (table,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_entries'"
        ).fetchone()
        names = [
            n
            for (n,) in db.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'audit_entries' "
                "AND type IN ('index', 'trigger') ORDER BY name"
            )
        ]
    return str(table), names


async def test_audit_0002_rebuilds_entries_keyed_by_rowid_and_keeps_the_log(
    tmp_path: Path,
) -> None:
    """A log written at audit_0001 upgrades in place: the same entries and head verify, the
    triggers refuse UPDATE and DELETE, and later appends extend the same tree; a downgrade
    brings the BIGINT key back with the same rows."""
    path = tmp_path / "audit.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate, url, "audit_0001")
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    await log.append(_events("old", 37))
    before = await log.head()
    await engine.dispose()

    await asyncio.to_thread(migrate, url)
    table, names = _schema(path)
    assert "idx INTEGER NOT NULL" in table and "BIGINT NOT NULL, tenant" not in table
    assert names == [
        "audit_entries_no_delete",
        "audit_entries_no_update",
        "ix_audit_entries_tenant_idx",
        "sqlite_autoindex_audit_entries_1",
    ]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM audit_entries WHERE idx = rowid").fetchone() == (
            37,
        )
        for statement in ("UPDATE audit_entries SET tenant = 'x'", "DELETE FROM audit_entries"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    assert await log.head() == before
    await log.append(_events("new", 20))
    report = await verify_log(log)
    assert report.ok, report.problems
    assert report.tree_size == 57
    await engine.dispose()

    await asyncio.to_thread(command.downgrade, alembic_config(url), "audit_0001")
    table, names = _schema(path)
    assert "idx BIGINT NOT NULL" in table and len(names) == 5
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM audit_entries").fetchone() == (57,)
