"""Soak: a mixed load across every service at about 70% of measured capacity, for minutes.

    .venv/bin/python bench/soak.py --minutes 10

Starts one server subprocess on the embedded backends (trusting a test signing key), measures
the capacity of the mix with a short closed-loop burst, then drives it open-loop at
``--load`` (0.7) of that rate. Every minute it records calls, errors, p50/p99 latency and the
server's resident memory; at the end it prints a markdown table and one JSON line, and exits
non-zero if any call failed or memory grew by 10% or more after the first minute.

The mix, per round: config SetValue + GetValue, flag EvaluateFlag, audit Append, a 64 KiB
storage Upload + Download, a notification Send to the local maildir.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import grpc  # noqa: E402
from _load import percentile, process_cpu_s  # noqa: E402
from google.protobuf import struct_pb2  # noqa: E402

from centrum.audit.v1 import audit_pb2, audit_service_pb2  # noqa: E402
from centrum.config.v1 import config_service_pb2, flag_service_pb2  # noqa: E402
from centrum.notification.v1 import notification_pb2, notification_service_pb2  # noqa: E402
from centrum.sdk import aio  # noqa: E402
from centrum.storage.v1 import storage_service_pb2  # noqa: E402
from harness.backends import free_port  # noqa: E402
from harness.tokens import TokenMint  # noqa: E402

Call = Callable[[aio.AsyncClient, int], Awaitable[None]]
PAYLOAD = os.urandom(64 * 1024)


async def _config(client: aio.AsyncClient, n: int) -> None:
    value = struct_pb2.Value(number_value=n)
    await client.config.SetValue(
        config_service_pb2.SetValueRequest(environment="soak", key=f"k/{n % 50}", value=value)
    )
    await client.config.GetValue(
        config_service_pb2.GetValueRequest(environment="soak", key=f"k/{n % 50}")
    )


async def _flag(client: aio.AsyncClient, n: int) -> None:
    request = flag_service_pb2.EvaluateFlagRequest(environment="soak", flag_key="checkout")
    request.context.targeting_key = f"user-{n}"
    await client.flags.EvaluateFlag(request)


async def _audit(client: aio.AsyncClient, n: int) -> None:
    event = audit_pb2.AuditEvent(
        event_id=f"soak-{os.getpid()}-{n}",
        category="soak",
        action="tick",
        outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
    )
    await client.audit.Append(audit_service_pb2.AppendRequest(event=event))


async def _storage(client: aio.AsyncClient, n: int) -> None:
    key = f"soak/{n % 20}.bin"

    async def chunks() -> AsyncIterator[storage_service_pb2.UploadRequest]:
        yield storage_service_pb2.UploadRequest(
            header=storage_service_pb2.UploadHeader(
                bucket="soak",
                key=key,
                content_type="application/octet-stream",
                size_bytes=len(PAYLOAD),
            )
        )
        yield storage_service_pb2.UploadRequest(chunk=PAYLOAD)

    await client.storage.Upload(chunks())
    async for _ in client.storage.Download(
        storage_service_pb2.DownloadRequest(bucket="soak", key=key)
    ):
        pass


async def _notify(client: aio.AsyncClient, n: int) -> None:
    request = notification_service_pb2.SendRequest()
    request.recipient.email.to.add(address=f"user{n % 100}@example.com")
    request.content.subject = "soak"
    request.content.text = "soak test message"
    await client.notifications.Send(request)


MIX: tuple[Call, ...] = (_config, _flag, _audit, _storage, _notify)
_ = notification_pb2


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def setup_mix(client: aio.AsyncClient) -> None:
    """Creates what the mix's calls need: the storage bucket and the evaluated flag."""
    await client.storage.CreateBucket(storage_service_pb2.CreateBucketRequest(name="soak"))
    flag = flag_service_pb2.SetFlagRequest(environment="soak", key="checkout")
    flag.flag.enabled = True
    flag.flag.variant_type = flag_service_pb2.VARIANT_TYPE_BOOL
    flag.flag.default_variant = "off"
    flag.flag.variants["on"].bool_value = True
    flag.flag.variants["off"].bool_value = False
    await client.flags.SetFlag(flag)


async def mix_round(
    clients: list[aio.AsyncClient], n: int, latencies: list[float], errors: list[str]
) -> None:
    """Round `n` of the mix: one call kind, as one principal; its latency or error is kept."""
    # Calls rotate over principals, as traffic from many callers would: the contract's
    # per-principal limits then bound each caller, not the soak as a whole.
    client = clients[n % len(clients)]
    call = MIX[n % len(MIX)]
    start = time.perf_counter()
    try:
        await call(client, n)
    except grpc.RpcError as exc:
        errors.append(f"{call.__name__}: {exc}")
        return
    latencies.append(time.perf_counter() - start)


async def capacity_of(
    clients: list[aio.AsyncClient], seconds: float, counter: int
) -> tuple[float, int, list[str]]:
    """Rounds per second that succeed with 16 rounds always in flight (closed loop); also the
    round counter afterwards and the errors seen."""
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def closed_loop() -> None:
        nonlocal counter
        while time.monotonic() < deadline:
            counter += 1
            await mix_round(clients, counter, latencies, errors)

    await asyncio.gather(*(closed_loop() for _ in range(16)))
    return len(latencies) / seconds, counter, errors


async def soak(
    target: str, tokens: list[str], pid: int, minutes: float, load: float
) -> dict[str, object]:
    """Measures capacity, then runs the open-loop soak; returns the report."""
    clients = [aio.connect(target, token=token) for token in tokens]
    try:
        await setup_mix(clients[0])
        capacity, counter, _ = await capacity_of(clients, 15, 0)
        rate = max(1.0, capacity * load)
        minutes_report: list[dict[str, object]] = []
        end = time.monotonic() + minutes * 60
        interval = 1 / rate
        pending: set[asyncio.Task[None]] = set()
        next_at = time.monotonic()
        while time.monotonic() < end:
            window_latencies: list[float] = []
            window_errors: list[str] = []
            window_end = min(end, time.monotonic() + 60)
            while time.monotonic() < window_end:
                counter += 1
                task = asyncio.create_task(
                    mix_round(clients, counter, window_latencies, window_errors)
                )
                pending.add(task)
                task.add_done_callback(pending.discard)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            ordered = sorted(window_latencies)
            minutes_report.append(
                {
                    "minute": len(minutes_report) + 1,
                    "calls": len(ordered),
                    "errors": len(window_errors),
                    "first_error": window_errors[0] if window_errors else "",
                    "p50_ms": round(percentile(ordered, 0.5) * 1000, 2) if ordered else None,
                    "p99_ms": round(percentile(ordered, 0.99) * 1000, 2) if ordered else None,
                    "rss_mib": round(_rss_kib(pid) / 1024, 1),
                }
            )
            print(json.dumps(minutes_report[-1]), file=sys.stderr, flush=True)
        await asyncio.gather(*pending)
    finally:
        for client in clients:
            await client.close()
    first, last = minutes_report[0]["rss_mib"], minutes_report[-1]["rss_mib"]
    growth = (float(last) - float(first)) / float(first) if first else 0.0  # type: ignore[arg-type]
    return {
        "bench": "soak",
        "capacity_rounds_per_s": round(capacity, 1),
        "offered_rounds_per_s": round(rate, 1),
        "minutes": minutes_report,
        "errors": sum(int(m["errors"]) for m in minutes_report),  # type: ignore[call-overload]
        "memory_growth_after_first_minute": round(growth, 4),
        "command": " ".join(["bench/soak.py", *sys.argv[1:]]),
    }


@contextlib.contextmanager
def mix_server(env: dict[str, str]) -> Iterator[tuple[str, list[str], int]]:
    """A server subprocess for the mix, with `env` added to its environment; yields its
    target, 32 principals' tokens and its pid, and stops it on exit. Its log is kept in a
    temporary directory."""
    mint = TokenMint()
    work = Path(tempfile.mkdtemp(prefix="centrum-soak-"))
    (work / "jwks.json").write_text(json.dumps([mint.jwk]))
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "support" / "serve_echo.py"),
            "--listen",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(work / "data"),
            "--jwks",
            str(work / "jwks.json"),
        ],
        stdout=(work / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "CENTRUM_LOG_LEVEL": "warning", **env},
    )
    try:
        target = f"127.0.0.1:{port}"
        with grpc.insecure_channel(target) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
        tokens = [
            mint.token(subject=f"soak-{i}", tenant="soak", scopes=["*"], ttl_s=7200)
            for i in range(32)
        ]
        yield target, tokens, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


Caller = Callable[[int, int], Awaitable[None]]
"""What one caller of `measure_callers` calls: (caller index, its call count so far)."""


async def measure_callers(
    pid: int, seconds: float, callers: list[Caller]
) -> tuple[list[float], float]:
    """Calls per second of each caller and the server's CPU microseconds per call (`/proc`),
    with every caller looping over its `call(caller, n)` for `seconds`."""
    done = [0] * len(callers)
    deadline = time.monotonic() + seconds

    async def caller(k: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            await callers[k](k, n)
            done[k] += 1

    cpu, started = process_cpu_s(pid), time.monotonic()
    await asyncio.gather(*(caller(k) for k in range(len(callers))))
    elapsed, used = time.monotonic() - started, process_cpu_s(pid) - cpu
    return [n / elapsed for n in done], used / max(sum(done), 1) * 1e6


MixRun = Callable[[str, list[str], int, float, int], Coroutine[Any, Any, dict[str, object]]]
"""A benchmark's rounds against a mix server: (target, tokens, pid, seconds, rounds) -> report."""


def bench_main(description: str, buckets: list[str], run: MixRun) -> None:
    """A benchmark's command line: parses --seconds and --rounds, starts a mix server with the
    rate-limit `buckets` raised so that no call is refused (the contract's limits are per
    principal per minute), awaits `run` and prints its report as one JSON line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raised = {f"CENTRUM_RATE_LIMITS__{name.upper()}__PER_MINUTE": "10000000" for name in buckets}
    with mix_server(raised) as (target, tokens, pid):
        print(json.dumps(asyncio.run(run(target, tokens, pid, args.seconds, args.rounds))))


def main() -> None:
    """Starts the server, runs the soak, prints the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--load", type=float, default=0.7)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: embedded SQLite)")
    parser.add_argument("--redis-url", help="Redis URL (default: in-process)")
    args = parser.parse_args()
    backends = {}
    if args.database_url:
        backends["CENTRUM_DATABASE_URL"] = args.database_url
    if args.redis_url:
        backends["CENTRUM_REDIS_URL"] = args.redis_url
    with mix_server(backends) as (target, tokens, pid):
        report = asyncio.run(soak(target, tokens, pid, args.minutes, args.load))
    rows = [
        "| minute | calls | errors | p50 ms | p99 ms | server RSS MiB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in report["minutes"]:  # type: ignore[attr-defined]
        cells = (m["minute"], m["calls"], m["errors"], m["p50_ms"], m["p99_ms"], m["rss_mib"])
        rows.append("| " + " | ".join(str(c) for c in cells) + " |")
    print("\n".join(rows))
    print(json.dumps(report))
    growth = float(report["memory_growth_after_first_minute"])  # type: ignore[arg-type]
    sys.exit(1 if report["errors"] or growth >= 0.10 else 0)


if __name__ == "__main__":
    main()
