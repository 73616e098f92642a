"""Streaming in bounded memory: 1 GiB up and down through a server subprocess.

The server runs in its own process (embedded database, encryption on, the local disk or S3 on
moto_server) so its resident set can be read from /proc: the peak (VmHWM) after the transfers may
exceed the resident set before them by less than 100 MiB, a tenth of the object's size. The
client generates the bytes as it sends them and hashes both directions, so the content is
verified without either side holding the object.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from test_storage_kit import ALL_SCOPES, pattern_chunks

from centrum.storage.v1 import storage_service_pb2 as pb
from centrum.storage.v1 import storage_service_pb2_grpc
from harness.backends import ManagedProcess, S3Target, free_port
from harness.centrum import bearer
from harness.tokens import TokenMint

SIZE = 1024 * 1024 * 1024
MIB = 1024 * 1024
TESTS = Path(__file__).resolve().parent

SERVER = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from centrum.interceptors.credentials import StaticKeySource
from centrum.server.app import CentrumApp
from centrum.server.runner import serve_until_signalled
from centrum.server.settings import Settings
settings = Settings(**json.loads(sys.argv[2]))
keys = StaticKeySource([json.loads(sys.argv[3])])
asyncio.run(serve_until_signalled(CentrumApp(settings, key_source=keys)))
"""


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} missing")


def _serving(port: int, token: str) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        try:
            storage_service_pb2_grpc.StorageServiceStub(ch).GetUsage(
                pb.GetUsageRequest(), metadata=bearer(token), timeout=1
            )
        except grpc.RpcError:
            return False
    return True


@pytest.fixture(params=["local", "s3"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, token_mint: TokenMint
) -> Iterator[tuple[int, int, str]]:
    """A storage server subprocess on the local disk or on S3: (pid, port, token)."""
    port = free_port()
    settings: dict[str, object] = {
        "data_dir": str(tmp_path / "data"),
        "listen": f"127.0.0.1:{port}",
        "services": ["storage", "audit"],
        "log_level": "warning",
        "log_format": "json",
        "rate_limits": {
            "storage.upload": {"disabled": True},
            "storage.download": {"disabled": True},
        },
    }
    if request.param == "s3":
        target: S3Target = request.getfixturevalue("s3_endpoint")
        settings |= {
            "s3_endpoint_url": target.endpoint_url,
            "s3_region": target.region,
            "s3_access_key_id": target.access_key,
            "s3_secret_access_key": target.secret_key,
            "s3_bucket_prefix": f"mem-{port}-",
            # moto_server assembles the 1 GiB object in one slow call when the upload completes.
            "storage": {"s3_read_timeout_s": 300.0},
        }
    process = ManagedProcess(
        "storage-server",
        [
            sys.executable,
            "-c",
            SERVER,
            str(TESTS),
            json.dumps(settings),
            json.dumps(token_mint.jwk),
        ],
        tmp_path / "server.log",
        env={**os.environ, "PYTHONPATH": f"{TESTS}:{os.environ.get('PYTHONPATH', '')}"},
    )
    token = token_mint.token(scopes=list(ALL_SCOPES))
    process.start()
    try:
        process.wait_ready(lambda: _serving(port, token), 60, "storage answering")
        assert process.pid is not None
        yield process.pid, port, token
    finally:
        process.stop()


def test_1_gib_streams_up_and_down_in_bounded_server_memory(server: tuple[int, int, str]) -> None:
    """Uploading and downloading 1 GiB (encrypted) grows the server's peak RSS < 100 MiB."""
    pid, port, token = server
    metadata = bearer(token)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = storage_service_pb2_grpc.StorageServiceStub(ch)
        stub.CreateBucket(pb.CreateBucketRequest(name="big"), metadata=metadata)
        baseline_kib = _kib(pid, "VmRSS")
        sent = hashlib.sha256()

        def requests() -> Iterator[pb.UploadRequest]:
            yield pb.UploadRequest(
                header=pb.UploadHeader(
                    bucket="big",
                    key="blob.bin",
                    content_type="application/octet-stream",
                    size_bytes=SIZE,
                )
            )
            for chunk in pattern_chunks(SIZE, MIB):
                sent.update(chunk)
                yield pb.UploadRequest(chunk=chunk)

        stored = stub.Upload(requests(), metadata=metadata).object
        assert stored.size_bytes == SIZE and stored.sha256 == sent.hexdigest()
        received = hashlib.sha256()
        total = 0
        for message in stub.Download(
            pb.DownloadRequest(bucket="big", key="blob.bin"), metadata=metadata
        ):
            if message.WhichOneof("payload") == "chunk":
                received.update(message.chunk)
                total += len(message.chunk)
        assert total == SIZE and received.hexdigest() == sent.hexdigest()
        growth_mib = (_kib(pid, "VmHWM") - baseline_kib) / 1024
        # Frees the emulator's copy too (moto_server lives for the whole session).
        stub.DeleteObject(pb.DeleteObjectRequest(bucket="big", key="blob.bin"), metadata=metadata)
    assert growth_mib < 100, f"server peak RSS grew by {growth_mib:.0f} MiB"
