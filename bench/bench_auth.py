"""Benchmark: client-credentials token issuance and token introspection through gRPC.

Issue 4 acceptance: throughput of ``AuthService/Token`` (client credentials grant: service
account lookup, HMAC secret check, role scopes, Ed25519 signing, issued-token record, FULL audit)
and ``AuthService/IntrospectToken`` (an access token of that service account; signature checked
once then cached, revocation set lookup, no database read) against a started server, through the
whole chain (logging, metrics, rate limit, validation, audit). Targets: >= 2,000/s and >= 5,000/s.

Servers, each in a process of its own, measured in the same run with the same load:

* ``bare``: the same two RPCs on a plain ``grpc.aio.server()`` with no interceptors, answering
  pre-built responses of the real size (the ceiling of a Python gRPC server on this machine);
* ``single``: ``CentrumApp`` in one process on the embedded defaults (SQLite, in-process
  limiter and revocations), services auth+audit;
* ``workers`` (``--workers N``, default 2; 0 skips it): ``centrum serve --workers N``'s
  ``serve_workers`` on one port (SO_REUSEPORT) over PostgreSQL and Redis (revocations and rate
  limits shared), a fresh database per run.

Rate limits are raised so that nothing is refused; logs are JSON lines to a file. The load comes
from this process (closed loop, ``bench/_load.py``, ``--concurrency`` calls over 4 channels).
Hydra's published figures (513/s and 5,109/s on 2 CPUs) are printed beside ours; they are from
another machine. Server CPU per call (``/proc``, all processes and threads of the server) is
reported too: on a machine shared with other work it is steadier than calls per second.

Usage: ``.venv/bin/python bench/bench_auth.py [--duration 5] [--concurrency 32] [--workers 2]``;
prints one JSON line; about 60 s. ``--profile FILE`` instead runs the single-process server under
cProfile for one ``--phase`` (token or introspect) and prints the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import grpc  # noqa: E402
from _load import LoadResult, process_cpu_s, run_load  # noqa: E402

from centrum.auth.v1 import auth_service_pb2 as auth_pb  # noqa: E402
from centrum.auth.v1 import auth_service_pb2_grpc  # noqa: E402

HYDRA = {"token_per_s": 513, "introspect_per_s": 5109}
TARGETS = {"token_per_s": 2000, "introspect_per_s": 5000}
_BUCKETS = ("auth.token", "auth.introspect", "auth.jwks", "auth.admin.write", "auth.api_key.create")
_TOKEN = "/centrum.auth.v1.AuthService/Token"
_INTROSPECT = "/centrum.auth.v1.AuthService/IntrospectToken"
_JWKS = "/centrum.auth.v1.AuthService/GetJwks"


# --- servers (subprocess modes) -------------------------------------------------------------


def _settings(port: int, data_dir: Path, database_url: str = "", redis_url: str = "") -> Any:
    from centrum.server import Settings
    from centrum.server.settings import RateLimitSetting
    from centrum.services.auth.settings import AuthSettings

    limit = RateLimitSetting(per_minute=600_000_000, burst=10_000_000)
    extra: dict[str, Any] = {}
    if database_url:
        extra = {"database_url": database_url, "redis_url": redis_url}
    return Settings(
        listen=f"127.0.0.1:{port}",
        data_dir=data_dir,
        services=("auth", "audit"),
        log_format="json",
        rate_limits=dict.fromkeys(_BUCKETS, limit),
        auth=AuthSettings(bootstrap_announce=False),
        **extra,
    )


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve(port: int, data_dir: Path) -> None:
    from centrum.interceptors.logging import configure_logging
    from centrum.server import CentrumApp
    from centrum.server.runner import freeze_startup_heap

    settings = _settings(port, data_dir)
    configure_logging(settings.log_level, settings.log_format)
    app = CentrumApp(settings)
    port = await app.start()
    freeze_startup_heap()  # as `centrum serve` does once serving
    print(f"PORT {port}", flush=True)
    await _until_signalled()
    await app.stop(grace_s=1)


def _serve_workers(port: int, data_dir: Path, database_url: str, redis_url: str, n: int) -> int:
    from centrum.interceptors.logging import configure_logging
    from centrum.server.runner import serve_workers

    settings = _settings(port, data_dir, database_url, redis_url)
    configure_logging(settings.log_level, settings.log_format)
    print(f"PORT {port}", flush=True)
    return serve_workers(settings, n)


class _BareAuth(auth_service_pb2_grpc.AuthServiceServicer):
    """The two RPCs with pre-built answers of the real size: no chain, no work."""

    def __init__(self) -> None:
        # A token of the size ours have (header, claims, Ed25519 signature), as opaque text.
        self._token = auth_pb.TokenResponse()
        self._token.tokens.access_token = "e" * 420
        self._token.tokens.token_type = "Bearer"
        self._token.tokens.expires_in.seconds = 900
        self._token.tokens.scope = "*"
        self._introspection = auth_pb.IntrospectTokenResponse(
            active=True,
            scope="*",
            client_id="cl_" + "0" * 32,
            token_type="Bearer",
            sub="sa_" + "0" * 32,
            aud=["centrum"],
            iss="centrum",
            jti="0" * 32,
            tenant="default",
        )

    async def Token(self, request: auth_pb.TokenRequest, context: Any) -> auth_pb.TokenResponse:
        """A fixed token response."""
        return self._token

    async def IntrospectToken(
        self, request: auth_pb.IntrospectTokenRequest, context: Any
    ) -> auth_pb.IntrospectTokenResponse:
        """A fixed active answer."""
        return self._introspection

    async def GetJwks(
        self, request: auth_pb.GetJwksRequest, context: Any
    ) -> auth_pb.GetJwksResponse:
        """An empty key set (readiness probe only)."""
        return auth_pb.GetJwksResponse()


async def _serve_bare(port: int) -> None:
    server = grpc.aio.server()
    bare = _BareAuth()  # type: ignore[abstract]  # only the measured RPCs exist
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(bare, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    gc.collect()  # the same start-up heap freeze as Centrum's, for a fair floor
    gc.freeze()
    print(f"PORT {bound}", flush=True)
    await _until_signalled()
    await server.stop(1)


def _serve_mode(argv: list[str]) -> None:
    profile_to = os.environ.get("BENCH_CPROFILE")
    import cProfile

    profiler = cProfile.Profile()
    if profile_to:
        profiler.enable()
    try:
        if argv[0] == "serve-bare":
            asyncio.run(_serve_bare(int(argv[1])))
        elif argv[0] == "serve-workers":
            sys.exit(_serve_workers(int(argv[1]), Path(argv[2]), argv[3], argv[4], int(argv[5])))
        else:
            asyncio.run(_serve(int(argv[1]), Path(argv[2])))
    finally:
        if profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)


# --- driver ---------------------------------------------------------------------------------


class _Server:
    """A server subprocess; `target` once it printed its port."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.log = log
        with log.open("w") as stream:
            self.proc = subprocess.Popen(
                [sys.executable, str(SCRIPT), *argv],
                stdout=subprocess.PIPE,
                stderr=stream,
                text=True,
                env=env,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the server did not start; see {log}")
        self.target = f"127.0.0.1:{int(line.split()[1])}"

    def pids(self) -> list[int]:
        """The server process and its children (the workers)."""
        found = [self.proc.pid]
        with contextlib.suppress(OSError):
            tasks = Path(f"/proc/{self.proc.pid}/task")
            for task in tasks.iterdir():
                children = (task / "children").read_text().split()
                found.extend(int(child) for child in children)
        return found

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server's processes."""
        return sum(process_cpu_s(pid) for pid in self.pids())

    def stop(self) -> None:
        """SIGTERM, then wait (kill after 20 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _ready(target: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(target) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        while True:
            try:
                await stub.GetJwks(auth_pb.GetJwksRequest(), timeout=2)
                return
            except grpc.aio.AioRpcError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def _credentials(target: str, data_dir: Path) -> tuple[str, str, str]:
    path = data_dir / "bootstrap-credentials"
    for _ in range(300):  # the worker that bootstraps may answer probes last
        if path.exists():
            break
        await asyncio.sleep(0.1)
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        issued = await stub.Token(
            auth_pb.TokenRequest(
                client_id=values["client_id"], client_secret=values["client_secret"]
            )
        )
    return values["client_id"], values["client_secret"], issued.tokens.access_token


def _summary(result: LoadResult, cpu_s: float) -> dict[str, float | int | str]:
    return {
        "per_s": round(result.rps, 1),
        "p50_ms": round(result.quantile_ms(0.5), 2),
        "p99_ms": round(result.quantile_ms(0.99), 2),
        "server_cpu_us_per_call": round(cpu_s / max(result.calls, 1) * 1e6),
        "errors": result.errors,
        "first_error": result.first_error[:120],
    }


async def _phase(
    server: _Server, method: str, request: bytes, args: argparse.Namespace
) -> dict[str, float | int | str]:
    load = {
        "concurrency": args.concurrency,
        "channels": 4,
        "duration_s": args.duration,
        "warmup_s": 1.0,
    }
    # Server CPU is sampled over warm-up and window alike; the calls of both are counted alike.
    before = server.cpu_s()
    started = time.monotonic()
    result = await run_load(server.target, method, request, **load)
    elapsed = time.monotonic() - started
    cpu = (server.cpu_s() - before) * (result.window_s / elapsed if elapsed else 1.0)
    return _summary(result, cpu)


@contextlib.contextmanager
def _postgres_database(base_url: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    name = "bench_auth_" + secrets.token_hex(4)
    admin = base_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _measure_server(
    server: _Server, data_dir: Path | None, args: argparse.Namespace
) -> dict[str, dict[str, float | int | str]]:
    await _ready(server.target)
    if data_dir is None:
        token_request = auth_pb.TokenRequest(client_id="c", client_secret="s")
        token = "e" * 420
    else:
        client_id, secret, token = await _credentials(server.target, data_dir)
        token_request = auth_pb.TokenRequest(client_id=client_id, client_secret=secret)
        # Let the bootstrap's change markers (a few seconds) lapse: measure the steady state.
        await asyncio.sleep(4)
    return {
        "token": await _phase(server, _TOKEN, token_request.SerializeToString(), args),
        "introspect": await _phase(
            server,
            _INTROSPECT,
            auth_pb.IntrospectTokenRequest(token=token).SerializeToString(),
            args,
        ),
    }


async def _measure(args: argparse.Namespace) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CENTRUM_", "OTEL_"))}
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        work = Path(tmp)
        bare = _Server(["serve-bare", "0"], work / "bare.log", env)
        try:
            rows["bare"] = await _measure_server(bare, None, args)
        finally:
            bare.stop()
        single = _Server(["serve", "0", str(work / "single")], work / "single.log", env)
        try:
            rows["single"] = await _measure_server(single, work / "single", args)
        finally:
            single.stop()
        if args.workers > 0:
            with _postgres_database(args.postgres_url) as database_url:
                argv = [
                    "serve-workers",
                    str(_free_port()),
                    str(work / "workers"),
                    database_url,
                    args.redis_url,
                    str(args.workers),
                ]
                workers = _Server(argv, work / "workers.log", env)
                try:
                    rows[f"workers_{args.workers}"] = await _measure_server(
                        workers, work / "workers", args
                    )
                finally:
                    workers.stop()
    ratios = {
        name: {
            phase: round(float(row[phase]["per_s"]) / float(rows["bare"][phase]["per_s"]), 3)
            for phase in ("token", "introspect")
        }
        for name, row in rows.items()
        if name != "bare"
    }
    # Server CPU per call, bare over ours: the share of a core's calls we keep (steadier than
    # calls per second while other work shares the machine).
    cpu_ratios = {
        name: {
            phase: round(
                float(rows["bare"][phase]["server_cpu_us_per_call"])
                / max(float(row[phase]["server_cpu_us_per_call"]), 1.0),
                3,
            )
            for phase in ("token", "introspect")
        }
        for name, row in rows.items()
        if name != "bare"
    }
    best = {
        phase: max(float(row[phase]["per_s"]) for name, row in rows.items() if name != "bare")
        for phase in ("token", "introspect")
    }
    return {
        "bench": "auth",
        "rows": rows,
        "vs_bare": ratios,
        "cpu_per_call_bare_over_ours": cpu_ratios,
        "best_vs_target": {
            "token": round(best["token"] / TARGETS["token_per_s"], 3),
            "introspect": round(best["introspect"] / TARGETS["introspect_per_s"], 3),
        },
        "targets": TARGETS,
        "hydra_published": HYDRA,
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


async def _profile(args: argparse.Namespace) -> None:
    import pstats

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CENTRUM_", "OTEL_"))}
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        work = Path(tmp)
        server = _Server(
            ["serve", "0", str(work / "data")],
            work / "server.log",
            {**env, "BENCH_CPROFILE": args.profile},
        )
        try:
            await _ready(server.target)
            client_id, secret, token = await _credentials(server.target, work / "data")
            await asyncio.sleep(4)
            if args.phase == "token":
                method = _TOKEN
                request = auth_pb.TokenRequest(
                    client_id=client_id, client_secret=secret
                ).SerializeToString()
            else:
                method = _INTROSPECT
                request = auth_pb.IntrospectTokenRequest(token=token).SerializeToString()
            row = await _phase(server, method, request, args)
        finally:
            server.stop()
    print(f"# profiled single-process server, {args.phase}: {row} (cProfile overhead included)")
    stats = pstats.Stats(args.profile)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)


def main() -> None:
    """Runs the driver, or a server with ``serve``, ``serve-bare`` or ``serve-workers``."""
    if len(sys.argv) > 1 and sys.argv[1] in ("serve", "serve-bare", "serve-workers"):
        _serve_mode(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="0 skips the workers row")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the single-process server")
    parser.add_argument("--phase", choices=("token", "introspect"), default="token")
    args = parser.parse_args()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
        asyncio.run(_profile(args))
        return
    print(json.dumps(asyncio.run(_measure(args))))


if __name__ == "__main__":
    main()
