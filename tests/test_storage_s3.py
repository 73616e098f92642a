"""StorageService on S3 (moto_server) and with Vault transit (OpenBao) wrapping data keys.

Pins: bytes in S3 are ciphertext, large objects go up in parts or as one streamed PUT, ranged
reads, interrupted uploads leave no object nor multipart upload, S3 down -> UNAVAILABLE with
RetryInfo, presigned GETs of unencrypted objects, and KEK rotation that rewraps data keys
without touching bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from test_storage_kit import (
    ALL_SCOPES,
    Client,
    app_objects,
    eventually,
    pattern,
    rpc_error,
)

from centrum.server import CentrumApp
from centrum.storage.v1 import object_pb2, storage_service_pb2_grpc
from centrum.storage.v1 import storage_service_pb2 as pb
from harness._s3 import answers_http, moto_process
from harness.backends import ManagedProcess, OpenBaoTarget, S3Target
from harness.centrum import StartCentrum, bearer, channel
from harness.echo_client import detail
from harness.tokens import TokenMint


def s3_settings(target: S3Target, prefix: str, **storage: object) -> dict[str, object]:
    """Settings of a server storing objects in the moto endpoint under a unique prefix."""
    return {
        "s3_endpoint_url": target.endpoint_url,
        "s3_region": target.region,
        "s3_access_key_id": target.access_key,
        "s3_secret_access_key": target.secret_key,
        "s3_bucket_prefix": prefix,
        "storage": {"s3_part_size": 5 * 1024 * 1024, **storage},
    }


def stored_objects(target: S3Target, prefix: str) -> list[tuple[str, str]]:
    """(bucket, key) of every S3 object under buckets starting with `prefix`."""
    s3 = target.client()
    found = []
    for bucket in s3.list_buckets()["Buckets"]:
        if bucket["Name"].startswith(prefix):
            for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
                found.append((bucket["Name"], item["Key"]))
    return found


MIB = 1024 * 1024
# Stored sizes from which uploads go multipart: parts of 5 MiB, or one streamed PUT below 5 GiB.
UPLOAD_MODES = pytest.mark.parametrize(
    "multipart_from", [5 * MIB, 5 * 1024 * MIB], ids=["multipart", "streamed"]
)


@UPLOAD_MODES
async def test_large_object_is_ciphertext_in_s3_with_ranged_reads(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target, multipart_from: int
) -> None:
    """A 12 MiB object, sent in parts or streamed in one PUT, lands as ciphertext, and ranges
    decrypt correctly."""
    prefix = f"ct-enc-{'m' if multipart_from < 64 * MIB else 's'}-"
    app = await start_centrum(
        **s3_settings(s3_endpoint, prefix, s3_multipart_threshold_bytes=multipart_from)
    )
    data = pattern(12 * 1024 * 1024 + 123, seed=7)
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("media")
        stored = (await c.put("media", "big.bin", data, chunk=1024 * 1024)).object
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        ((bucket, key),) = stored_objects(s3_endpoint, prefix)
        raw = s3_endpoint.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        assert len(raw) > len(data) and data[:4096] not in raw and data[-4096:] not in raw
        assert await c.get("media", "big.bin") == data
        for offset, length in [
            (0, 10),
            (65_535, 3),
            (5 * 1024 * 1024 - 1, 70_000),
            (len(data) - 5, 0),
        ]:
            expected = data[offset : offset + length] if length else data[offset:]
            assert await c.get("media", "big.bin", offset, length) == expected


@UPLOAD_MODES
async def test_interrupted_s3_upload_leaves_no_object_or_parts(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target, multipart_from: int
) -> None:
    """Cancelling after 12 MiB were sent aborts the multipart upload (or cuts the streamed PUT);
    nothing is listed."""
    prefix = f"ct-cut-{'m' if multipart_from < 64 * MIB else 's'}-"
    app = await start_centrum(
        **s3_settings(s3_endpoint, prefix, s3_multipart_threshold_bytes=multipart_from)
    )
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("media")
        await c.put("media", "seed.txt", b"seed", "text/plain")  # creates the tenant's S3 bucket
        ((bucket, _),) = stored_objects(s3_endpoint, prefix)
        s3 = s3_endpoint.client()
        sent = asyncio.Event()

        async def stalled() -> AsyncIterator[pb.UploadRequest]:
            yield pb.UploadRequest(
                header=pb.UploadHeader(
                    bucket="media",
                    key="cut.bin",
                    content_type="application/octet-stream",
                    size_bytes=64 * 1024 * 1024,
                )
            )
            for chunk in range(12):
                yield pb.UploadRequest(chunk=bytes([chunk]) * 1024 * 1024)
            sent.set()
            await asyncio.Event().wait()

        call = c.stub.Upload(stalled(), metadata=c.metadata)
        await sent.wait()
        if multipart_from < 64 * MIB:
            await eventually(
                lambda: bool(s3.list_multipart_uploads(Bucket=bucket).get("Uploads")),
                "a multipart upload",
            )
        else:
            await eventually(lambda: bool(app_objects(app).in_use), "the upload under way")
        call.cancel()
        await eventually(
            lambda: not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), "multipart aborted"
        )
        assert (await rpc_error(c.stat("media", "cut.bin"))).code() == grpc.StatusCode.NOT_FOUND
        assert len(stored_objects(s3_endpoint, prefix)) == 1


@pytest.fixture
async def stoppable_s3(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> AsyncIterator[tuple[CentrumApp, ManagedProcess]]:
    """A server on its own moto_server (which the test may stop), with bucket "media" holding
    "a.txt"; short S3 timeouts."""
    process, target, port = moto_process(tmp_path)
    process.start()
    try:
        process.wait_ready(lambda: answers_http(port), 30, "HTTP answered")
        app = await start_centrum(
            **s3_settings(target, "ct-down-", s3_connect_timeout_s=0.5, s3_read_timeout_s=2)
        )
        async with channel(app) as ch:
            c = Client.of(ch, token_mint)
            await c.bucket("media")
            await c.put("media", "a.txt", b"before", "text/plain")
        yield app, process
    finally:
        process.stop()


async def test_s3_down_is_unavailable_with_retry_info(
    stoppable_s3: tuple[CentrumApp, ManagedProcess], token_mint: TokenMint
) -> None:
    """With its moto_server stopped, uploads and downloads end UNAVAILABLE with RetryInfo."""
    app, process = stoppable_s3
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        process.stop()
        for call in (c.put("media", "b.txt", b"after", "text/plain"), c.get("media", "a.txt")):
            error = await rpc_error(call)
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert detail(error, error_details_pb2.RetryInfo).retry_delay.seconds >= 1
        assert (await rpc_error(c.stat("media", "b.txt"))).code() == grpc.StatusCode.NOT_FOUND


async def test_s3_lost_during_a_streamed_put_is_unavailable(
    stoppable_s3: tuple[CentrumApp, ManagedProcess], token_mint: TokenMint
) -> None:
    """moto_server stopping while a streamed PUT is under way ends the upload UNAVAILABLE with
    RetryInfo (the upload does not hang on its full pipe), and no object appears."""
    app, process = stoppable_s3
    metadata = bearer(token_mint.token(subject="alice", tenant="acme", scopes=list(ALL_SCOPES)))
    halfway, stopped = threading.Event(), threading.Event()

    def requests() -> Iterator[pb.UploadRequest]:
        yield pb.UploadRequest(
            header=pb.UploadHeader(
                bucket="media",
                key="lost.bin",
                content_type="application/octet-stream",
                size_bytes=64 * MIB,
            )
        )
        for index in range(64):
            if index == 8:
                halfway.set()
                stopped.wait()
            yield pb.UploadRequest(chunk=bytes([index]) * MIB)

    def upload() -> Any:
        # The blocking client reports the server's status even while it is still sending.
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as sync_channel:
            stub = storage_service_pb2_grpc.StorageServiceStub(sync_channel)
            try:
                stub.Upload(requests(), metadata=metadata, timeout=60)
            except grpc.RpcError as exc:
                return exc
        raise AssertionError("the upload succeeded")

    outcome = asyncio.ensure_future(asyncio.to_thread(upload))
    await asyncio.to_thread(halfway.wait, 30)
    process.stop()
    stopped.set()
    error = await outcome  # a grpc.Call, read like an AioRpcError
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert detail(error, error_details_pb2.RetryInfo).retry_delay.seconds >= 1
    async with channel(app) as ch:
        stat = Client.of(ch, token_mint).stat("media", "lost.bin")
        assert (await rpc_error(stat)).code() == grpc.StatusCode.NOT_FOUND


async def test_presigned_get_for_unencrypted_s3_objects(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """Without encryption, CreateSignedUrl GET is an S3 presigned URL serving the bytes."""
    app = await start_centrum(**s3_settings(s3_endpoint, "ct-pre-", encryption=False))
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("media")
        await c.put("media", "p.txt", b"presigned bytes", "text/plain")
        signed = await c.stub.CreateSignedUrl(
            pb.CreateSignedUrlRequest(bucket="media", key="p.txt", method=pb.SIGNED_URL_METHOD_GET),
            metadata=c.metadata,
        )
        assert signed.url.startswith(s3_endpoint.endpoint_url)
        async with httpx.AsyncClient() as http:
            response = await http.get(signed.url)
        assert response.status_code == 200 and response.content == b"presigned bytes"


async def test_transit_wrapping_and_kek_rotation_rewraps_without_touching_bytes(
    start_centrum: StartCentrum,
    token_mint: TokenMint,
    s3_endpoint: S3Target,
    openbao: OpenBaoTarget,
) -> None:
    """Data keys are wrapped by OpenBao transit; rotation moves them to v2, bytes unchanged."""
    app = await start_centrum(
        vault_addr=openbao.addr,
        vault_token=openbao.token,
        **s3_settings(s3_endpoint, "ct-kek-", transit_key="ct-kek-test"),
    )
    data = pattern(200_000, seed=3)
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("vault")
        stored = (await c.put("vault", "k.bin", data)).object
        assert stored.encryption.key_provider == object_pb2.KEY_PROVIDER_VAULT_TRANSIT
        assert (stored.encryption.key_id, stored.encryption.key_version) == ("ct-kek-test", 1)
        ((bucket, key),) = stored_objects(s3_endpoint, "ct-kek-")
        s3 = s3_endpoint.client()
        before = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert await app_objects(app).rotate_keys() == 1
        after = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert before == after
        assert (await c.stat("vault", "k.bin")).encryption.key_version == 2
        assert await c.get("vault", "k.bin", 1000, 5000) == data[1000:6000]
