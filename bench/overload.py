"""Overload: what share of its capacity a process still delivers when offered more than it can
do, for each value of `max_calls_in_progress`.

    .venv/bin/python bench/overload.py [--load 1.5] [--seconds 45] [--bounds 32,64,128,512]

For each bound in turn, one server subprocess on the embedded backends (the soak's mix:
config, flags, audit, 64 KiB storage round trips, notifications; `bench/soak.py`) is measured
closed-loop (16 rounds in flight, 15 s), then offered `--load` times that rate open-loop for
`--seconds`, then drained, then measured closed-loop again. Reported per bound: capacity,
successful rounds per second under overload and their share of the capacity (goodput), how
long the backlog took to drain, and the capacity afterwards (recovery without a restart).
Prints one JSON line per bound and a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from soak import capacity_of, mix_round, mix_server, setup_mix

from centrum.sdk import aio


async def _overload(
    target: str, tokens: list[str], load: float, seconds: float
) -> dict[str, float | str]:
    clients = [aio.connect(target, token=token) for token in tokens]
    try:
        await setup_mix(clients[0])
        capacity, counter, _ = await capacity_of(clients, 15, 0)
        interval = 1 / (capacity * load)
        latencies: list[float] = []
        errors: list[str] = []
        pending: set[asyncio.Task[None]] = set()
        next_at = time.monotonic()
        end = next_at + seconds
        while time.monotonic() < end:
            counter += 1
            task = asyncio.create_task(mix_round(clients, counter, latencies, errors))
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        good = len(latencies) / seconds
        drain_started = time.monotonic()
        await asyncio.gather(*pending)
        drained = time.monotonic() - drain_started
        after, _, after_errors = await capacity_of(clients, 10, counter)
    finally:
        for client in clients:
            await client.close()
    return {
        "capacity_rounds_per_s": round(capacity, 1),
        "offered_rounds_per_s": round(capacity * load, 1),
        "good_rounds_per_s": round(good, 1),
        "goodput_share": round(good / capacity, 2),
        "refused_or_failed": len(errors),
        "first_error": errors[0][:120] if errors else "",
        "drain_s": round(drained, 1),
        "capacity_after_rounds_per_s": round(after, 1),
        "errors_after": len(after_errors),
    }


def main() -> None:
    """Runs each bound in turn and prints the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load", type=float, default=1.5)
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--bounds", default="32,64,128,512")
    args = parser.parse_args()
    rows = [
        "| bound | capacity | offered | good under overload | share | drain s | after |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for bound in args.bounds.split(","):
        with mix_server({"CENTRUM_MAX_CALLS_IN_PROGRESS": bound}) as (target, tokens, _):
            result = asyncio.run(_overload(target, tokens, args.load, args.seconds))
        print(json.dumps({"bench": "overload", "max_calls_in_progress": int(bound), **result}))
        cells = [bound] + [
            str(result[k])
            for k in (
                "capacity_rounds_per_s",
                "offered_rounds_per_s",
                "good_rounds_per_s",
                "goodput_share",
                "drain_s",
                "capacity_after_rounds_per_s",
            )
        ]
        rows.append("| " + " | ".join(cells) + " |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
