"""StorageService on S3 (moto_server) and with Vault transit (OpenBao) wrapping data keys.

Pins: bytes in S3 are ciphertext, multipart uploads of large objects, ranged reads, interrupted
uploads leave no object nor multipart upload, S3 down -> UNAVAILABLE with RetryInfo, presigned
GETs of unencrypted objects, and KEK rotation that rewraps data keys without touching bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
from google.rpc import error_details_pb2
from test_storage_kit import (
    Client,
    app_objects,
    eventually,
    pattern,
    rpc_error,
)

from centrum.storage.v1 import object_pb2
from centrum.storage.v1 import storage_service_pb2 as pb
from harness._s3 import answers_http, moto_process
from harness.backends import OpenBaoTarget, S3Target
from harness.centrum import StartCentrum, channel
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


async def test_large_object_is_multipart_ciphertext_in_s3_with_ranged_reads(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """A 12 MiB object goes up in parts, lands as ciphertext, and ranges decrypt correctly."""
    app = await start_centrum(**s3_settings(s3_endpoint, "ct-enc-"))
    data = pattern(12 * 1024 * 1024 + 123, seed=7)
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("media")
        stored = (await c.put("media", "big.bin", data, chunk=1024 * 1024)).object
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        ((bucket, key),) = stored_objects(s3_endpoint, "ct-enc-")
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


async def test_interrupted_s3_upload_leaves_no_object_or_parts(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """Cancelling after parts were uploaded aborts the multipart upload; nothing is listed."""
    app = await start_centrum(**s3_settings(s3_endpoint, "ct-cut-"))
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("media")
        await c.put("media", "seed.txt", b"seed", "text/plain")  # creates the tenant's S3 bucket
        ((bucket, _),) = stored_objects(s3_endpoint, "ct-cut-")
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
        await eventually(
            lambda: bool(s3.list_multipart_uploads(Bucket=bucket).get("Uploads")),
            "a multipart upload",
        )
        call.cancel()
        await eventually(
            lambda: not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"), "multipart aborted"
        )
        assert (await rpc_error(c.stat("media", "cut.bin"))).code() == grpc.StatusCode.NOT_FOUND
        assert len(stored_objects(s3_endpoint, "ct-cut-")) == 1


async def test_s3_down_is_unavailable_with_retry_info(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """With its moto_server stopped, uploads and downloads end UNAVAILABLE with RetryInfo."""
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
            process.stop()
            for call in (c.put("media", "b.txt", b"after", "text/plain"), c.get("media", "a.txt")):
                error = await rpc_error(call)
                assert error.code() == grpc.StatusCode.UNAVAILABLE
                assert detail(error, error_details_pb2.RetryInfo).retry_delay.seconds >= 1
            assert (await rpc_error(c.stat("media", "b.txt"))).code() == grpc.StatusCode.NOT_FOUND
    finally:
        process.stop()


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
