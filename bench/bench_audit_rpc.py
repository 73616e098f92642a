"""Benchmark: the Audit service's Append RPC through a server, against AppendBatch of the same.

    .venv/bin/python bench/bench_audit_rpc.py [--seconds 5] [--rounds 3]

One server subprocess on the embedded backends (`bench/soak.py`'s `mix_server`), rate limits
raised so that nothing is refused. Per round, in
turn: **append** sends single-event Appends from 32 callers at once (each answered with its
index, a signed checkpoint covering it and its inclusion proof), **append c=1** from one caller,
and **batch** (the baseline) sends the same kind of events as AppendBatch requests of 32 from
one caller at a time. Reported: events per second and the server's CPU per event (all its
threads, `/proc`), medians over rounds, and append's rate as a ratio of the batch rate.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

from _load import process_cpu_s
from soak import bench_main

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.sdk import aio

BATCH = 32


def _event(name: str) -> audit_pb2.AuditEvent:
    return audit_pb2.AuditEvent(
        event_id=name, category="app", action="tick", outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS
    )


async def _measure(
    pid: int, callers: int, seconds: float, call: Callable[[int, int], Awaitable[int]]
) -> tuple[float, float]:
    """Events per second and server CPU microseconds per event, with `callers` looping over
    `call(caller, n)` (which returns the events it appended) for `seconds`."""
    events = 0
    deadline = time.monotonic() + seconds

    async def caller(k: int) -> None:
        nonlocal events
        n = 0
        while time.monotonic() < deadline:
            n += 1
            appended = await call(k, n)  # not `events += await`: that reads `events` first
            events += appended

    cpu, started = process_cpu_s(pid), time.monotonic()
    await asyncio.gather(*(caller(k) for k in range(callers)))
    elapsed, used = time.monotonic() - started, process_cpu_s(pid) - cpu
    return events / elapsed, used / max(events, 1) * 1e6


async def _run(
    target: str, tokens: list[str], pid: int, seconds: float, rounds: int
) -> dict[str, object]:
    clients = [aio.connect(target, token=token) for token in tokens[:8]]
    tag = f"{os.getpid()}-{time.monotonic_ns()}"

    async def append(k: int, n: int) -> int:
        request = audit_service_pb2.AppendRequest(event=_event(f"a-{tag}-{k}-{n}"))
        await clients[k % len(clients)].audit.Append(request)
        return 1

    async def batch(k: int, n: int) -> int:
        events = [_event(f"b-{tag}-{k}-{n}-{i}") for i in range(BATCH)]
        await clients[0].audit.AppendBatch(audit_service_pb2.AppendBatchRequest(events=events))
        return BATCH

    cases: dict[str, tuple[int, Callable[[int, int], Awaitable[int]]]] = {
        "append_c32": (32, append),
        "append_c1": (1, append),
        "batch_of_32": (1, batch),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    try:
        await _measure(pid, 32, 1.0, append)  # warm-up
        for _ in range(rounds):
            for name, (callers, call) in cases.items():
                results[name].append(await _measure(pid, callers, seconds, call))
    finally:
        for one in clients:
            await one.close()
    report: dict[str, object] = {"bench": "audit_rpc", "seconds": seconds, "rounds": rounds}
    for name, runs in results.items():
        report[f"{name}_events_per_s"] = round(statistics.median(r[0] for r in runs))
        report[f"{name}_server_cpu_us_per_event"] = round(statistics.median(r[1] for r in runs))
    report["append_c32_vs_batch_ratio"] = round(
        statistics.median(
            a[0] / b[0] for a, b in zip(results["append_c32"], results["batch_of_32"], strict=True)
        ),
        2,
    )
    report["load_avg_1m"] = os.getloadavg()[0]
    return report


def main() -> None:
    """Starts the server, runs the rounds, prints one JSON line."""
    bench_main(__doc__.split("\n")[0], ["audit.append", "audit.append_batch"], _run)


if __name__ == "__main__":
    main()
