"""Centrum itself for tests: an in-process server, a `centrum serve` subprocess, channels.

Fixtures:

* ``token_mint`` (session) -> :class:`TokenMint` whose key the test servers trust
* ``start_centrum`` (function) -> async factory ``(**settings) -> CentrumApp`` running in this
  process with the test-only EchoService registered; stopped after the test
* ``centrum`` (function) -> a started ``CentrumApp`` on embedded defaults
* ``serve_process`` (function) -> factory starting ``centrum serve`` (or the echo variant) as a
  subprocess on a free port, waiting until it answers health checks
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from centrum.server import CentrumApp, ExtraService, Settings
from support import echo

from ._process import ManagedProcess
from ._util import free_port, wait_for
from .tokens import TokenMint

ROOT = Path(__file__).resolve().parents[2]
StartCentrum = Callable[..., Awaitable[CentrumApp]]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings selecting the embedded SQLite or the real PostgreSQL."""
    if request.param == "postgres":
        return {"database_url": request.getfixturevalue("postgres_url")}
    return {}


@pytest.fixture(scope="session")
def token_mint() -> TokenMint:
    """The signing key every test server trusts."""
    return TokenMint()


def test_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test server: embedded backends in `data_dir`, a free port, JSON logs."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "listen": "127.0.0.1:0",
        "log_format": "json",
        "health_interval_s": 0.2,
        "grace_period_s": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def start_centrum(tmp_path: Path, token_mint: TokenMint) -> AsyncIterator[StartCentrum]:
    """Starts in-process servers (with the EchoService) and stops them after the test."""
    started: list[CentrumApp] = []

    async def start(**overrides: Any) -> CentrumApp:
        data_dir = overrides.pop("data_dir", tmp_path / f"data-{len(started)}")
        # Tests of the chain trust the test mint; tests of the Auth service pass
        # trust_test_keys=False so the server verifies what its own Auth service signs.
        trust_test_keys = overrides.pop("trust_test_keys", True)
        key_source = overrides.pop("key_source", None) or (
            token_mint.key_source() if trust_test_keys else None
        )
        identity_lookup = overrides.pop("identity_lookup", None)
        app = CentrumApp(
            test_settings(data_dir, **overrides),
            extra_services=[ExtraService(echo.descriptor(), echo.EchoServicer())],
            key_source=key_source,
            identity_lookup=identity_lookup,
        )
        await app.start()
        started.append(app)
        return app

    yield start
    for app in reversed(started):
        await stop_or_fail(app)


STOP_TIMEOUT_S = 60.0


def pending_task_stacks() -> str:
    """The stack of every pending asyncio task of the running loop, for a hang's report."""
    report = io.StringIO()
    for task in asyncio.all_tasks():
        report.write(f"--- {task.get_name()}: {task.get_coro()!r}\n")
        awaiting: Any = task.get_coro()
        while awaiting is not None:  # down the chain of awaits, where the task really waits
            frame = getattr(awaiting, "cr_frame", None) or getattr(awaiting, "gi_frame", None)
            if frame is not None:
                code = frame.f_code
                report.write(f"  {code.co_filename}:{frame.f_lineno} in {code.co_name}\n")
            awaiting = getattr(awaiting, "cr_await", None) or getattr(
                awaiting, "gi_yieldfrom", None
            )
    return report.getvalue()


async def stop_or_fail(app: CentrumApp) -> None:
    """Stops `app`; a stop still pending after a minute fails the test with every task's stack
    instead of hanging the suite."""
    stopping = asyncio.ensure_future(app.stop(grace_s=0))
    done, _ = await asyncio.wait({stopping}, timeout=STOP_TIMEOUT_S)
    if stopping in done:
        stopping.result()
        return
    stacks = pending_task_stacks()
    stopping.cancel()
    pytest.fail(f"the server did not stop within {STOP_TIMEOUT_S:.0f} s; pending tasks:\n{stacks}")


@pytest.fixture
async def centrum(start_centrum: StartCentrum) -> CentrumApp:
    """One in-process server on embedded defaults."""
    return await start_centrum()


def channel(app_or_port: CentrumApp | int) -> grpc.aio.Channel:
    """An insecure channel to a test server."""
    port = app_or_port if isinstance(app_or_port, int) else app_or_port.port
    return grpc.aio.insecure_channel(f"127.0.0.1:{port}")


def bootstrap_credentials(data_dir: Path) -> dict[str, str]:
    """What a first start wrote to `data_dir`/bootstrap-credentials (tenant, client_id,
    client_secret), once the file is there."""
    path = data_dir / "bootstrap-credentials"
    wait_for(path.exists, 30, "the bootstrap credentials file")
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """Call metadata presenting `token`."""
    return (("authorization", f"Bearer {token}"),)


@dataclass
class ServeProcess:
    """A running `centrum serve` subprocess."""

    process: ManagedProcess
    port: int
    data_dir: Path

    @property
    def target(self) -> str:
        """host:port of the server."""
        return f"127.0.0.1:{self.port}"


def serving(port: int) -> bool:
    """Whether a server on `port` answers its overall health check with SERVING."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        try:
            response = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(), timeout=0.5
            )
        except grpc.RpcError:
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Starts server subprocesses: `centrum serve`, or with echo_service=True the echo variant."""
    yield from _serve_processes(tmp_path)


@pytest.fixture(scope="module")
def serve_process_module(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ServeProcess]]:
    """Like `serve_process`, for servers shared by every test of a module."""
    yield from _serve_processes(tmp_path_factory.mktemp("serve"))


def _serve_processes(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    running: list[ServeProcess] = []

    def start(
        *,
        echo_service: bool = False,
        jwks: list[dict[str, Any]] | None = None,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
        port: int | None = None,
    ) -> ServeProcess:
        port = port or free_port()
        data = data_dir or tmp_path / f"serve-{len(running)}"
        argv = (
            [sys.executable, str(ROOT / "tests" / "support" / "serve_echo.py")]
            if echo_service
            else [str(Path(sys.executable).with_name("centrum")), "serve"]
        )
        argv += ["--listen", f"127.0.0.1:{port}", "--data-dir", str(data)]
        if jwks is not None:
            jwks_file = tmp_path / f"jwks-{len(running)}.json"
            jwks_file.write_text(json.dumps(jwks))
            argv += ["--jwks", str(jwks_file)]
        process = ManagedProcess(
            "centrum",
            argv,
            tmp_path / f"serve-{len(running)}.log",
            env={**os.environ, "CENTRUM_LOG_FORMAT": "json", **(env or {})},
        )
        process.start()
        process.wait_ready(lambda: serving(port), timeout=30, what=f"serving on port {port}")
        served = ServeProcess(process, port, data)
        running.append(served)
        return served

    yield start
    for served in running:
        served.process.stop(grace=10)


async def start_cli(app: CentrumApp, token: str, *argv: str) -> asyncio.subprocess.Process:
    """Starts the `centrum` command against `app` with `token`, with stdin/stdout/stderr piped."""
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("centrum")),
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "CENTRUM_TARGET": f"127.0.0.1:{app.port}",
            "CENTRUM_TOKEN": token,
            "COLUMNS": "200",
        },
    )


async def run_cli(app: CentrumApp, token: str, *argv: str) -> tuple[int, str, str]:
    """Runs the `centrum` command against `app` with `token`; returns (exit code, out, err)."""
    process = await start_cli(app, token, *argv)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Runs a command, capturing text output."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kwargs)
