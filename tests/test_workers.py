"""`centrum serve --workers N`: N processes on one port, refused where state would split."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from harness.backends import ManagedProcess, RedisTarget, free_port
from harness.centrum import run

CENTRUM = str(Path(sys.executable).with_name("centrum"))


def test_workers_refuse_embedded_backends(tmp_path: Path) -> None:
    """With SQLite and no Redis, --workers 2 refuses to start and says what to set."""
    result = run(
        [
            CENTRUM,
            "serve",
            "--workers",
            "2",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--data-dir",
            str(tmp_path),
        ],
        env={**os.environ, "CENTRUM_LOG_FORMAT": "json"},
    )
    assert result.returncode == 2
    assert "CENTRUM_DATABASE_URL" in result.stderr


def test_two_workers_share_one_port_and_drain_on_sigterm(
    tmp_path: Path, postgres_url: str, redis_url: RedisTarget
) -> None:
    """Two processes serve one port on PostgreSQL and Redis; SIGTERM stops both, exit 0."""
    port = free_port()
    log = tmp_path / "workers.log"
    process = ManagedProcess(
        "centrum-workers",
        [
            CENTRUM,
            "serve",
            "--workers",
            "2",
            "--listen",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        log,
        env={
            **os.environ,
            "CENTRUM_LOG_FORMAT": "json",
            "CENTRUM_DATABASE_URL": postgres_url,
            "CENTRUM_REDIS_URL": redis_url.url,
        },
    )
    process.start()

    def both_serving() -> bool:
        if log.read_text().count('"event": "centrum serving"') < 2:
            return False
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            try:
                status = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
            except grpc.RpcError:
                return False
        return bool(status.status == health_pb2.HealthCheckResponse.SERVING)

    try:
        process.wait_ready(both_serving, timeout=60, what="two workers serving")
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(timeout=30) == 0
    finally:
        process.stop()
    # Both processes append to one log, so their lines may interleave: count the events.
    assert log.read_text().count('"event": "centrum stopped"') == 2
