"""Virus scanning with a real ClamAV daemon (INSTREAM over TCP) and its own signature database.

No signatures can be downloaded here, so the fixture writes a `.hdb` database with the EICAR
test file's md5:size:name line; clamd then reports `Eicar-Test.UNOFFICIAL`.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from test_storage_kit import (
    Client,
    app_objects,
    eventually,
    reason_of,
    rpc_error,
)

from centrum.services.storage.scanning import EICAR
from centrum.storage.v1 import object_pb2
from harness.backends import ManagedProcess, free_port, require_binary
from harness.centrum import StartCentrum, channel
from harness.tokens import TokenMint

CLAMD_INSTALL_HINT = "install with: apt-get update && apt-get install -y clamav-daemon"


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"zPING\x00")
            return conn.recv(16) == b"PONG\x00"
    except OSError:
        return False


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A clamd on a free loopback port whose only signature is EICAR; yields "host:port"."""
    binary = require_binary("clamd", CLAMD_INSTALL_HINT)
    workdir: Path = tmp_path_factory.mktemp("clamd")
    database = workdir / "db"
    database.mkdir()
    (database / "eicar.hdb").write_text(
        f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test\n"
    )
    port = free_port()
    config = workdir / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"DatabaseDirectory {database}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"TemporaryDirectory {workdir}",
                "StreamMaxLength 64M",
                "LogTime yes",
                "",
            ]
        )
    )
    process = ManagedProcess(
        f"clamd:{port}", [binary, "--config-file", str(config)], workdir / "clamd.log"
    )
    process.start()
    try:
        process.wait_ready(lambda: _pong(port), 60, "PONG")
        yield f"127.0.0.1:{port}"
    finally:
        process.stop()


async def test_clamd_rejects_eicar_and_passes_clean_files(
    start_centrum: StartCentrum, token_mint: TokenMint, clamd: str
) -> None:
    """EICAR is rejected with clamd's signature name and audited; a clean file is CLEAN."""
    app = await start_centrum(storage={"scanner": "clamd", "clamd_address": clamd})
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("scan")
        clean = (await c.put("scan", "clean.txt", b"nothing to see here", "text/plain")).object
        assert clean.scan_state == object_pb2.SCAN_STATE_CLEAN
        error = await rpc_error(c.put("scan", "eicar.com", EICAR, "text/plain", chunk=20))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(error) == "MALWARE_DETECTED"
        assert (await rpc_error(c.stat("scan", "eicar.com"))).code() == grpc.StatusCode.NOT_FOUND

    async def audited() -> bool:
        events = await app.audit_log.events(0, 1000)
        return any(
            e.action == "object.malware_rejected"
            and e.details.fields["signature"].string_value == "Eicar-Test.UNOFFICIAL"
            for e in events
        )

    await eventually(audited, "audit event naming clamd's signature")
    assert app_objects(app) is not None


async def test_clamd_unreachable_is_unavailable(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """When clamd does not answer, uploads end UNAVAILABLE and store nothing."""
    app = await start_centrum(
        storage={"scanner": "clamd", "clamd_address": f"127.0.0.1:{free_port()}"}
    )
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("scan")
        error = await rpc_error(c.put("scan", "a.txt", b"hello", "text/plain"))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert reason_of(error) == "SCANNER_UNAVAILABLE"
