"""Benchmark: config writes and reads through a server on the embedded SQLite defaults.

    .venv/bin/python bench/bench_config.py [--seconds 5] [--rounds 3]

One server subprocess on the embedded backends (`bench/soak.py`'s `mix_server`), rate limits
raised so that nothing is refused. Per round, in turn: **set** sends SetValue from 32 callers at
once (each writes its own key: a revision, a history row and an audit event per write), **get**
sends GetValue from 32 callers, **mixed** runs 16 writers and 16 readers together, the case
where readers must not starve behind queued writers, and **evaluate** sends EvaluateFlag (a
server-side evaluation against the environment's current revision) from 32 callers. Reported:
calls per second per case (for mixed, writes and reads apart) and the server's CPU per call (all
its threads, `/proc`), medians over rounds.
"""

from __future__ import annotations

import os
import statistics

from google.protobuf import struct_pb2
from soak import Caller, bench_main, measure_callers, setup_mix

from centrum.config.v1 import config_service_pb2 as pb
from centrum.config.v1 import flag_service_pb2
from centrum.sdk import aio

CALLERS = 32
ENVIRONMENT = "bench"


async def _run(
    target: str, tokens: list[str], pid: int, seconds: float, rounds: int
) -> dict[str, object]:
    clients = [aio.connect(target, token=token) for token in tokens[:8]]

    async def set_value(k: int, n: int) -> None:
        value = struct_pb2.Value(number_value=n)
        request = pb.SetValueRequest(environment=ENVIRONMENT, key=f"key-{k}", value=value)
        await clients[k % len(clients)].config.SetValue(request)

    async def get_value(k: int, n: int) -> None:
        request = pb.GetValueRequest(environment=ENVIRONMENT, key=f"key-{k % (CALLERS // 2)}")
        await clients[k % len(clients)].config.GetValue(request)

    async def evaluate(k: int, n: int) -> None:
        request = flag_service_pb2.EvaluateFlagRequest(environment="soak", flag_key="checkout")
        request.context.targeting_key = f"user-{n}"
        await clients[k % len(clients)].flags.EvaluateFlag(request)

    writer: Caller = set_value
    reader: Caller = get_value
    cases: dict[str, list[Caller]] = {
        "set": [writer] * CALLERS,
        "get": [reader] * CALLERS,
        "mixed": [writer] * (CALLERS // 2) + [reader] * (CALLERS // 2),
        "evaluate": [evaluate] * CALLERS,
    }
    rates: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    try:
        await setup_mix(clients[0])  # the flag that evaluate evaluates
        await measure_callers(pid, 1.0, cases["set"])  # warm-up, and every key the readers read
        for _ in range(rounds):
            for name, callers in cases.items():
                per_caller, cpu_per_call = await measure_callers(pid, seconds, callers)
                cpu.setdefault(name, []).append(cpu_per_call)
                if name == "mixed":
                    half = CALLERS // 2
                    rates.setdefault("mixed_set", []).append(sum(per_caller[:half]))
                    rates.setdefault("mixed_get", []).append(sum(per_caller[half:]))
                else:
                    rates.setdefault(name, []).append(sum(per_caller))
    finally:
        for one in clients:
            await one.close()
    report: dict[str, object] = {"bench": "config", "seconds": seconds, "rounds": rounds}
    for name, runs in rates.items():
        report[f"{name}_per_s"] = round(statistics.median(runs))
    for name, runs in cpu.items():
        report[f"{name}_server_cpu_us_per_call"] = round(statistics.median(runs))
    report["load_avg_1m"] = os.getloadavg()[0]
    return report


def main() -> None:
    """Starts the server, runs the rounds, prints one JSON line."""
    bench_main(__doc__.split("\n")[0], ["config.read", "config.write", "flags.read"], _run)


if __name__ == "__main__":
    main()
