"""Benchmark: RedisLimiter decisions per second per process, and one global limit for 2 replicas.

Runs four measurements against one Redis and prints one JSON line:

* ``single``: one process, ``--tasks`` concurrent tasks over 64 keys of a rule that is never
  exceeded (so the over-limit cache never answers). Busy keys lease calls from Redis, so most
  decisions are local; ``single_no_lease`` is the same with leases off (``lease_ttl_s=0``): every
  admission is counted by a script call, calls of one key waiting together sharing one;
* ``two_processes``: the same load from two processes (two replicas) at once;
* ``global_limit``: two processes hammering one tight bucket; asserts that the calls admitted
  across both never exceed ``burst`` plus what the elapsed time earns (hence never
  ``per_minute + burst`` in any minute). Most of these decisions come from the local over-limit
  cache, which is the point of that cache.

Redis: ``--redis-url`` (default ``$CENTRUM_REDIS_URL`` or redis://127.0.0.1:6379/0); when it
does not answer, a private ``redis-server`` is started on a free port for the run.
Usage: ``.venv/bin/python bench/bench_ratelimit.py [--seconds 4] [--tasks 64]``; < 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import multiprocessing.synchronize
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.queues import Queue
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from centrum.interceptors.ratelimit import InProcessLimiter, RateLimitRule, RedisLimiter
from centrum.interceptors.ratelimit._redis import LEASE_TTL_S

ROOMY_RULE = RateLimitRule(bucket="bench.roomy", per_minute=60_000_000, burst=1_000_000)
"""Never exceeded during a run: every decision is a Redis round trip."""

TIGHT_RULE = RateLimitRule(bucket="bench.tight", per_minute=6_000, burst=50)
"""100 calls/s plus a burst of 50, shared by both processes: almost every call is over it."""

ROOMY_KEYS = 64
"""Distinct keys the roomy load spreads over (like many callers of one bucket)."""


@dataclass(frozen=True, slots=True)
class Run:
    """What one process did during one measurement (times are ``time.time()`` seconds)."""

    decisions: int
    admitted: int
    backend_errors: int
    started: float
    finished: float

    @property
    def rate(self) -> float:
        """Decisions per second."""
        return self.decisions / (self.finished - self.started)


def make_client(url: str, tasks: int) -> redis.asyncio.Redis:
    """A client sized for ``tasks`` concurrent callers that fails fast instead of retrying."""
    return redis.asyncio.Redis.from_url(
        url,
        max_connections=tasks + 8,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        retry=Retry(NoBackoff(), 0),
    )


async def load(
    url: str,
    prefix: str,
    rule: RateLimitRule,
    tasks: int,
    seconds: float,
    start_at: float | None = None,
    lease_ttl_s: float = LEASE_TTL_S,
) -> Run:
    """Run ``tasks`` tasks checking ``rule`` back to back for ``seconds``; count outcomes."""
    conn = make_client(url, tasks)
    errors: list[BaseException] = []
    limiter = RedisLimiter(
        conn,
        fallback=InProcessLimiter(),
        key_prefix=prefix,
        on_backend_error=errors.append,
        lease_ttl_s=lease_ttl_s,
    )
    await conn.ping()
    await limiter.check(ROOMY_RULE, "warm-up")  # loads the script and opens a connection
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    decisions = admitted = 0
    started = time.time()
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        nonlocal decisions, admitted
        key = f"k{index % ROOMY_KEYS}" if rule is ROOMY_RULE else "shared"
        while time.monotonic() < deadline:
            decision = await limiter.check(rule, key)
            decisions += 1
            admitted += decision.allowed

    await asyncio.gather(*(worker(i) for i in range(tasks)))
    finished = time.time()
    await conn.aclose()
    return Run(decisions, admitted, len(errors), started, finished)


def child(
    url: str,
    prefix: str,
    tight: bool,
    tasks: int,
    seconds: float,
    ready: multiprocessing.synchronize.Barrier,
    start_at: Any,
    results: Queue[Run],
) -> None:
    """One replica: wait until both are ready, then run the load at the agreed instant."""
    rule = TIGHT_RULE if tight else ROOMY_RULE
    ready.wait()
    results.put(asyncio.run(load(url, prefix, rule, tasks, seconds, start_at.value)))


def two_processes(url: str, tight: bool, tasks: int, seconds: float) -> list[Run]:
    """Run the load from two processes at once against one Redis; return both runs."""
    ctx = multiprocessing.get_context("spawn")
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    start_at = ctx.Value("d", 0.0)
    barrier = ctx.Barrier(3)
    results: Queue[Run] = ctx.Queue()
    procs = [
        ctx.Process(
            target=child,
            args=(url, prefix, tight, tasks, seconds, barrier, start_at, results),
        )
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    start_at.value = time.time() + 1.5  # both have imported by then; they start together
    barrier.wait(timeout=30)
    runs = [results.get(timeout=seconds + 30) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    cleanup(url, prefix)
    return runs


def cleanup(url: str, prefix: str) -> None:
    """Delete the run's keys."""
    conn = redis.Redis.from_url(url)
    keys = list(conn.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        conn.delete(*keys)
    conn.close()


def answers(url: str) -> bool:
    """Whether a Redis answers PING at ``url``."""
    conn = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(conn.ping())
    except (redis.exceptions.RedisError, OSError):
        return False
    finally:
        conn.close()


@contextmanager
def redis_at(url: str) -> Iterator[str]:
    """Yield ``url`` if a Redis answers there, else the URL of a private redis-server."""
    if answers(url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit(f"no Redis at {url} and no redis-server on PATH (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    private = f"redis://127.0.0.1:{port}/0"
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while not answers(private):
                if time.monotonic() > deadline:
                    sys.exit("private redis-server did not answer PING within 10 s")
                time.sleep(0.05)
            yield private
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    """Run the four measurements, check the global limit, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CENTRUM_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measurement")
    parser.add_argument("--tasks", type=int, default=64, help="concurrent tasks per process")
    args = parser.parse_args()
    began = time.monotonic()
    with redis_at(args.redis_url) as url:
        prefix = f"bench:{uuid.uuid4().hex[:8]}:"
        single = asyncio.run(load(url, prefix, ROOMY_RULE, args.tasks, args.seconds))
        cleanup(url, prefix)
        unleased = asyncio.run(
            load(url, prefix, ROOMY_RULE, args.tasks, args.seconds, lease_ttl_s=0.0)
        )
        cleanup(url, prefix)
        pair = two_processes(url, tight=False, tasks=args.tasks, seconds=args.seconds)
        tight = two_processes(url, tight=True, tasks=args.tasks, seconds=args.seconds)

    window = max(r.finished for r in tight) - min(r.started for r in tight)
    interval_s = 60 / TIGHT_RULE.per_minute
    admitted = sum(r.admitted for r in tight)
    bound = TIGHT_RULE.burst + int(window / interval_s)
    limit_plus_burst = TIGHT_RULE.per_minute + TIGHT_RULE.burst
    errors = sum(r.backend_errors for r in (single, unleased, *pair, *tight))
    result = {
        "bench": "ratelimit_redis",
        "tasks_per_process": args.tasks,
        "seconds": args.seconds,
        "single": {"decisions_per_s": round(single.rate)},
        "single_no_lease": {"decisions_per_s": round(unleased.rate)},
        "two_processes": {
            "decisions_per_s_per_process": [round(r.rate) for r in pair],
            "decisions_per_s_total": round(sum(r.rate for r in pair)),
        },
        "global_limit": {
            "rule": asdict(TIGHT_RULE),
            "decisions_per_s_per_process": [round(r.rate) for r in tight],
            "admitted": admitted,
            "window_s": round(window, 3),
            "bound_burst_plus_elapsed": bound,
            "limit_plus_burst": limit_plus_burst,
        },
        "backend_errors": errors,
        "wall_s": round(time.monotonic() - began, 1),
    }
    print(json.dumps(result))
    assert errors == 0, f"{errors} decisions did not reach Redis"
    assert admitted <= bound <= limit_plus_burst, f"admitted {admitted} > bound {bound}"


if __name__ == "__main__":
    main()
