"""Benchmark: how fast a config change reaches 1,000 concurrent Watch streams (p99 <= 100 ms).

Three phases in one run, on the same machine, with the same load generator:

* ``bare``: the floor. A bare grpc.aio server (no chain, no database) whose SetValue hands one
  prebuilt WatchResponse to every open Watch stream through an asyncio queue each;
* ``centrum_1``: one Centrum server in this process (embedded SQLite, in-process fan-out, the full
  interceptor chain) with a single watcher;
* ``centrum``: the same server with ``--watchers`` watchers.

The watchers run in ``--client-processes`` separate processes (the load generator's event loop
must not be what is measured: each phase reports the CPU seconds the server process and the
client processes used, so a saturated client shows). The main process writes ``--writes``
changes, one every ``--gap`` seconds, each carrying its send time; every watcher records the
delay from the write's send time to the arrival of its event.

Prints one JSON line: per phase p50/p99/max propagation in ms, deliveries (every watcher must see
every write exactly once), server and client CPU seconds, and the p99 ratio against ``bare``.
``--profile FILE`` writes a cProfile of the server's event loop during the ``centrum`` phase.
Usage: ``.venv/bin/python bench/bench_config_watch.py [--watchers 1000] [--writes 20]``; < 1 min.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import grpc  # noqa: E402
from _load import percentile, process_cpu_s  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from centrum.config.v1 import config_service_pb2 as pb  # noqa: E402
from centrum.config.v1 import config_service_pb2_grpc as pb_grpc  # noqa: E402

STREAMS_PER_CHANNEL = 100
"""Watch streams multiplexed on one HTTP/2 connection by the load generator."""

Write = Callable[[float], Awaitable[None]]


def _watchers(port: int, token: str, count: int, writes: int, pipe: Connection) -> None:
    """One load-generator process: `count` Watch streams; reports delays and its CPU seconds."""

    async def run() -> tuple[list[float], float]:
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
            started = False
            call = stub.Watch(pb.WatchRequest(environment="bench", key="k"), metadata=metadata)
            async for message in call:
                if message.HasField("progress"):
                    if not started:
                        started = True
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
        cpu = process_cpu_s()
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
        cpu = process_cpu_s() - cpu
        for channel in channels:
            await channel.close(None)
        return delays, cpu

    pipe.send(asyncio.run(run()))


async def _measure(
    port: int, token: str, watchers: int, processes: int, writes: int, gap: float, write: Write
) -> dict[str, Any]:
    """Starts the watcher processes, writes, and summarises what they saw."""
    processes = max(1, min(processes, watchers))
    spawn = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    children = []
    for index in range(processes):
        share = watchers // processes + (1 if index < watchers % processes else 0)
        parent, child = spawn.Pipe()
        process = spawn.Process(target=_watchers, args=(port, token, share, writes, child))
        process.start()
        pipes.append(parent)
        children.append(process)
    try:
        for pipe in pipes:
            assert await asyncio.to_thread(pipe.recv) == "ready"
        server_cpu = process_cpu_s()
        started = time.perf_counter()
        for _ in range(writes):
            await write(time.time())
            await asyncio.sleep(gap)  # pacing of the writes, not a wait for a condition
        delays: list[float] = []
        client_cpu = 0.0
        for pipe in pipes:
            got, cpu = await asyncio.to_thread(pipe.recv)
            delays.extend(got)
            client_cpu += cpu
        server_cpu = process_cpu_s() - server_cpu
        elapsed = time.perf_counter() - started
    finally:
        for process in children:
            process.join(30)
    ordered = sorted(delays)
    return {
        "watchers": watchers,
        "client_processes": processes,
        "deliveries": len(ordered),
        "expected_deliveries": watchers * writes,
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "server_cpu_s": round(server_cpu, 2),
        "client_cpu_s": round(client_cpu, 2),
        "wall_s": round(elapsed, 2),
    }


class _BareWatch:
    """The floor: SetValue puts one prebuilt message on every open Watch stream's queue."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[pb.WatchResponse]] = set()
        self._revision = 0

    async def watch(
        self, request: pb.WatchRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.WatchResponse]:
        queue: asyncio.Queue[pb.WatchResponse] = asyncio.Queue()
        self._queues.add(queue)
        try:
            yield pb.WatchResponse(progress=pb.WatchProgress(revision=self._revision))
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def set_value(
        self, request: pb.SetValueRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SetValueResponse:
        self._revision += 1
        event = pb.WatchResponse(
            change=pb.ConfigChange(
                environment=request.environment,
                key=request.key,
                value=request.value,
                revision=self._revision,
            )
        )
        for queue in self._queues:
            queue.put_nowait(event)
        return pb.SetValueResponse()

    def handler(self) -> grpc.GenericRpcHandler[Any, Any]:
        """The two methods under ConfigService's names, so the load generator is unchanged."""
        return grpc.method_handlers_generic_handler(
            "centrum.config.v1.ConfigService",
            {
                "Watch": grpc.unary_stream_rpc_method_handler(
                    self.watch,
                    request_deserializer=pb.WatchRequest.FromString,
                    response_serializer=pb.WatchResponse.SerializeToString,
                ),
                "SetValue": grpc.unary_unary_rpc_method_handler(
                    self.set_value,
                    request_deserializer=pb.SetValueRequest.FromString,
                    response_serializer=pb.SetValueResponse.SerializeToString,
                ),
            },
        )


def _writer(stub: pb_grpc.ConfigServiceAsyncStub, token: str) -> Write:
    metadata = (("authorization", f"Bearer {token}"),)

    async def write(now: float) -> None:
        await stub.SetValue(
            pb.SetValueRequest(
                environment="bench", key="k", value=struct_pb2.Value(number_value=now)
            ),
            metadata=metadata,
        )

    return write


async def _bare(args: argparse.Namespace) -> dict[str, Any]:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_BareWatch().handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    gc.collect()  # the same start-up heap freeze as Centrum's, for a fair floor
    gc.freeze()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            write = _writer(pb_grpc.ConfigServiceStub(channel), "-")
            return await _measure(
                port, "-", args.watchers, args.client_processes, args.writes, args.gap, write
            )
    finally:
        await server.stop(0)


async def _centrum(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    from centrum.server import CentrumApp, Settings
    from centrum.server.runner import freeze_startup_heap
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
        freeze_startup_heap()  # as `centrum serve` does once serving
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                write = _writer(pb_grpc.ConfigServiceStub(channel), token)
                single = await _measure(port, token, 1, 1, args.writes, args.gap, write)
                profile = cProfile.Profile() if args.profile else None
                if profile is not None:
                    profile.enable()
                loaded = await _measure(
                    port, token, args.watchers, args.client_processes, args.writes, args.gap, write
                )
                if profile is not None:
                    profile.disable()
                    profile.dump_stats(args.profile)
        finally:
            await app.stop(grace_s=0)
    return single, loaded


async def main() -> None:
    """Runs the three phases and prints one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.25)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()

    bare = await _bare(args)
    single, loaded = await _centrum(args)
    result = {
        "bench": "config_watch_propagation",
        "writes": args.writes,
        "bare_grpc_aio": bare,
        "centrum_1_watcher": single,
        "centrum": loaded,
        "p99_ratio_vs_bare": round(loaded["p99_ms"] / max(bare["p99_ms"], 0.01), 2),
        "target_p99_ms": 100,
        "meets_target": loaded["p99_ms"] <= 100
        and loaded["deliveries"] == loaded["expected_deliveries"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
