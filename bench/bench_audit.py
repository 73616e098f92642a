"""Audit log benchmarks: batched appends with tree maintenance against raw batched INSERT of the
same rows (same run, same SQLite engine), proof latency and full verification at 1M leaves.

The 1M-leaf log is built with a bulk path (leaf hashes and stored subtrees computed by the same
`CompactRange`, inserted with sqlite3.executemany) because building it through `append` would
take most of the time budget; proofs and verification then run through the normal code.
Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from centrum.audit.v1 import audit_pb2
from centrum.services.audit import merkle
from centrum.services.audit.log import SqlAuditLog, encode_event
from centrum.services.audit.tables import audit_entries
from centrum.services.audit.verify import verify_log
from centrum.services.db import create_engine, migrate

BATCH = 1000
EVENTS = 100_000
LEAVES = 1_000_000 if "--quick" not in sys.argv else 100_000


def _events(prefix: str, count: int) -> list[audit_pb2.AuditEvent]:
    events = []
    for i in range(count):
        event = audit_pb2.AuditEvent(
            event_id=f"{prefix}-{i}",
            category="rpc",
            action="Get",
            outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
            severity=audit_pb2.AUDIT_SEVERITY_INFO,
        )
        event.actor.tenant = "acme"
        event.actor.principal_id = "svc"
        event.correlation.request_id = f"r{i}"
        events.append(event)
    return events


async def _appends(directory: Path) -> dict[str, float]:
    url = f"sqlite+aiosqlite:///{directory / 'append.db'}"
    migrate(url)
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    events = _events("a", EVENTS)
    started = time.perf_counter()
    for i in range(0, EVENTS, BATCH):
        await log.append(events[i : i + BATCH], strict=False)
    tree = time.perf_counter() - started
    await engine.dispose()

    raw_url = f"sqlite+aiosqlite:///{directory / 'raw.db'}"
    migrate(raw_url)
    engine = create_engine(raw_url)
    rows = []
    for i, event in enumerate(_events("a", EVENTS)):
        event.integrated_time.FromNanoseconds(time.time_ns())
        payload = encode_event(event)
        rows.append(
            {
                "idx": i,
                "tenant": "acme",
                "event_id": event.event_id,
                "integrated_ns": 0,
                "leaf_hash": merkle.leaf_hash(payload),
                "payload": payload,
                "category": "rpc",
                "action": "Get",
                "outcome": 1,
                "severity": 2,
                "actor_id": "svc",
                "request_id": event.correlation.request_id,
            }
        )
    started = time.perf_counter()
    for i in range(0, EVENTS, BATCH):
        async with engine.begin() as connection:
            await connection.execute(sa.insert(audit_entries), rows[i : i + BATCH])
    raw = time.perf_counter() - started
    await engine.dispose()
    return {
        "append_events_per_s": EVENTS / tree,
        "raw_insert_rows_per_s": EVENTS / raw,
        "append_vs_raw_ratio": raw / tree,
    }


def _bulk_build(path: Path, leaves: int) -> None:
    """The fast bulk path: same leaf values, hashes and stored nodes as append would write."""
    compact = merkle.CompactRange()
    nodes: list[tuple[int, int, bytes]] = []
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    rows = []
    for i in range(leaves):
        payload = f"leaf-{i}".encode()
        leaf = merkle.leaf_hash(payload)
        compact.append(leaf, lambda lv, ix, h: nodes.append((lv, ix, h)))
        rows.append((i, "acme", f"e{i}", 0, leaf, payload))
        if len(rows) == 50_000:
            db.executemany(
                "INSERT INTO audit_entries (idx, tenant, event_id, integrated_ns, leaf_hash, "
                "payload) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            rows = []
    db.executemany("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
    db.execute(
        "UPDATE audit_head SET tree_size = ?, compact_range = ?", (compact.size, compact.encode())
    )
    db.commit()
    db.close()


async def _proofs_and_verify(directory: Path) -> dict[str, float]:
    path = directory / "million.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)
    started = time.perf_counter()
    _bulk_build(path, LEAVES)
    build = time.perf_counter() - started
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    rng = random.Random(7)
    inclusion, consistency = [], []
    for _ in range(300):
        index = rng.randrange(LEAVES)
        t = time.perf_counter()
        await log.inclusion_proof(index, LEAVES)
        inclusion.append(time.perf_counter() - t)
        first = rng.randrange(1, LEAVES)
        t = time.perf_counter()
        await log.consistency_proof(first, LEAVES)
        consistency.append(time.perf_counter() - t)
    started = time.perf_counter()
    report = await verify_log(log)
    verify = time.perf_counter() - started
    assert report.ok, report.problems
    await engine.dispose()

    def ms(values: list[float], q: float) -> float:
        return sorted(values)[int(q * (len(values) - 1))] * 1000

    return {
        "leaves": LEAVES,
        "bulk_build_s": build,
        "inclusion_proof_ms_p50": statistics.median(inclusion) * 1000,
        "inclusion_proof_ms_p99": ms(inclusion, 0.99),
        "consistency_proof_ms_p50": statistics.median(consistency) * 1000,
        "consistency_proof_ms_p99": ms(consistency, 0.99),
        "full_verify_s": verify,
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        result = {"bench": "audit", "batch": BATCH, "events": EVENTS}
        result.update(await _appends(Path(directory)))
        result.update(await _proofs_and_verify(Path(directory)))
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    asyncio.run(main())
