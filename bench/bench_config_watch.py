"""Benchmark: how fast a config change reaches 1,000 concurrent Watch streams (p99 <= 100 ms).

One in-process Centrum server (embedded SQLite, in-process fan-out, the full interceptor chain)
serves the watchers, which run in a separate process (the load generator's own event loop must
not slow the server). The main process writes `--writes` changes, one every `--gap` seconds, each
carrying its send time; every watcher records the delay from the write's send time to the
arrival of its event. The baseline in the same run is the same measurement with one watcher.

Prints one JSON line: p50/p99/max propagation in ms for 1 and for `--watchers` watchers, and the
number of deliveries (every watcher must see every write exactly once).
Usage: `.venv/bin/python bench/bench_config_watch.py [--watchers 1000] [--writes 20]`; < 2 min.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import grpc  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from centrum.config.v1 import config_service_pb2 as pb  # noqa: E402
from centrum.config.v1 import config_service_pb2_grpc as pb_grpc  # noqa: E402

STREAMS_PER_CHANNEL = 100
"""Watch streams multiplexed on one HTTP/2 connection by the load generator."""


def _watchers(port: int, token: str, count: int, writes: int, pipe: Connection) -> None:
    """Load generator: `count` Watch streams; reports the delays of every delivery."""

    async def run() -> list[float]:
        delays: list[float] = []
        channels = [
            grpc.aio.insecure_channel(f"127.0.0.1:{port}")
            for _ in range((count + STREAMS_PER_CHANNEL - 1) // STREAMS_PER_CHANNEL)
        ]
        metadata = (("authorization", f"Bearer {token}"),)
        ready = asyncio.Event()
        established = 0

        async def watch(channel: grpc.aio.Channel) -> None:
            nonlocal established
            stub = pb_grpc.ConfigServiceStub(channel)
            seen = 0
            call = stub.Watch(pb.WatchRequest(environment="bench", key="k"), metadata=metadata)
            async for message in call:
                if message.HasField("progress"):
                    if seen == 0 and not message.change.revision:
                        established += 1
                        if established == count:
                            ready.set()
                    continue
                delays.append(time.time() - message.change.value.number_value)
                seen += 1
                if seen == writes:
                    call.cancel()
                    return

        tasks = [
            asyncio.create_task(watch(channels[i // STREAMS_PER_CHANNEL])) for i in range(count)
        ]
        await asyncio.wait_for(ready.wait(), 60)
        pipe.send("ready")
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        for channel in channels:
            await channel.close(None)
        return delays

    pipe.send(asyncio.run(run()))


async def _measure(port: int, token: str, watchers: int, writes: int, gap: float) -> list[float]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_watchers, args=(port, token, watchers, writes, child)
    )
    process.start()
    try:
        assert await asyncio.to_thread(parent.recv) == "ready"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.ConfigServiceStub(channel)
            metadata = (("authorization", f"Bearer {token}"),)
            for _ in range(writes):
                await stub.SetValue(
                    pb.SetValueRequest(
                        environment="bench",
                        key="k",
                        value=struct_pb2.Value(number_value=time.time()),
                    ),
                    metadata=metadata,
                )
                await asyncio.sleep(gap)  # pacing of the writes, not a wait for a condition
        delays: list[float] = await asyncio.to_thread(parent.recv)
    finally:
        process.join(30)
    return delays


def _summary(delays: list[float]) -> dict[str, Any]:
    ordered = sorted(delays)
    return {
        "deliveries": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def main() -> None:
    """Runs the baseline (1 watcher) and the measurement (`--watchers`) on one server."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.25)
    args = parser.parse_args()

    from centrum.server import CentrumApp, Settings
    from centrum.server.settings import RateLimitSetting
    from harness.tokens import TokenMint

    mint = TokenMint()
    token = mint.token(scopes=["config.read", "config.write"], ttl_s=3600)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            listen="127.0.0.1:0",
            log_level="warning",
            log_format="json",
            rate_limits={
                "config.watch": RateLimitSetting(disabled=True),
                "config.write": RateLimitSetting(disabled=True),
            },
            audit_levels={"centrum.config.v1.ConfigService.Watch": "none"},
        )
        app = CentrumApp(settings, key_source=mint.key_source())
        port = await app.start()
        try:
            baseline = await _measure(port, token, 1, args.writes, args.gap)
            loaded = await _measure(port, token, args.watchers, args.writes, args.gap)
        finally:
            await app.stop(grace_s=0)
    result = {
        "bench": "config_watch_propagation",
        "watchers": args.watchers,
        "writes": args.writes,
        "expected_deliveries": args.watchers * args.writes,
        "baseline_1_watcher": _summary(baseline),
        "loaded": _summary(loaded),
        "target_p99_ms": 100,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
