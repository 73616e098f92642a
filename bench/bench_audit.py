"""Audit log benchmarks: batched appends with tree maintenance against raw batched INSERT of the
same rows (same run, alternating round by round, one and two callers in flight; wall and process
CPU time), proof latency and full verification at 1M leaves, and appends into that 1M-leaf log
with event ids as the chain makes them (time-ordered) against uniformly random ids.

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
from collections.abc import Callable
from pathlib import Path

from centrum.audit.v1 import audit_pb2
from centrum.interceptors.request_context import new_id, time_ordered_id
from centrum.server.runner import freeze_startup_heap
from centrum.services.audit import merkle
from centrum.services.audit.driver import DriverRunner, insert_rows
from centrum.services.audit.log import SqlAuditLog, encode_event
from centrum.services.audit.verify import verify_log
from centrum.services.db import create_engine, migrate

BATCH = 1000
EVENTS = 100_000
LEAVES = 1_000_000 if "--quick" not in sys.argv else 100_000
PROOFS = 1000
SCALE_BATCHES = 20
"""Batches of each id kind appended to the 1M-leaf log."""


def _events(count: int, ids: Callable[[], str] = time_ordered_id) -> list[audit_pb2.AuditEvent]:
    """Events as the chain records them; `ids` makes their event ids."""
    events = []
    for i in range(count):
        event = audit_pb2.AuditEvent(
            event_id=ids(),
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


_RAW_INSERT = (
    "INSERT INTO audit_entries (idx, tenant, event_id, integrated_ns, leaf_hash, payload, "
    "category, action, outcome, severity, actor_id, resource_type, resource_id, request_id, "
    "trace_id, correlation_id, transaction_id) VALUES"
)


def _raw_rows(events: list[audit_pb2.AuditEvent]) -> list[tuple[object, ...]]:
    """The entry rows append writes for `events`, built ahead (the baseline's input)."""
    rows: list[tuple[object, ...]] = []
    now = time.time_ns()
    for i, event in enumerate(events):
        event.integrated_time.FromNanoseconds(now)
        payload = encode_event(event)
        leaf = merkle.leaf_hash(payload)
        request_id = event.correlation.request_id
        filters = ("rpc", "Get", 1, 2, "svc", None, None, request_id, None, None, None)
        rows.append((i, "acme", event.event_id, now, leaf, payload, *filters))
    return rows


async def _appends(directory: Path, callers: int) -> dict[str, float]:
    """Appends through SqlAuditLog against the raw baseline: the same rows by the same
    multi-row INSERTs, one transaction and one hop to SQLite's thread per batch (what append
    does, minus encoding, hashing, tree and head). `callers` batches are in flight at once on
    each side. The sides alternate round by round, so both see the same load of a shared
    machine; wall and process CPU time are kept for each."""
    urls = [f"sqlite+aiosqlite:///{directory / f'{name}-{callers}.db'}" for name in ("log", "raw")]
    for url in urls:
        migrate(url)
    engines = [create_engine(url) for url in urls]
    log = SqlAuditLog(engines[0])
    runner = DriverRunner(engines[1])
    events = _events(EVENTS)
    rows = _raw_rows(_events(EVENTS))

    async def raw(batch: list[tuple[object, ...]]) -> None:
        await runner.run(
            lambda cursor, sql: insert_rows(cursor, sql, _RAW_INSERT, batch, 17), write=True
        )

    wall = [0.0, 0.0]
    cpu = [0.0, 0.0]
    step = BATCH * callers
    for i in range(0, EVENTS, step):
        starts = range(i, min(i + step, EVENTS), BATCH)
        for side in (0, 1):
            started, started_cpu = time.perf_counter(), time.process_time()
            if side == 0:
                await asyncio.gather(
                    *(log.append(events[s : s + BATCH], strict=False) for s in starts)
                )
            else:
                await asyncio.gather(*(raw(rows[s : s + BATCH]) for s in starts))
            wall[side] += time.perf_counter() - started
            cpu[side] += time.process_time() - started_cpu
    for engine in engines:
        await engine.dispose()
    suffix = "" if callers == 1 else f"_{callers}_callers"
    return {
        f"append_events_per_s{suffix}": EVENTS / wall[0],
        f"raw_insert_rows_per_s{suffix}": EVENTS / wall[1],
        f"append_vs_raw_ratio{suffix}": wall[1] / wall[0],
        f"append_cpu_us_per_event{suffix}": cpu[0] / EVENTS * 1e6,
        f"raw_insert_cpu_us_per_row{suffix}": cpu[1] / EVENTS * 1e6,
    }


def _bulk_build(path: Path, leaves: int, *, random_ids: bool = False) -> None:
    """The fast bulk path: same leaf values, hashes and stored nodes as append would write;
    event ids in time order (one per ms, as the chain makes them) or uniformly random."""
    compact = merkle.CompactRange()
    nodes: list[tuple[int, int, bytes]] = []
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    rows = []
    first_ms = time.time_ns() // 1_000_000 - leaves
    for i in range(leaves):
        payload = f"leaf-{i}".encode()
        leaf = merkle.leaf_hash(payload)
        compact.append(leaf, lambda lv, ix, h: nodes.append((lv, ix, h)))
        event_id = new_id() if random_ids else f"{first_ms + i:012x}7{i:019x}"
        rows.append((i, "acme", event_id, 0, leaf, payload))
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
    proof_cpu = time.process_time()
    for _ in range(PROOFS):
        index = rng.randrange(LEAVES)
        t = time.perf_counter()
        await log.inclusion_proof(index, LEAVES)
        inclusion.append(time.perf_counter() - t)
        first = rng.randrange(1, LEAVES)
        t = time.perf_counter()
        await log.consistency_proof(first, LEAVES)
        consistency.append(time.perf_counter() - t)
    proof_cpu = time.process_time() - proof_cpu
    started, started_cpu = time.perf_counter(), time.process_time()
    report = await verify_log(log)
    verify = time.perf_counter() - started
    verify_cpu = time.process_time() - started_cpu
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
        "proof_cpu_ms_mean": proof_cpu / (2 * PROOFS) * 1000,
        "full_verify_s": verify,
        "full_verify_cpu_s": verify_cpu,
    }


async def _appends_at_scale(directory: Path) -> dict[str, float]:
    """Appends to the 1M-leaf log (time-ordered event ids, as the chain makes them) against the
    same appends to a 1M-leaf log whose events all had uniformly random 128-bit ids (as the
    chain made them before), batch by batch in turn. A random id lands on a random page of the
    (tenant, event_id) index, so each batch rewrites pages all over it."""
    random_path = directory / "million-random.db"
    migrate(f"sqlite+aiosqlite:///{random_path}")
    _bulk_build(random_path, LEAVES, random_ids=True)
    engines = {
        "ordered": create_engine(f"sqlite+aiosqlite:///{directory / 'million.db'}"),
        "random": create_engine(f"sqlite+aiosqlite:///{random_path}"),
    }
    logs = {kind: SqlAuditLog(engine) for kind, engine in engines.items()}
    wall = {"ordered": 0.0, "random": 0.0}
    cpu = dict(wall)
    for _ in range(SCALE_BATCHES):
        for kind, ids in (("ordered", time_ordered_id), ("random", new_id)):
            events = _events(BATCH, ids)
            started, started_cpu = time.perf_counter(), time.process_time()
            await logs[kind].append(events, strict=False)
            wall[kind] += time.perf_counter() - started
            cpu[kind] += time.process_time() - started_cpu
    for engine in engines.values():
        await engine.dispose()
    appended = SCALE_BATCHES * BATCH
    return {
        "append_events_per_s_at_scale": appended / wall["ordered"],
        "append_cpu_us_per_event_at_scale": cpu["ordered"] / appended * 1e6,
        "append_events_per_s_at_scale_random_ids": appended / wall["random"],
        "append_cpu_us_per_event_at_scale_random_ids": cpu["random"] / appended * 1e6,
    }


async def main() -> None:
    freeze_startup_heap()  # the store runs in a serving process, which has frozen its heap
    with tempfile.TemporaryDirectory() as directory:
        result = {"bench": "audit", "batch": BATCH, "events": EVENTS}
        for callers in (1, 2):
            result.update(await _appends(Path(directory), callers))
        result.update(await _proofs_and_verify(Path(directory)))
        result.update(await _appends_at_scale(Path(directory)))
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    asyncio.run(main())
