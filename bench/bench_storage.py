"""Benchmark: upload/download MB/s of one object through Centrum against boto3 on the same S3.

Issue 7 acceptance: a 256 MiB object (``--size-mib``) is

* ``boto3``: put with ``put_object`` (one request, the body held in client memory) and read
  back with ``get_object`` streamed in 1 MiB reads, straight to the moto_server;
* ``centrum``: streamed through ``StorageService/Upload`` (1 MiB chunks) and ``Download`` of a
  Centrum server subprocess storing into the same moto_server (defaults: one PUT streamed from
  the upload, since the size is known and below ``s3_multipart_threshold_bytes``), once with
  encryption off and once with encryption on (AES-256-GCM segments). ``--multipart`` lowers
  the threshold so the same object goes up in 8 MiB parts, 2 in flight, instead.

The moto_server, each Centrum server and the client (this process) are separate processes. The
figures are MB/s (10^6 bytes) medians over ``--rounds`` rounds, and ratios centrum/boto3 of the
same round's medians. The server's peak RSS growth over the run is reported too.

Downloads are also accounted in CPU: the seconds (user + system, from /proc/<pid>/stat) that the
moto_server, the Centrum server and the client each spend per GB downloaded (medians over the
rounds, ``*_download_cpu_s_per_gb``). Since the three share the machine's cores, a path cannot
download faster than ``cores / sum of its CPU s/GB`` GB/s: ``*_download_ceiling_mb_s`` is that
bound for the cores this process may use (``cores``). Minor page faults per MiB downloaded
(``*_download_page_faults_per_mib``) show when a process's allocator keeps returning freed
buffers to the kernel and faulting them in again (256 a MiB is one fresh MiB per MiB).

``--sdk`` downloads from Centrum through the SDK (``centrum.sdk.download_stream`` on a
``connect``ed client) instead of the bare generated stub, so the client's CPU is the SDK's.

Usage: ``.venv/bin/python bench/bench_storage.py [--size-mib 256] [--rounds 2] [--multipart]
[--sdk]``; ~1-2 min.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import boto3  # noqa: E402
import grpc  # noqa: E402
from _load import process_usage  # noqa: E402
from botocore.config import Config  # noqa: E402

from centrum.sdk import Client, connect, download_stream  # noqa: E402
from centrum.storage.v1 import storage_service_pb2 as pb  # noqa: E402
from centrum.storage.v1 import storage_service_pb2_grpc  # noqa: E402
from harness.backends import free_port  # noqa: E402
from harness.tokens import TokenMint  # noqa: E402

MIB = 1024 * 1024
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


def _chunks(size: int) -> Iterator[bytes]:
    base = hashlib.sha256(b"bench").digest() * (MIB // 32)
    for index in range(0, size, MIB):
        yield (index.to_bytes(8, "big") + base)[: min(MIB, size - index)]


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


class _CpuMeter:
    """What each of a set of named processes spends in a measured span: CPU s per GB, and
    minor page faults per MiB (memory the allocator handed back and takes again)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self._start = {name: process_usage(pid) for name, pid in pids.items()}

    def per_gb(self, size: int) -> tuple[dict[str, float], dict[str, float]]:
        """Ends the span: CPU s/GB and faults/MiB of each process over `size` bytes."""
        cpu, faults = {}, {}
        for name, pid in self._pids.items():
            (cpu_s, minflt), (cpu_s0, minflt0) = process_usage(pid), self._start[name]
            cpu[name] = (cpu_s - cpu_s0) / (size / 1e9)
            faults[name] = (minflt - minflt0) / (size / MIB)
        return cpu, faults


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _s3(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )


Round = tuple[float, float, tuple[dict[str, float], dict[str, float]]]
"""Upload MB/s, download MB/s, and CPU s/GB and page faults/MiB of the download by process."""


def _boto3_round(s3: Any, payload: bytes, pids: dict[str, int]) -> Round:
    size = len(payload)
    bucket = "bench-baseline"
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)
    start = time.perf_counter()
    s3.put_object(Bucket=bucket, Key="obj", Body=payload)
    up = time.perf_counter() - start
    cpu = _CpuMeter(pids)
    start = time.perf_counter()
    body = s3.get_object(Bucket=bucket, Key="obj")["Body"]
    total = 0
    while data := body.read(MIB):
        total += len(data)
    down = time.perf_counter() - start
    cpu_per_gb = cpu.per_gb(size)
    assert total == size
    s3.delete_object(Bucket=bucket, Key="obj")
    return size / up / 1e6, size / down / 1e6, cpu_per_gb


def _centrum_round(
    stub: Any, metadata: Any, size: int, key: str, pids: dict[str, int], sdk: Client | None
) -> Round:
    def requests() -> Iterator[pb.UploadRequest]:
        yield pb.UploadRequest(
            header=pb.UploadHeader(
                bucket="bench", key=key, content_type="application/octet-stream", size_bytes=size
            )
        )
        for chunk in _chunks(size):
            yield pb.UploadRequest(chunk=chunk)

    start = time.perf_counter()
    stub.Upload(requests(), metadata=metadata)
    up = time.perf_counter() - start
    cpu = _CpuMeter(pids)
    start = time.perf_counter()
    total = 0
    if sdk is not None:
        with download_stream(sdk, "bench", key) as stream:
            for chunk in stream:
                total += len(chunk)
    else:
        request = pb.DownloadRequest(bucket="bench", key=key)
        for message in stub.Download(request, metadata=metadata):
            total += len(message.chunk)
    down = time.perf_counter() - start
    cpu_per_gb = cpu.per_gb(size)
    assert total == size, (key, total, size)
    stub.DeleteObject(pb.DeleteObjectRequest(bucket="bench", key=key), metadata=metadata)
    return size / up / 1e6, size / down / 1e6, cpu_per_gb


def _start_server(
    workdir: Path, endpoint: str, encryption: bool, mint: TokenMint, multipart: bool
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    settings = {
        "data_dir": str(workdir / f"data-{encryption}"),
        "listen": f"127.0.0.1:{port}",
        "services": ["storage", "audit"],
        "log_level": "warning",
        "log_format": "json",
        "s3_endpoint_url": endpoint,
        "s3_access_key_id": "testing",
        "s3_secret_access_key": "testing",
        "s3_bucket_prefix": f"bench-{'enc' if encryption else 'plain'}-",
        "storage": {
            "encryption": encryption,
            **({"s3_multipart_threshold_bytes": 5 * MIB} if multipart else {}),
        },
        "rate_limits": {
            "storage.upload": {"disabled": True},
            "storage.download": {"disabled": True},
        },
    }
    log = (workdir / f"server-{encryption}.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER,
            str(ROOT / "tests"),
            json.dumps(settings),
            json.dumps(mint.jwk),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, port


def main() -> None:
    """Runs the benchmark and prints one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--multipart", action="store_true", help="multipart uploads to S3")
    parser.add_argument("--sdk", action="store_true", help="download through centrum.sdk")
    args = parser.parse_args()
    size = args.size_mib * MIB
    workdir = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    moto_port = free_port()
    moto_bin = str(Path(sysconfig.get_path("scripts")) / "moto_server")
    moto = subprocess.Popen(
        [moto_bin, "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=(workdir / "moto.log").open("ab"),
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    endpoint = f"http://127.0.0.1:{moto_port}"
    mint = TokenMint()
    metadata = (("authorization", f"Bearer {mint.token(scopes=['storage.admin'], ttl_s=3600)}"),)
    results: dict[str, Any] = {
        "bench": "storage",
        "load_average_1m_before": round(os.getloadavg()[0], 2),
        "size_mib": args.size_mib,
        "rounds": args.rounds,
        "s3_upload": "multipart" if args.multipart else "streamed put",
        "download_client": "sdk" if args.sdk else "stub",
    }
    servers: list[subprocess.Popen[bytes]] = [moto]
    clients: list[Client] = []
    try:
        s3 = _s3(endpoint)
        _wait(lambda: _reachable(s3), 30, "moto_server")
        rows: dict[str, list[Round]] = {"boto3": [], "plain": [], "encrypted": []}
        channels = {}
        for mode, encryption in (("plain", False), ("encrypted", True)):
            process, port = _start_server(workdir, endpoint, encryption, mint, args.multipart)
            servers.append(process)
            channel = grpc.insecure_channel(
                f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", 8 * MIB)]
            )
            stub = storage_service_pb2_grpc.StorageServiceStub(channel)
            _wait(lambda stub=stub: _answers(stub, metadata), 60, f"centrum ({mode})")
            stub.CreateBucket(pb.CreateBucketRequest(name="bench"), metadata=metadata)
            sdk = None
            if args.sdk:
                sdk = connect(
                    f"127.0.0.1:{port}",
                    token=metadata[0][1].removeprefix("Bearer "),
                    options=[("grpc.max_receive_message_length", 8 * MIB)],
                )
                clients.append(sdk)
            channels[mode] = (stub, process.pid, _rss_kib(process.pid, "VmRSS"), sdk)
        payload = b"".join(_chunks(size))
        client = {"moto": moto.pid, "client": os.getpid()}
        for _ in range(args.rounds):
            rows["boto3"].append(_boto3_round(s3, payload, client))
            for mode in ("plain", "encrypted"):
                stub, pid, _, sdk = channels[mode]
                rows[mode].append(
                    _centrum_round(
                        stub, metadata, size, f"obj-{mode}", client | {"server": pid}, sdk
                    )
                )
        cores = len(os.sched_getaffinity(0))
        results["cores"] = cores
        for mode, values in rows.items():
            results[f"{mode}_upload_mb_s"] = round(statistics.median(v[0] for v in values), 1)
            results[f"{mode}_download_mb_s"] = round(statistics.median(v[1] for v in values), 1)
            cpu = {
                name: round(statistics.median(v[2][0][name] for v in values), 3)
                for name in values[0][2][0]
            }
            results[f"{mode}_download_cpu_s_per_gb"] = cpu
            results[f"{mode}_download_page_faults_per_mib"] = {
                name: round(statistics.median(v[2][1][name] for v in values))
                for name in values[0][2][1]
            }
            results[f"{mode}_download_ceiling_mb_s"] = round(cores / sum(cpu.values()) * 1e3, 1)
        for mode in ("plain", "encrypted"):
            for way in ("upload", "download"):
                results[f"{mode}_{way}_ratio"] = round(
                    results[f"{mode}_{way}_mb_s"] / results[f"boto3_{way}_mb_s"], 2
                )
            _, pid, baseline, _ = channels[mode]
            results[f"{mode}_server_peak_rss_growth_mib"] = round(
                (_rss_kib(pid, "VmHWM") - baseline) / 1024, 1
            )
    finally:
        for sdk_client in clients:
            sdk_client.close()
        for process in servers:
            process.terminate()
        for process in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    results["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results))


def _reachable(s3: Any) -> bool:
    try:
        s3.list_buckets()
    except Exception:
        return False
    return True


def _answers(stub: Any, metadata: Any) -> bool:
    try:
        stub.GetUsage(pb.GetUsageRequest(), metadata=metadata, timeout=1)
    except grpc.RpcError:
        return False
    return True


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
