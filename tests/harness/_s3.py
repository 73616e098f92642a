"""S3: a ``moto_server`` process and boto3 clients pointed at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ._process import ManagedProcess, require_binary
from ._util import free_port, http_status

MOTO_INSTALL_HINT = "install with: pip install 'moto[server]'"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class S3Target:
    """Endpoint and static credentials of the S3 emulator."""

    endpoint_url: str
    region: str = "us-east-1"
    access_key: str = "testing"
    secret_key: str = "testing"

    def client(self) -> Any:
        """Return a boto3 S3 client (path-style addressing) for this endpoint."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )


def moto_process(workdir: Path) -> tuple[ManagedProcess, S3Target, int]:
    """Describe (not start) ``moto_server`` on a free loopback port.

    Returns the process, the target, and the port (for the readiness probe).
    """
    binary = require_binary("moto_server", MOTO_INSTALL_HINT)
    port = free_port()
    process = ManagedProcess(
        name=f"moto_server:{port}",
        argv=[binary, "-H", "127.0.0.1", "-p", str(port)],
        log=workdir / "moto_server.log",
        cwd=workdir,
    )
    return process, S3Target(endpoint_url=f"http://127.0.0.1:{port}"), port


def answers_http(port: int) -> bool:
    """Return whether moto answers HTTP on ``port`` (any status)."""
    return http_status("127.0.0.1", port, "/moto-api/") is not None
