"""Benchmark: client-credentials token issuance and token introspection through gRPC.

Issue 4 acceptance: throughput of ``AuthService/Token`` (client credentials grant: service
account lookup, HMAC secret check, role scopes, Ed25519 signing, issued-token record, FULL audit)
and ``AuthService/IntrospectToken`` (an access token of that service account; signature checked
once then cached, revocation set lookup) against a started server, through the whole chain
(logging, metrics, rate limit, validation, audit). Targets: >= 2,000/s and >= 5,000/s.

The server runs in a process of its own (``bench_auth.py serve PORT DATA_DIR``, embedded SQLite,
services auth+audit, rate limits raised so nothing is refused, JSON logs to a file); the load
comes from this process (closed loop, ``bench/_load.py``). As the same-run baseline the issue
names Hydra's published figures (513/s and 5,109/s on 2 CPUs), printed beside ours; the
``GetJwks`` RPC (public, no database, no signing) is measured too as the chain's floor on this
machine. ``BENCH_PRELOAD=mod1,mod2`` imports modules in the server first (profiling hooks).

Usage: ``.venv/bin/python bench/bench_auth.py [--duration 5] [--concurrency 32]``; prints one
JSON line; about 40 s.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import grpc  # noqa: E402
from _load import LoadResult, run_load  # noqa: E402

from centrum.auth.v1 import auth_service_pb2 as auth_pb  # noqa: E402
from centrum.auth.v1 import auth_service_pb2_grpc  # noqa: E402

HYDRA = {"token_per_s": 513, "introspect_per_s": 5109}
TARGETS = {"token_per_s": 2000, "introspect_per_s": 5000}
_BUCKETS = ("auth.token", "auth.introspect", "auth.jwks", "auth.admin.write", "auth.api_key.create")


async def _serve(port: int, data_dir: Path) -> None:
    for name in filter(None, os.environ.get("BENCH_PRELOAD", "").split(",")):
        importlib.import_module(name)
    from centrum.interceptors.logging import configure_logging
    from centrum.server import CentrumApp, Settings
    from centrum.server.settings import RateLimitSetting
    from centrum.services.auth.settings import AuthSettings

    limit = RateLimitSetting(per_minute=600_000_000, burst=10_000_000)
    settings = Settings(
        listen=f"127.0.0.1:{port}",
        data_dir=data_dir,
        services=("auth", "audit"),
        log_format="json",
        rate_limits={bucket: limit for bucket in _BUCKETS},
        auth=AuthSettings(bootstrap_announce=False),
    )
    configure_logging(settings.log_level, settings.log_format)
    app = CentrumApp(settings)
    bound = await app.start()
    print(f"PORT {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await app.stop(grace_s=1)


def _start_server(data_dir: Path, log: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "serve", "0", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH")])),
        },
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith("PORT "):
            return process, int(line.split()[1])
        if not line and process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the server did not start; see {log}")


async def _credentials(target: str, data_dir: Path) -> tuple[str, str, str]:
    values = dict(
        line.split("=", 1)
        for line in (data_dir / "bootstrap-credentials").read_text().splitlines()
        if "=" in line
    )
    async with grpc.aio.insecure_channel(target) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        issued = await stub.Token(
            auth_pb.TokenRequest(
                client_id=values["client_id"], client_secret=values["client_secret"]
            )
        )
    return values["client_id"], values["client_secret"], issued.tokens.access_token


def _summary(result: LoadResult) -> dict[str, float | int | str]:
    return {
        "per_s": round(result.rps, 1),
        "p50_ms": round(result.quantile_ms(0.5), 2),
        "p99_ms": round(result.quantile_ms(0.99), 2),
        "errors": result.errors,
        "first_error": result.first_error[:120],
    }


async def _measure(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        data_dir = Path(tmp) / "data"
        process, port = _start_server(data_dir, Path(tmp) / "server.log")
        target = f"127.0.0.1:{port}"
        try:
            client_id, secret, token = await _credentials(target, data_dir)
            load = {
                "concurrency": args.concurrency,
                "channels": 4,
                "duration_s": args.duration,
                "warmup_s": 1.0,
            }
            jwks = await run_load(
                target,
                "/centrum.auth.v1.AuthService/GetJwks",
                auth_pb.GetJwksRequest().SerializeToString(),
                **load,
            )
            issuance = await run_load(
                target,
                "/centrum.auth.v1.AuthService/Token",
                auth_pb.TokenRequest(client_id=client_id, client_secret=secret).SerializeToString(),
                **load,
            )
            introspection = await run_load(
                target,
                "/centrum.auth.v1.AuthService/IntrospectToken",
                auth_pb.IntrospectTokenRequest(token=token).SerializeToString(),
                **load,
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    return {
        "bench": "auth",
        "token": _summary(issuance),
        "introspect": _summary(introspection),
        "get_jwks_floor": _summary(jwks),
        "targets": TARGETS,
        "hydra_published": HYDRA,
        "token_vs_target": round(issuance.rps / TARGETS["token_per_s"], 3),
        "introspect_vs_target": round(introspection.rps / TARGETS["introspect_per_s"], 3),
        "token_vs_hydra": round(issuance.rps / HYDRA["token_per_s"], 3),
        "introspect_vs_hydra": round(introspection.rps / HYDRA["introspect_per_s"], 3),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    """Runs the driver, or the server with ``serve PORT DATA_DIR``."""
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        asyncio.run(_serve(int(sys.argv[2]), Path(sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_measure(args))))


if __name__ == "__main__":
    main()
