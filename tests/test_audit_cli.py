"""`centrum audit verify` recomputes the tree from the store and names the first altered index."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from centrum.audit.v1 import audit_pb2
from centrum.services.audit.log import SqlAuditLog
from centrum.services.audit.signing import Checkpointer
from centrum.services.db import create_engine, migrate
from centrum.services.keys import MasterKey
from harness.centrum import ROOT, run

CENTRUM = str(Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "centrum")


def _event(i: int) -> audit_pb2.AuditEvent:
    event = audit_pb2.AuditEvent(
        event_id=f"v-{i}",
        category="financial",
        action="pay",
        outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
    )
    event.actor.tenant = "acme"
    event.financial.amount = "10.00"
    return event


@pytest.fixture
async def data_dir(tmp_path: Path) -> Path:
    """A data dir whose SQLite log holds 40 checkpointed entries."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'centrum.db'}"
    migrate(url)
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    checkpointer = Checkpointer(log, MasterKey.load_or_create(tmp_path / "master.key"), "t/audit")
    for start in range(0, 40, 8):
        await log.append([_event(i) for i in range(start, start + 8)])
        await checkpointer.issue()
    await engine.dispose()
    return tmp_path


def _verify(data_dir: Path) -> dict[str, object]:
    result = run(
        [CENTRUM, "audit", "verify", "--json"],
        env={**os.environ, "CENTRUM_DATA_DIR": str(data_dir)},
    )
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0)
    return report


def _tamper(data_dir: Path, sql: str, *args: object) -> None:
    """Alters a row as an attacker with database access would: around the triggers."""
    with sqlite3.connect(data_dir / "centrum.db") as db:
        db.execute("DROP TRIGGER audit_entries_no_update")
        db.execute(sql, args)


async def test_verify_passes_on_an_untouched_store(data_dir: Path) -> None:
    """An untouched log verifies: 40 entries, every checkpoint checked."""
    report = _verify(data_dir)
    assert report["ok"] and report["tree_size"] == 40 and report["checkpoints_checked"] == 5


async def test_verify_names_the_index_of_an_altered_payload(data_dir: Path) -> None:
    """A payload rewritten directly in the database is reported at exactly its index."""
    forged = _event(23)
    forged.financial.amount = "10000.00"
    _tamper(
        data_dir, "UPDATE audit_entries SET payload = ? WHERE idx = 23", forged.SerializeToString()
    )
    report = _verify(data_dir)
    assert report["first_bad_index"] == 23


async def test_verify_catches_a_rehashed_leaf(data_dir: Path) -> None:
    """A payload and leaf hash rewritten together break the subtree and checkpoint containing it."""
    import hashlib

    forged = _event(37).SerializeToString() + b"\x00"
    _tamper(
        data_dir,
        "UPDATE audit_entries SET payload = ?, leaf_hash = ? WHERE idx = 37",
        forged,
        hashlib.sha256(b"\x00" + forged).digest(),
    )
    report = _verify(data_dir)
    assert not report["ok"]
    assert 32 <= int(str(report["first_bad_index"])) <= 37
