"""A small closed-loop gRPC load generator: N asyncio tasks over K channels, one unary method.

The calls go out as pre-serialized bytes and the responses stay bytes (no protobuf work in the
client), so that as much of the client's CPU as possible is left for sending calls. Each task
issues the call back to back; calls are timed with ``perf_counter`` and counted only when they
start and end inside the measurement window, which opens after a warm-up.

In process::

    result = await run_load(target, "/pkg.Service/Method", request_bytes, metadata,
                            concurrency=32, channels=4, duration_s=5, warmup_s=1)

From one or more client processes started together (their windows are the same wall-clock
interval, their latencies are merged)::

    result = await run_load_processes(processes, target, method, request_bytes, metadata, ...)

As a script (what ``run_load_processes`` starts): ``python bench/_load.py --target HOST:PORT
--method /pkg.Service/Method --request-hex HEX [--metadata k=v ...] --concurrency N --channels K
--duration S --start-at UNIX_TIME --out FILE``; writes a JSON object to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

__all__ = [
    "LoadResult",
    "percentile",
    "process_cpu_s",
    "process_usage",
    "run_load",
    "run_load_processes",
]

Metadata = Sequence[tuple[str, str]]
_SCRIPT = Path(__file__).resolve()


@dataclass
class LoadResult:
    """What one load run measured (latencies in seconds, one per counted call)."""

    calls: int
    errors: int
    window_s: float
    latencies: list[float] = field(repr=False)
    first_error: str = ""
    client_cpu_s: float = 0.0
    """CPU the client process(es) used during the window (all threads), when known."""

    @property
    def rps(self) -> float:
        """Successful calls per second over the window."""
        return self.calls / self.window_s if self.window_s > 0 else 0.0

    def quantile_ms(self, q: float) -> float:
        """The q-quantile of the latency of successful calls, in milliseconds."""
        return percentile(sorted(self.latencies), q) * 1000

    @property
    def p50_ms(self) -> float:
        """Median latency in ms."""
        return self.quantile_ms(0.50)

    @property
    def p99_ms(self) -> float:
        """99th percentile latency in ms."""
        return self.quantile_ms(0.99)

    def to_json(self) -> dict[str, object]:
        """A JSON-able dict (latencies included) for passing between processes."""
        return {
            "calls": self.calls,
            "errors": self.errors,
            "window_s": self.window_s,
            "latencies": self.latencies,
            "first_error": self.first_error,
            "client_cpu_s": self.client_cpu_s,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LoadResult:
        """The inverse of :meth:`to_json`."""
        return cls(
            calls=int(data["calls"]),  # type: ignore[call-overload]
            errors=int(data["errors"]),  # type: ignore[call-overload]
            window_s=float(data["window_s"]),  # type: ignore[arg-type]
            latencies=list(data["latencies"]),  # type: ignore[call-overload]
            first_error=str(data.get("first_error", "")),
            client_cpu_s=float(data.get("client_cpu_s", 0.0)),  # type: ignore[arg-type]
        )


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def process_cpu_s(pid: int | None = None) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc; 0 if unreadable)."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    return process_usage(pid)[0]


def process_usage(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system, all threads) and minor page faults of a process so far
    (Linux /proc; zeros if unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0
    fields = stat.rpartition(")")[2].split()  # the command name in parentheses may hold spaces
    # After the name: state is field 3; minflt is field 10, utime and stime fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[7])


async def run_load(
    target: str,
    method: str,
    request: bytes,
    metadata: Metadata = (),
    *,
    concurrency: int = 32,
    channels: int = 4,
    duration_s: float = 5.0,
    warmup_s: float = 1.0,
    start_at: float | None = None,
    timeout_s: float = 30.0,
) -> LoadResult:
    """Run the load and return what the window measured.

    The window opens ``warmup_s`` after the channels are ready, or at wall-clock ``start_at``
    (``time.time()``) when given, and lasts ``duration_s``. Each channel gets its own TCP
    connection (``grpc.use_local_subchannel_pool``); tasks are spread over them round-robin.
    """
    chans = [
        grpc.aio.insecure_channel(target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(channels)
    ]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(ch.channel_ready() for ch in chans)), timeout=timeout_s
        )
        # No serializers: the request goes out as the given bytes, the response stays bytes.
        callables = [ch.unary_unary(method, None, None) for ch in chans]
        md: tuple[tuple[str, str | bytes], ...] = tuple(metadata)
        now_perf, now_wall = time.perf_counter(), time.time()
        offset = warmup_s if start_at is None else start_at - now_wall
        window_start = now_perf + offset
        window_end = window_start + duration_s
        latencies: list[float] = []
        counts = {"errors": 0}
        first_error: list[str] = []

        async def worker(index: int) -> None:
            call = callables[index % len(callables)]
            record = latencies.append
            perf = time.perf_counter
            while True:
                started = perf()
                if started >= window_end:
                    return
                try:
                    await call(request, metadata=md, timeout=timeout_s)
                except grpc.RpcError as exc:
                    ended = perf()
                    if started >= window_start and ended <= window_end:
                        counts["errors"] += 1
                        if not first_error:
                            first_error.append(f"{exc.code().name}: {exc.details()}")
                    continue
                ended = perf()
                if started >= window_start and ended <= window_end:
                    record(ended - started)

        delay = window_start - time.perf_counter()
        cpu_before: float | None = None

        async def sample_cpu() -> None:
            nonlocal cpu_before
            await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
            cpu_before = process_cpu_s()
            await asyncio.sleep(max(0.0, window_end - time.perf_counter()))

        if delay < -duration_s:
            raise RuntimeError("the measurement window passed before the channels were ready")
        await asyncio.wait_for(
            asyncio.gather(sample_cpu(), *(worker(i) for i in range(concurrency))),
            timeout=max(0.0, delay) + duration_s + timeout_s + 5,
        )
        cpu_after = process_cpu_s()
        return LoadResult(
            calls=len(latencies),
            errors=counts["errors"],
            window_s=duration_s,
            latencies=latencies,
            first_error=first_error[0] if first_error else "",
            client_cpu_s=cpu_after - (cpu_before if cpu_before is not None else cpu_after),
        )
    finally:
        for ch in chans:
            await ch.close(None)


async def run_load_processes(
    processes: int,
    target: str,
    method: str,
    request: bytes,
    metadata: Metadata = (),
    *,
    concurrency: int = 32,
    channels: int = 4,
    duration_s: float = 5.0,
    warmup_s: float = 1.0,
    spawn_margin_s: float = 1.5,
    start_at: float | None = None,
    python: str = sys.executable,
) -> LoadResult:
    """Run the load from ``processes`` client processes at once; merge their results.

    ``concurrency`` and ``channels`` are per process. The window opens at the same wall-clock
    time in every process: ``spawn_margin_s`` (start-up, imports, connecting) plus ``warmup_s``
    from now, or wall-clock ``start_at`` when given.
    """
    if start_at is None:
        start_at = time.time() + spawn_margin_s + warmup_s
    with tempfile.TemporaryDirectory(prefix="centrum-load-") as tmp:
        outs = [Path(tmp) / f"client-{i}.json" for i in range(processes)]
        argv = [
            python,
            str(_SCRIPT),
            "--target",
            target,
            "--method",
            method,
            "--request-hex",
            request.hex(),
            "--concurrency",
            str(concurrency),
            "--channels",
            str(channels),
            "--duration",
            str(duration_s),
            "--start-at",
            repr(start_at),
        ]
        for key, value in metadata:
            argv += ["--metadata", f"{key}={value}"]
        procs = [
            await asyncio.create_subprocess_exec(
                *argv, "--out", str(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            for out in outs
        ]
        results: list[LoadResult] = []
        for proc, out in zip(procs, outs, strict=True):
            _, stderr = await proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"load client failed ({proc.returncode}): {stderr.decode()}")
            results.append(LoadResult.from_json(json.loads(out.read_text())))
    return LoadResult(
        calls=sum(r.calls for r in results),
        errors=sum(r.errors for r in results),
        window_s=duration_s,
        latencies=[x for r in results for x in r.latencies],
        first_error=next((r.first_error for r in results if r.first_error), ""),
        client_cpu_s=sum(r.client_cpu_s for r in results),
    )


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--request-hex", default="")
    parser.add_argument("--metadata", action="append", default=[], help="key=value")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--start-at", type=float, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    metadata = [(key, value) for key, _, value in (m.partition("=") for m in args.metadata)]
    result = asyncio.run(
        run_load(
            args.target,
            args.method,
            bytes.fromhex(args.request_hex),
            metadata,
            concurrency=args.concurrency,
            channels=args.channels,
            duration_s=args.duration,
            warmup_s=args.warmup,
            start_at=args.start_at,
        )
    )
    if args.out is not None:
        args.out.write_text(json.dumps(result.to_json()))
    else:
        print(
            json.dumps(
                {
                    "rps": round(result.rps, 1),
                    "p50_ms": round(result.p50_ms, 3),
                    "p99_ms": round(result.p99_ms, 3),
                    "errors": result.errors,
                    "first_error": result.first_error,
                    "client_cpu_s": round(result.client_cpu_s, 2),
                }
            )
        )


if __name__ == "__main__":
    _main()
