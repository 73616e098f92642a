"""Benchmark: a trivial unary RPC through the full chain against the same RPC on a bare server.

Issue 3 acceptance: the test-only ``EchoService/Echo`` (scope ``echo.read``, rate-limit bucket
``echo.unary``, audit FULL) served

* ``bare``: by a plain ``grpc.aio.server()`` with the same ``EchoServicer`` registered through the
  generated ``add_EchoServiceServicer_to_server`` and no interceptors at all;
* ``full``: by ``CentrumApp``: OpenTelemetry server interceptor (SDK ``TracerProvider`` recording
  every span into a ``BatchSpanProcessor`` whose exporter discards them), then the chain: request
  context, metrics (``/metrics`` endpoint on), JSON logging (one line per call, to a file), JWT
  auth (Ed25519, one token for every call, so verified-token cache hits as in production), Redis
  rate limit (one busy key: most calls are decided from a lease of calls Redis counted ahead;
  the bucket is raised so nothing is rejected), validation and FULL audit into the embedded
  SQLite audit log.

Each server runs in a process of its own, the load comes from separate client process(es)
(``bench/_load.py``; ``--client inproc`` runs it in the driver instead). Rounds alternate
bare/full (the order flips every round) and the figures reported are medians over rounds; the
ratio is the median of the per-round full/bare throughput ratios. Each round measures
throughput at ``--concurrency`` (closed loop, saturating) and then latency at concurrency 1
(unloaded). Server CPU per call comes from ``/proc/<pid>/stat`` over the same window.

Redis: ``--redis-url`` (default redis://127.0.0.1:6379/0) must answer.
Usage: ``.venv/bin/python bench/bench_chain.py [--duration 5] [--concurrency 32] [--rounds 3]``;
about 80 s with the defaults. ``--profile FILE`` instead runs one full-server throughput phase
under cProfile and prints the top functions.

Server modes (started by the driver): ``bench_chain.py serve-bare PORT`` and
``bench_chain.py serve-full PORT DATA_DIR JWKS_FILE METRICS_PORT REDIS_URL``; PORT 0 picks a free
port; the bound port is printed as ``PORT <n>`` on stdout. ``BENCH_CPROFILE=FILE`` in the
environment profiles the server's event loop thread into FILE (pstats) until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import grpc  # noqa: E402
from _load import (  # noqa: E402
    LoadResult,
    process_cpu_s,
    run_load,
    run_load_processes,
)

METHOD = "/centrum_test.v1.EchoService/Echo"
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    ("grpc.max_send_message_length", 8 * 1024 * 1024),
    ("grpc.so_reuseport", 0),
]
"""The options CentrumApp gives its server; the bare server gets the same."""


# --------------------------------------------------------------------------------------------
# Server modes (each in a subprocess of its own)
# --------------------------------------------------------------------------------------------


def _echo_modules() -> tuple[Any, Any]:
    import atexit

    from support import echo

    pb2, pb2_grpc = echo.modules()
    # echo.modules() compiles into a fresh temp dir per process; remove it when we exit.
    generated = Path(str(pb2.__file__)).resolve().parents[2]
    if generated.name.startswith("centrum-test-proto-"):
        atexit.register(shutil.rmtree, generated, True)
    return pb2, pb2_grpc


async def _wait_for_signal() -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()


async def _serve_bare(port: int) -> None:
    from centrum.interceptors.context import Principal, set_principal
    from support import echo

    _, pb2_grpc = _echo_modules()
    # EchoServicer.Echo reads the principal the chain would set. The bare server has no chain:
    # the principal is set once here, and every RPC task inherits it (tasks copy the context
    # of the server's serving loop, created by server.start()), so no per-call work is added.
    set_principal(Principal(subject="svc-test", tenant="acme", scopes=frozenset({"echo.read"})))
    server = grpc.aio.server(options=SERVER_OPTIONS)
    pb2_grpc.add_EchoServiceServicer_to_server(echo.EchoServicer(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    gc.collect()  # the same start-up heap freeze as Centrum's, for a fair floor
    gc.freeze()
    print(f"PORT {bound}", flush=True)
    await _wait_for_signal()
    await server.stop(1)


VARIANTS = {
    "full": "everything on (what the acceptance measures)",
    "notrace": "no SDK TracerProvider (the OTel interceptor runs with the no-op tracer)",
    "nolog": "log_level=warning (no per-call log line)",
    "noaudit": "audit level NONE for Echo (AuditStep not selected)",
    "norl": "rate limit disabled for echo.unary (RateLimitStep not selected)",
    "memrl": "no redis_url (InProcessLimiter instead of Redis)",
    "minimal": "notrace+nolog+noaudit+norl: context, metrics, auth, validation only",
}
"""Full-server variants for ``--variants`` (all by settings; the chain code is untouched)."""


async def _serve_full(
    port: int,
    data_dir: Path,
    jwks: list[dict[str, Any]],
    metrics_port: int,
    redis_url: str,
    variant: str = "full",
) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from pydantic import SecretStr

    from centrum.interceptors.credentials import StaticKeySource
    from centrum.interceptors.logging import configure_logging
    from centrum.server import CentrumApp, ExtraService, Settings
    from centrum.server.runner import freeze_startup_heap
    from centrum.server.settings import RateLimitSetting
    from support import echo

    class DiscardingExporter(SpanExporter):
        """Takes finished spans and drops them: span creation and batching still cost."""

        def __init__(self) -> None:
            self.exported = 0

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            self.exported += len(spans)
            return SpanExportResult.SUCCESS

    _echo_modules()
    off = {"notrace", "nolog", "noaudit", "norl"} if variant == "minimal" else {variant}
    exporter = DiscardingExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if "notrace" not in off:
        trace.set_tracer_provider(provider)

    rate_limit = RateLimitSetting(per_minute=600_000_000, burst=10_000_000, disabled="norl" in off)
    settings = Settings(
        listen=f"127.0.0.1:{port}",
        data_dir=data_dir,
        log_level="warning" if "nolog" in off else "info",
        log_format="json",
        metrics_listen=f"127.0.0.1:{metrics_port}",
        redis_url=None if "memrl" in off else SecretStr(redis_url),
        rate_limits={"echo.unary": rate_limit},
        audit_levels={"centrum_test.v1.EchoService.Echo": "none"} if "noaudit" in off else {},
    )
    configure_logging(settings.log_level, settings.log_format)
    app = CentrumApp(
        settings,
        extra_services=[ExtraService(echo.descriptor(), echo.EchoServicer())],
        key_source=StaticKeySource(jwks),
    )
    bound = await app.start()
    freeze_startup_heap()  # as `centrum serve` does once serving
    print(f"PORT {bound}", flush=True)
    await _wait_for_signal()
    await app.stop(grace_s=1)
    provider.shutdown()
    print(f"SPANS {exporter.exported}", flush=True)


def _serve(argv: list[str]) -> None:
    profile_to = os.environ.get("BENCH_CPROFILE")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        if argv[0] == "serve-bare":
            asyncio.run(_serve_bare(int(argv[1])))
        else:
            asyncio.run(
                _serve_full(
                    int(argv[1]),
                    Path(argv[2]),
                    json.loads(Path(argv[3]).read_text()),
                    int(argv[4]),
                    argv[5],
                    *argv[6:7],
                )
            )
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile_to))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server subprocess; ``port`` once it has printed it."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=self._log_file, env=env, cwd=ROOT
        )
        self.port = 0

    @property
    def target(self) -> str:
        """host:port of the server."""
        return f"127.0.0.1:{self.port}"

    def wait_ready(
        self, request: bytes, metadata: Sequence[tuple[str, str]], timeout: float
    ) -> None:
        """Reads the bound port, then waits until an Echo call succeeds."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(
                f"{self.name} server did not start; see {self.log}:\n{_tail(self.log)}"
            )
        self.port = int(line.split()[1])
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        with grpc.insecure_channel(self.target) as channel:
            call = channel.unary_unary(METHOD, None, None)
            while time.monotonic() < deadline:
                try:
                    call(request, metadata=tuple(metadata), timeout=2)
                    return
                except grpc.RpcError as exc:
                    last = exc
                    time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} server never answered Echo: {last}\n{_tail(self.log)}")

    def stop(self) -> str:
        """SIGTERM, wait, return what it printed on stdout after the port."""
        out = ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                out = self.proc.communicate(timeout=30)[0].decode()
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out = self.proc.communicate()[0].decode()
        self._log_file.close()
        return out


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Phase:
    """One measured phase against one server."""

    server: str
    round: int
    concurrency: int
    load: LoadResult
    server_cpu_s: float

    @property
    def cpu_us_per_call(self) -> float:
        """Server CPU (all threads) per successful call, in microseconds."""
        return self.server_cpu_s / self.load.calls * 1e6 if self.load.calls else 0.0


async def _measure(
    server: Server,
    args: argparse.Namespace,
    request: bytes,
    metadata: Sequence[tuple[str, str]],
    *,
    concurrency: int,
    channels: int,
    duration: float,
    warmup: float,
    processes: int,
) -> tuple[LoadResult, float]:
    """One load phase; returns the load result and the server CPU seconds over its window."""
    spawn_margin = 1.5 if args.client == "proc" else 0.3
    start_at = time.time() + spawn_margin + warmup
    pid = server.proc.pid
    cpu: dict[str, float] = {}

    async def sample() -> None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu["before"] = process_cpu_s(pid)
        await asyncio.sleep(max(0.0, start_at + duration - time.time()))
        cpu["after"] = process_cpu_s(pid)

    if args.client == "proc":
        load = run_load_processes(
            processes,
            server.target,
            METHOD,
            request,
            metadata,
            concurrency=concurrency,
            channels=channels,
            duration_s=duration,
            warmup_s=warmup,
            start_at=start_at,
        )
    else:
        load = run_load(
            server.target,
            METHOD,
            request,
            metadata,
            concurrency=concurrency,
            channels=channels,
            duration_s=duration,
            warmup_s=warmup,
            start_at=start_at,
        )
    result, _ = await asyncio.gather(load, sample())
    return result, cpu.get("after", 0.0) - cpu.get("before", 0.0)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _phase(phases: list[Phase], name: str, rnd: int, concurrency: int) -> Phase:
    return next(
        p for p in phases if p.server == name and p.round == rnd and p.concurrency == concurrency
    )


def _summarize(phases: list[Phase], name: str, concurrency: int) -> dict[str, float]:
    mine = [p for p in phases if p.server == name and p.concurrency == concurrency]
    return {
        "rps": round(_median([p.load.rps for p in mine]), 1),
        "p50_ms": round(_median([p.load.p50_ms for p in mine]), 3),
        "p99_ms": round(_median([p.load.p99_ms for p in mine]), 3),
        "server_cpu_us_per_call": round(_median([p.cpu_us_per_call for p in mine]), 1),
        "server_cpu_cores": round(_median([p.server_cpu_s / p.load.window_s for p in mine]), 2),
        "client_cpu_cores": round(
            _median([p.load.client_cpu_s / p.load.window_s for p in mine]), 2
        ),
        "errors": sum(p.load.errors for p in mine),
    }


async def _drive(args: argparse.Namespace) -> int:
    from harness.tokens import TokenMint

    pb2, _ = _echo_modules()
    request = pb2.EchoRequest(message="hello").SerializeToString()
    mint = TokenMint()
    token = mint.token(ttl_s=3600)
    metadata = [("authorization", f"Bearer {token}")]
    work = Path(tempfile.mkdtemp(prefix="centrum-bench-chain-"))
    jwks_file = work / "jwks.json"
    jwks_file.write_text(json.dumps([mint.jwk]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CENTRUM_", "OTEL_"))}
    me = [sys.executable, str(SCRIPT)]

    def full_argv(variant: str) -> list[str]:
        data = work / f"data-{variant}"
        port = str(_free_port())
        return [*me, "serve-full", "0", str(data), str(jwks_file), port, args.redis_url, variant]

    if args.profile:
        names = ["full"]
    elif args.variants:
        names = ["bare", *args.variants]
    else:
        names = ["bare", "full"]
    servers: dict[str, Server] = {}
    try:
        for name in names:
            if name == "bare":
                servers[name] = Server(name, [*me, "serve-bare", "0"], work / "bare.log", env)
            else:
                server_env = env
                if args.profile:
                    server_env = {**env, "BENCH_CPROFILE": args.profile}
                servers[name] = Server(name, full_argv(name), work / f"{name}.log", server_env)
        for server in servers.values():
            server.wait_ready(request, metadata, timeout=60)

        loaded = {
            "concurrency": args.concurrency,
            "channels": args.channels,
            "duration": args.duration,
            "warmup": args.warmup,
            "processes": args.client_procs,
        }
        unloaded = {
            "concurrency": 1,
            "channels": 1,
            "duration": args.latency_duration,
            "warmup": 0.5,
            "processes": 1,
        }

        if args.profile:
            load, cpu = await _measure(servers["full"], args, request, metadata, **loaded)
            servers.pop("full").stop()
            _print_profile(args.profile, load, cpu)
            _discard(work, args.keep)
            return 0

        phases: list[Phase] = []
        for rnd in range(args.rounds):
            # Alternate, and rotate the order every round so that no server always goes first.
            shift = rnd % len(names)
            order = (
                names[shift:] + names[:shift]
                if args.variants
                else (names if rnd % 2 == 0 else names[::-1])
            )
            for name in order:
                for kwargs in (loaded,) if args.variants else (loaded, unloaded):
                    load, cpu = await _measure(servers[name], args, request, metadata, **kwargs)
                    phase = Phase(name, rnd, kwargs["concurrency"], load, cpu)
                    phases.append(phase)
                    print(
                        f"# round {rnd + 1} {name:7} c={kwargs['concurrency']:<3} "
                        f"{load.rps:8.1f} rps  p50 {load.p50_ms:7.3f} ms  p99 {load.p99_ms:7.3f} ms"
                        f"  server {cpu / load.window_s:4.2f} cores"
                        f" {phase.cpu_us_per_call:6.0f} us/call"
                        f"  client {load.client_cpu_s / load.window_s:4.2f} cores"
                        f"  errors {load.errors}"
                        + (f" ({load.first_error})" if load.errors else ""),
                        file=sys.stderr,
                        flush=True,
                    )
        spans = servers["full"].stop() if "full" in servers else ""
    finally:
        for server in servers.values():
            server.stop()
        if sys.exc_info()[0] is not None:
            _discard(work, args.keep)

    if args.variants:
        _report_variants(args, phases)
    else:
        log_lines = sum(1 for _ in (work / "full.log").open("rb"))
        _report(args, phases, spans, log_lines)
    _discard(work, args.keep)
    return 0


def _discard(work: Path, keep: bool) -> None:
    """Removes the run's work dir (server logs, data, keys), or says where it is."""
    if keep:
        print(f"# kept {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


def _report_variants(args: argparse.Namespace, phases: list[Phase]) -> None:
    c = args.concurrency
    full = _summarize(phases, "full", c) if "full" in args.variants else None
    print(f"Full-server variants vs bare, c={c}, medians of {args.rounds} round(s)")
    print()
    print(
        "| server | what | calls/s | ratio to bare (same round) | server CPU us/call "
        "| CPU us/call saved vs full |"
    )
    print("|---|---|---:|---:|---:|---:|")
    rows: list[dict[str, Any]] = []
    for name in ["bare", *args.variants]:
        s = _summarize(phases, name, c)
        ratios = []
        for rnd in range(args.rounds):
            b, v = _phase(phases, "bare", rnd, c), _phase(phases, name, rnd, c)
            ratios.append(v.load.rps / b.load.rps if b.load.rps else 0.0)
        saved = full["server_cpu_us_per_call"] - s["server_cpu_us_per_call"] if full else 0.0
        what = "plain grpc.aio server" if name == "bare" else VARIANTS[name]
        print(
            f"| {name} | {what} | {s['rps']:.0f} | {_median(ratios):.2f} | "
            f"{s['server_cpu_us_per_call']:.0f} | {saved:+.0f} |"
        )
        rows.append(
            {
                "server": name,
                "rps": s["rps"],
                "ratio": round(_median(ratios), 3),
                "server_cpu_us_per_call": s["server_cpu_us_per_call"],
                "errors": s["errors"],
            }
        )
    command = shlex.join(
        [os.path.relpath(sys.executable, ROOT), "bench/bench_chain.py", *sys.argv[1:]]
    )
    print(
        json.dumps(
            {
                "bench": "chain-variants",
                "concurrency": c,
                "rounds": args.rounds,
                "duration_s": args.duration,
                "cpu_count": os.cpu_count(),
                "rows": rows,
                "command": command,
            }
        )
    )


def _report(args: argparse.Namespace, phases: list[Phase], spans_out: str, log_lines: int) -> None:
    c = args.concurrency
    bare, full = _summarize(phases, "bare", c), _summarize(phases, "full", c)
    bare1, full1 = _summarize(phases, "bare", 1), _summarize(phases, "full", 1)

    def per_round(metric: str, conc: int, op: str) -> float:
        values = []
        for rnd in range(args.rounds):
            bv = getattr(_phase(phases, "bare", rnd, conc).load, metric)
            fv = getattr(_phase(phases, "full", rnd, conc).load, metric)
            values.append(fv / bv if op == "ratio" and bv else fv - bv)
        return _median(values)

    ratio = round(per_round("rps", c, "ratio"), 3)
    p50_added = round(per_round("p50_ms", c, "diff"), 3)
    p99_added = round(per_round("p99_ms", c, "diff"), 3)
    p50_added1 = round(per_round("p50_ms", 1, "diff"), 3)
    p99_added1 = round(per_round("p99_ms", 1, "diff"), 3)
    command = shlex.join(
        [os.path.relpath(sys.executable, ROOT), "bench/bench_chain.py", *sys.argv[1:]]
    )
    spans = spans_out.split("SPANS", 1)[1].strip() if "SPANS" in spans_out else "?"

    print(f"Unary Echo, bare grpc.aio vs full chain; medians of {args.rounds} interleaved rounds")
    print(
        f"(c={c} over {args.channels} channel(s) x {args.client_procs} client process(es), "
        f"{args.duration:g} s windows; unloaded = c=1, {args.latency_duration:g} s; "
        f"{os.cpu_count()} CPUs)"
    )
    print()
    print(
        f"| server | calls/s (c={c}) | p50 ms | p99 ms | p50 ms (c=1) | p99 ms (c=1) "
        "| server CPU us/call | server CPU cores |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, s, s1 in (("bare grpc.aio", bare, bare1), ("full chain", full, full1)):
        print(
            f"| {name} | {s['rps']:.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
            f"{s1['p50_ms']:.3f} | {s1['p99_ms']:.3f} | {s['server_cpu_us_per_call']:.0f} | "
            f"{s['server_cpu_cores']:.2f} |"
        )
    print(
        f"| full/bare | **{ratio:.2f}x** | +{p50_added:.2f} | +{p99_added:.2f} | "
        f"+{p50_added1:.3f} | +{p99_added1:.3f} | "
        f"{full['server_cpu_us_per_call'] / bare['server_cpu_us_per_call']:.2f}x | |"
        if bare["server_cpu_us_per_call"]
        else ""
    )
    print()
    rounds = "; ".join(
        f"{rnd + 1}: bare {_phase(phases, 'bare', rnd, c).load.rps:.0f}"
        f" / full {_phase(phases, 'full', rnd, c).load.rps:.0f}"
        for rnd in range(args.rounds)
    )
    print(f"Per round (calls/s at c={c}): {rounds}")
    print(f"Full server: {spans} spans exported (discarded), {log_lines} log lines written.")
    print(
        json.dumps(
            {
                "bench": "chain",
                "method": METHOD,
                "bare_rps": bare["rps"],
                "full_rps": full["rps"],
                "ratio": ratio,
                "bare_p50_ms": bare["p50_ms"],
                "bare_p99_ms": bare["p99_ms"],
                "full_p50_ms": full["p50_ms"],
                "full_p99_ms": full["p99_ms"],
                "p99_added_ms": p99_added,
                "unloaded_bare_p50_ms": bare1["p50_ms"],
                "unloaded_bare_p99_ms": bare1["p99_ms"],
                "unloaded_full_p50_ms": full1["p50_ms"],
                "unloaded_full_p99_ms": full1["p99_ms"],
                "unloaded_p99_added_ms": p99_added1,
                "bare_server_cpu_us_per_call": bare["server_cpu_us_per_call"],
                "full_server_cpu_us_per_call": full["server_cpu_us_per_call"],
                "bare_server_cpu_cores": bare["server_cpu_cores"],
                "full_server_cpu_cores": full["server_cpu_cores"],
                "client_cpu_cores": {
                    "bare": bare["client_cpu_cores"],
                    "full": full["client_cpu_cores"],
                },
                "errors": {
                    "bare": bare["errors"] + bare1["errors"],
                    "full": full["errors"] + full1["errors"],
                },
                "targets": {"ratio_min": 0.8, "p99_added_max_ms": 1.0},
                "config": {
                    "concurrency": c,
                    "channels": args.channels,
                    "client": args.client,
                    "client_procs": args.client_procs,
                    "duration_s": args.duration,
                    "warmup_s": args.warmup,
                    "latency_duration_s": args.latency_duration,
                    "rounds": args.rounds,
                    "cpu_count": os.cpu_count(),
                    "python": sys.version.split()[0],
                    "grpcio": grpc.__version__,
                },
                "command": command,
            }
        )
    )


def _print_profile(path: str, load: LoadResult, cpu: float) -> None:
    import pstats

    print(
        f"# profiled full server: {load.rps:.0f} calls/s, {cpu / load.window_s:.2f} cores, "
        f"p50 {load.p50_ms:.2f} ms p99 {load.p99_ms:.2f} ms (cProfile overhead included)"
    )
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)


def main() -> None:
    """Server modes, or the driver."""
    if len(sys.argv) > 1 and sys.argv[1] in ("serve-bare", "serve-full"):
        _serve(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per throughput window")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each window")
    parser.add_argument("--latency-duration", type=float, default=2.0, help="seconds at c=1")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight per client")
    parser.add_argument("--channels", type=int, default=4, help="connections per client")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client", choices=("proc", "inproc"), default="proc")
    parser.add_argument("--client-procs", type=int, default=1, help="with --client proc")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the full server instead")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, data)")
    parser.add_argument(
        "--variants",
        nargs="*",
        choices=tuple(VARIANTS),
        help="diagnostic: measure these full-server variants (default: all) against bare "
        "instead, throughput only, to see what each concern costs",
    )
    args = parser.parse_args()
    if args.variants is not None and not args.variants:
        args.variants = list(VARIANTS)
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    if args.client == "inproc":
        args.client_procs = 1
    sys.exit(asyncio.run(_drive(args)))


if __name__ == "__main__":
    main()
