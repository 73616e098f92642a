"""StorageService on the embedded defaults (local disk, local master key, EICAR scanner).

Pins the acceptance items that need no external backend: ciphertext at rest and ranged reads,
interrupted uploads, key/type/size validation, EICAR rejection with an audit event, tenant
isolation, listings, signed URLs through the local HTTP endpoint, quotas, copy and access.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
import sqlalchemy as sa
import structlog
from google.protobuf import duration_pb2, field_mask_pb2
from test_storage_kit import (
    PNG,
    Client,
    app_objects,
    eventually,
    pattern,
    reason_of,
    rpc_error,
    violations_of,
)

from centrum.interceptors.context import CredentialKind, Principal
from centrum.interceptors.errors import DataLoss, Unavailable
from centrum.server import CentrumApp
from centrum.services.db import OneHop, create_engine
from centrum.services.storage.blobs import READ_CHUNK, LocalBlobStore
from centrum.services.storage.buckets import read_in_one_hop
from centrum.services.storage.crypto import ciphertext_size
from centrum.services.storage.scanning import EICAR
from centrum.storage.v1 import bucket_pb2, object_pb2
from centrum.storage.v1 import storage_service_pb2 as pb
from harness.centrum import StartCentrum, channel
from harness.tokens import TokenMint


def blob_files(app: CentrumApp) -> list[Path]:
    """Every file of the local blob store, temp files included."""
    root = app.settings.data_dir / "objects"
    return [p for p in root.rglob("*") if p.is_file()]


async def test_bytes_on_disk_are_ciphertext_and_ranges_decrypt(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """An encrypted object's file holds no plaintext; ranged reads return exactly the range."""
    app = await start_centrum(storage={"segment_size": 4096})
    data = pattern(50_000, seed=1)
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        stored = (await c.put("docs", "r.bin", data, chunk=7000)).object
        assert stored.size_bytes == len(data)
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert stored.encryption.algorithm == object_pb2.ENCRYPTION_ALGORITHM_AES_256_GCM_SEGMENTED
        (file,) = blob_files(app)
        raw = file.read_bytes()
        assert len(raw) == ciphertext_size(len(data), 4096)
        assert data[:64] not in raw and data[20_000:20_064] not in raw
        assert await c.get("docs", "r.bin") == data
        for offset, length in [
            (0, 1),
            (4095, 2),
            (4096, 4096),
            (10_000, 0),
            (49_999, 0),
            (1, 49_000),
            (48_000, 10_000),
        ]:
            expected = data[offset : offset + length] if length else data[offset:]
            assert await c.get("docs", "r.bin", offset, length) == expected, (offset, length)
        error = await rpc_error(c.get("docs", "r.bin", 50_000, 1))
        assert error.code() == grpc.StatusCode.OUT_OF_RANGE


async def test_encryption_off_stores_plaintext(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """With encryption disabled the file is the plaintext and the object says NONE."""
    app = await start_centrum(storage={"encryption": False})
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        stored = (await c.put("docs", "p.txt", b"hello plain", "text/plain")).object
        assert stored.encryption.algorithm == object_pb2.ENCRYPTION_ALGORITHM_NONE
        (file,) = blob_files(app)
        assert file.read_bytes() == b"hello plain"
        assert await c.get("docs", "p.txt", 6, 0) == b"plain"


async def test_interrupted_upload_leaves_nothing_visible(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A cancelled upload and a short one leave no object and no file; an old version stays."""
    app = await start_centrum()
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.put("docs", "keep.bin", b"old version")
        sent_two = asyncio.Event()

        async def stalled() -> AsyncIterator[pb.UploadRequest]:
            yield pb.UploadRequest(
                header=pb.UploadHeader(
                    bucket="docs",
                    key="gone.bin",
                    content_type="application/octet-stream",
                    size_bytes=10_000_000,
                )
            )
            yield pb.UploadRequest(chunk=b"\x00" * 65536)
            yield pb.UploadRequest(chunk=b"\x01" * 65536)
            sent_two.set()
            await asyncio.Event().wait()

        call = c.stub.Upload(stalled(), metadata=c.metadata)
        await sent_two.wait()
        await eventually(lambda: any(p.parent.name == ".tmp" for p in blob_files(app)), "temp file")
        call.cancel()
        await eventually(lambda: len(blob_files(app)) == 1, "temp file removed")
        assert (await rpc_error(c.stat("docs", "gone.bin"))).code() == grpc.StatusCode.NOT_FOUND

        short = await rpc_error(c.put("docs", "keep.bin", b"new", size_bytes=10))
        assert short.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason_of(short) == "SIZE_MISMATCH"
        long = await rpc_error(c.put("docs", "keep.bin", b"new bytes!", size_bytes=3))
        assert long.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert await c.get("docs", "keep.bin") == b"old version"
        assert len(blob_files(app)) == 1
        listing = await c.stub.ListObjects(
            pb.ListObjectsRequest(bucket="docs"), metadata=c.metadata
        )
        assert [o.key for o in listing.objects] == ["keep.bin"]


async def test_downloads_cancelled_midway_end_as_cancelled(
    start_centrum: StartCentrum, token_mint: TokenMint, caplog: pytest.LogCaptureFixture
) -> None:
    """A caller that stops reading a download and cancels it: gRPC closes the response stream,
    and the call is logged as CANCELLED, not as an unexpected error, with no task left failing
    in the background."""
    app = await start_centrum()
    with structlog.testing.capture_logs() as logs:
        async with channel(app) as ch:
            c = Client.of(ch, token_mint)
            await c.bucket("docs")
            await c.put("docs", "big.bin", pattern(16 * 1024 * 1024))
            for _ in range(5):
                call = c.stub.Download(
                    pb.DownloadRequest(bucket="docs", key="big.bin"), metadata=c.metadata
                )
                async for _message in call:
                    break
                call.cancel()

            def downloads() -> list[str]:
                return [e["code"] for e in logs if e.get("method", "").endswith("/Download")]

            await eventually(lambda: len(downloads()) == 5, "five download log lines")
            assert await c.get("docs", "big.bin") == pattern(16 * 1024 * 1024)
    assert downloads()[:5] == ["CANCELLED"] * 5
    assert not [e for e in logs if e.get("event") == "unexpected error"]
    assert "never retrieved" not in caplog.text


BAD_KEYS = [
    "../etc/passwd",
    "/etc/passwd",
    "a/../../b",
    "a/./b",
    "bad\x00key",
    "tab\there",
    "x" * 1025,
]


async def test_bad_keys_are_rejected_and_nothing_stored(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Traversal, absolute, control-character and overlong keys: INVALID_ARGUMENT, header.key."""
    app = await start_centrum()
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        for key in BAD_KEYS:
            error = await rpc_error(c.put("docs", key, b"data"))
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, key
            assert set(violations_of(error)) == {"header.key"}, key
            stat = await rpc_error(c.stat("docs", key))
            assert stat.code() == grpc.StatusCode.INVALID_ARGUMENT, key
    assert blob_files(app) == []


async def test_keys_are_nfc_normalised(start_centrum: StartCentrum, token_mint: TokenMint) -> None:
    """A key in NFD is stored and found in NFC."""
    app = await start_centrum()
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        stored = (await c.put("docs", "cafe\u0301.txt", b"x", "text/plain")).object
        assert stored.key == "caf\u00e9.txt"
        assert (await c.stat("docs", "caf\u00e9.txt")).key == "caf\u00e9.txt"


async def test_type_size_and_checksum_validation(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """PNG declared as PDF, text as PNG, disallowed types, oversize and a bad SHA-256 fail."""
    app = await start_centrum(storage={"max_object_size_bytes": 1_000_000})
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("img", allowed_content_types=["image/*"], max_object_size_bytes=1000)
        await c.bucket("any")
        spoofed = await rpc_error(c.put("any", "x.pdf", PNG, "application/pdf"))
        assert spoofed.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason_of(spoofed) == "CONTENT_TYPE_MISMATCH"
        assert violations_of(spoofed) == ["header.content_type"]
        text_as_png = await rpc_error(c.put("img", "t.png", b"just some text", "image/png"))
        assert reason_of(text_as_png) == "CONTENT_TYPE_MISMATCH"
        not_allowed = await rpc_error(c.put("img", "d.pdf", b"%PDF-1.7 ...", "application/pdf"))
        assert not_allowed.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(not_allowed) == "CONTENT_TYPE_NOT_ALLOWED"
        too_big = await rpc_error(c.put("img", "big.png", PNG + bytes(1000), "image/png"))
        assert too_big.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert violations_of(too_big) == ["header.size_bytes"]
        over_global = await rpc_error(
            c.put("img", "huge.png", PNG, "image/png", size_bytes=2_000_000)
        )
        assert over_global.code() == grpc.StatusCode.INVALID_ARGUMENT
        bad_sum = await rpc_error(c.put("img", "s.png", PNG, "image/png", sha256="0" * 64))
        assert reason_of(bad_sum) == "CHECKSUM_MISMATCH"
        good = await c.put(
            "img", "ok.png", PNG, "image/png", sha256=hashlib.sha256(PNG).hexdigest()
        )
        assert good.object.content_type == "image/png"
        json_ok = await c.bucket("data")
        assert json_ok.name == "data"
        assert (
            await c.put("data", "d.json", b'{"a": 1}', "application/json")
        ).object.size_bytes == 8
    assert len(blob_files(app)) == 2


async def test_eicar_is_rejected_never_stored_and_audited(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """The built-in scanner rejects EICAR (even split across chunks) and records an audit event."""
    app = await start_centrum()
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        payload = b"prefix " * 10 + EICAR + b" suffix"
        error = await rpc_error(c.put("docs", "virus.txt", payload, "text/plain", chunk=50))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(error) == "MALWARE_DETECTED"
        assert (await rpc_error(c.stat("docs", "virus.txt"))).code() == grpc.StatusCode.NOT_FOUND
    assert blob_files(app) == []

    async def audited() -> bool:
        events = await app.audit_log.events(0, 1000)
        return any(
            e.action == "object.malware_rejected" and e.resource.id == "docs/virus.txt"
            for e in events
        )

    await eventually(audited, "malware audit event")


async def test_tenants_cannot_see_each_others_objects(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Tenant B gets NOT_FOUND reading, stating, listing, signing, copying, deleting A's object."""
    app = await start_centrum(storage={"http_listen": "127.0.0.1:0"})
    async with channel(app) as ch:
        a = Client.of(ch, token_mint, subject="alice", tenant="tenant-a")
        b = Client.of(ch, token_mint, subject="bob", tenant="tenant-b")
        await a.bucket("shared-name")
        await a.put("shared-name", "secret.txt", b"A's secret", "text/plain")
        for call in (
            b.get("shared-name", "secret.txt"),
            b.stat("shared-name", "secret.txt"),
            b.stub.ListObjects(pb.ListObjectsRequest(bucket="shared-name"), metadata=b.metadata),
            b.stub.CreateSignedUrl(
                pb.CreateSignedUrlRequest(
                    bucket="shared-name", key="secret.txt", method=pb.SIGNED_URL_METHOD_GET
                ),
                metadata=b.metadata,
            ),
            b.stub.DeleteObject(
                pb.DeleteObjectRequest(bucket="shared-name", key="secret.txt"), metadata=b.metadata
            ),
        ):
            assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
        await b.bucket("shared-name")
        listing = await b.stub.ListObjects(
            pb.ListObjectsRequest(bucket="shared-name"), metadata=b.metadata
        )
        assert list(listing.objects) == []
        assert (
            await rpc_error(b.stat("shared-name", "secret.txt"))
        ).code() == grpc.StatusCode.NOT_FOUND
        copy = await rpc_error(
            b.stub.CopyObject(
                pb.CopyObjectRequest(
                    source_bucket="shared-name",
                    source_key="secret.txt",
                    destination_bucket="shared-name",
                    destination_key="mine.txt",
                ),
                metadata=b.metadata,
            )
        )
        assert copy.code() == grpc.StatusCode.NOT_FOUND
        await b.stub.DeleteObject(
            pb.DeleteObjectRequest(bucket="shared-name", key="secret.txt"), metadata=b.metadata
        )
        assert await a.get("shared-name", "secret.txt") == b"A's secret"


async def test_private_objects_are_hidden_from_other_subjects_of_the_tenant(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Private objects are readable by their owner and admins only; tenant access opens them."""
    app = await start_centrum()
    async with channel(app) as ch:
        alice = Client.of(ch, token_mint, subject="alice")
        carol = Client.of(ch, token_mint, subject="carol", scopes=["storage.read", "storage.write"])
        await alice.bucket("team")
        await alice.put("team", "mine.txt", b"private", "text/plain")
        assert (await rpc_error(carol.stat("team", "mine.txt"))).code() == grpc.StatusCode.NOT_FOUND
        listed = await carol.stub.ListObjects(
            pb.ListObjectsRequest(bucket="team"), metadata=carol.metadata
        )
        assert list(listed.objects) == []
        updated = await alice.stub.SetObjectAccess(
            pb.SetObjectAccessRequest(
                bucket="team", key="mine.txt", access=object_pb2.OBJECT_ACCESS_TENANT
            ),
            metadata=alice.metadata,
        )
        assert updated.object.access == object_pb2.OBJECT_ACCESS_TENANT
        assert await carol.get("team", "mine.txt") == b"private"
        public = await rpc_error(
            alice.stub.SetObjectAccess(
                pb.SetObjectAccessRequest(
                    bucket="team", key="mine.txt", access=object_pb2.OBJECT_ACCESS_PUBLIC_READ
                ),
                metadata=alice.metadata,
            )
        )
        assert public.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_listing_with_prefix_delimiter_and_pages(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Keys list in order, roll up at the delimiter, and page without gaps or repeats."""
    app = await start_centrum()
    keys = ["a.txt", "dir/1", "dir/2", "dir/sub/3", "e/1", "f.txt", "g/x", "g/y", "h"]
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("tree")
        for key in keys:
            await c.put("tree", key, b"x")
        seen: list[str] = []
        token = ""
        while True:
            page = await c.stub.ListObjects(
                pb.ListObjectsRequest(bucket="tree", delimiter="/", page_size=2, page_token=token),
                metadata=c.metadata,
            )
            assert len(page.objects) + len(page.common_prefixes) <= 2
            seen += sorted([o.key for o in page.objects] + list(page.common_prefixes))
            token = page.next_page_token
            if not token:
                break
        assert seen == ["a.txt", "dir/", "e/", "f.txt", "g/", "h"]
        under = await c.stub.ListObjects(
            pb.ListObjectsRequest(bucket="tree", prefix="dir/", delimiter="/"), metadata=c.metadata
        )
        assert [o.key for o in under.objects] == ["dir/1", "dir/2"] and list(
            under.common_prefixes
        ) == ["dir/sub/"]
        flat = await c.stub.ListObjects(
            pb.ListObjectsRequest(bucket="tree", prefix="g"), metadata=c.metadata
        )
        assert [o.key for o in flat.objects] == ["g/x", "g/y"]
        bad = await rpc_error(
            c.stub.ListObjects(
                pb.ListObjectsRequest(
                    bucket="tree", prefix="z", page_token=token or "eyJiIjoieCJ9"
                ),
                metadata=c.metadata,
            )
        )
        assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_signed_urls_through_the_local_endpoint(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A signed GET serves plaintext, a signed PUT stores a validated object; tampering is 403."""
    app = await start_centrum(storage={"http_listen": "127.0.0.1:0"})
    async with channel(app) as ch, httpx.AsyncClient() as http:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.put(
            "docs",
            "report.txt",
            b"quarterly numbers",
            "text/plain",
            content_disposition="attachment",
        )
        signed = await c.stub.CreateSignedUrl(
            pb.CreateSignedUrlRequest(
                bucket="docs",
                key="report.txt",
                method=pb.SIGNED_URL_METHOD_GET,
                ttl=duration_pb2.Duration(seconds=60),
            ),
            metadata=c.metadata,
        )
        got = await http.get(signed.url)
        assert got.status_code == 200 and got.content == b"quarterly numbers"
        assert got.headers["content-disposition"] == "attachment"
        assert (await http.get(signed.url.replace("report.txt", "other.txt"))).status_code == 403
        assert (await http.put(signed.url, content=b"x")).status_code == 403

        put = await c.stub.CreateSignedUrl(
            pb.CreateSignedUrlRequest(
                bucket="docs",
                key="up/new.png",
                method=pb.SIGNED_URL_METHOD_PUT,
                content_type="image/png",
                size_bytes=len(PNG),
            ),
            metadata=c.metadata,
        )
        assert dict(put.required_headers) == {"Content-Type": "image/png"}
        wrong_type = await http.put(put.url, content=PNG, headers={"Content-Type": "image/gif"})
        assert wrong_type.status_code == 403
        stored = await http.put(put.url, content=PNG, headers=dict(put.required_headers))
        assert stored.status_code == 201, stored.text
        assert await c.get("docs", "up/new.png") == PNG
        assert (await c.stat("docs", "up/new.png")).owner == "alice"

        spoof = await c.stub.CreateSignedUrl(
            pb.CreateSignedUrlRequest(
                bucket="docs",
                key="x.pdf",
                method=pb.SIGNED_URL_METHOD_PUT,
                content_type="application/pdf",
            ),
            metadata=c.metadata,
        )
        rejected = await http.put(
            spoof.url, content=PNG, headers={"Content-Type": "application/pdf"}
        )
        assert rejected.status_code == 400
        reader = Client.of(ch, token_mint, scopes=["storage.read"])
        denied = await rpc_error(
            reader.stub.CreateSignedUrl(
                pb.CreateSignedUrlRequest(
                    bucket="docs",
                    key="y.txt",
                    method=pb.SIGNED_URL_METHOD_PUT,
                    content_type="text/plain",
                ),
                metadata=reader.metadata,
            )
        )
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        too_long = await rpc_error(
            c.stub.CreateSignedUrl(
                pb.CreateSignedUrlRequest(
                    bucket="docs",
                    key="report.txt",
                    method=pb.SIGNED_URL_METHOD_GET,
                    ttl=duration_pb2.Duration(seconds=8 * 86400),
                ),
                metadata=c.metadata,
            )
        )
        assert too_long.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_signed_urls_need_the_endpoint(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Without storage.http_listen on the local backend, CreateSignedUrl is FAILED_PRECONDITION."""
    app = await start_centrum()
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.put("docs", "a.txt", b"a", "text/plain")
        error = await rpc_error(
            c.stub.CreateSignedUrl(
                pb.CreateSignedUrlRequest(
                    bucket="docs", key="a.txt", method=pb.SIGNED_URL_METHOD_GET
                ),
                metadata=c.metadata,
            )
        )
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_quota_usage_copy_and_delete(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Usage counts plaintext bytes; the quota refuses uploads and copies beyond it."""
    app = await start_centrum(storage={"quota_bytes_per_tenant": 100})
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.bucket("more")
        await c.put("docs", "a.txt", b"a" * 40, "text/plain", metadata={"k": "v"})
        copied = await c.stub.CopyObject(
            pb.CopyObjectRequest(
                source_bucket="docs",
                source_key="a.txt",
                destination_bucket="more",
                destination_key="b.txt",
            ),
            metadata=c.metadata,
        )
        assert copied.object.metadata["k"] == "v" and copied.object.size_bytes == 40
        assert await c.get("more", "b.txt") == b"a" * 40
        usage = await c.stub.GetUsage(pb.GetUsageRequest(), metadata=c.metadata)
        assert (usage.size_bytes, usage.object_count, usage.quota_bytes) == (80, 2, 100)
        assert [(b.bucket, b.size_bytes) for b in usage.buckets] == [("docs", 40), ("more", 40)]
        over = await rpc_error(c.put("docs", "c.txt", b"c" * 30, "text/plain"))
        assert over.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        exists = await rpc_error(c.put("docs", "a.txt", b"z", "text/plain", if_none_match=True))
        assert exists.code() == grpc.StatusCode.ALREADY_EXISTS
        await c.stub.DeleteObject(
            pb.DeleteObjectRequest(bucket="more", key="b.txt"), metadata=c.metadata
        )
        await c.stub.DeleteObject(
            pb.DeleteObjectRequest(bucket="more", key="b.txt"), metadata=c.metadata
        )
        await c.put("docs", "c.txt", b"c" * 30, "text/plain")
        full = await rpc_error(
            c.stub.DeleteBucket(pb.DeleteBucketRequest(name="docs"), metadata=c.metadata)
        )
        assert full.code() == grpc.StatusCode.FAILED_PRECONDITION
        await c.stub.DeleteBucket(pb.DeleteBucketRequest(name="more"), metadata=c.metadata)
    assert len(blob_files(app)) == 2


async def test_bucket_crud(start_centrum: StartCentrum, token_mint: TokenMint) -> None:
    """Buckets are created, read, listed in pages, updated by mask and deleted idempotently."""
    app = await start_centrum(rate_limits={"storage.admin": {"disabled": True}})
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        for name in ("b-one", "b-two", "b-three"):
            await c.bucket(name)
        assert (await rpc_error(c.bucket("b-one"))).code() == grpc.StatusCode.ALREADY_EXISTS
        assert (await rpc_error(c.bucket("Bad_Name"))).code() == grpc.StatusCode.INVALID_ARGUMENT
        page = await c.stub.ListBuckets(pb.ListBucketsRequest(page_size=2), metadata=c.metadata)
        rest = await c.stub.ListBuckets(
            pb.ListBucketsRequest(page_token=page.next_page_token), metadata=c.metadata
        )
        assert [b.name for b in [*page.buckets, *rest.buckets]] == ["b-one", "b-three", "b-two"]
        updated = await c.stub.UpdateBucket(
            pb.UpdateBucketRequest(
                name="b-one",
                settings=bucket_pb2.BucketSettings(allow_public_read=True, max_object_size_bytes=5),
                update_mask=field_mask_pb2.FieldMask(paths=["allow_public_read"]),
            ),
            metadata=c.metadata,
        )
        assert (
            updated.bucket.settings.allow_public_read
            and updated.bucket.settings.max_object_size_bytes == 0
        )
        got = await c.stub.GetBucket(pb.GetBucketRequest(name="b-one"), metadata=c.metadata)
        assert got.bucket.settings.allow_public_read
        await c.stub.DeleteBucket(pb.DeleteBucketRequest(name="b-one"), metadata=c.metadata)
        await c.stub.DeleteBucket(pb.DeleteBucketRequest(name="b-one"), metadata=c.metadata)
        missing = await rpc_error(
            c.stub.GetBucket(pb.GetBucketRequest(name="b-one"), metadata=c.metadata)
        )
        assert missing.code() == grpc.StatusCode.NOT_FOUND
        writer = Client.of(ch, token_mint, scopes=["storage.read", "storage.write"])
        assert (
            await rpc_error(writer.bucket("b-four"))
        ).code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("grace_s", [60.0, 0.0])
async def test_download_racing_an_overwrite_gets_the_version_it_started_on(
    start_centrum: StartCentrum, token_mint: TokenMint, grace_s: float
) -> None:
    """A read that has its object's row but not yet its bytes still gets those bytes when the
    key is overwritten in between (found by the soak); with no grace period it cannot."""
    app = await start_centrum(storage={"replaced_blob_grace_s": grace_s})
    old, new = b"old " * 1000, b"new " * 1000
    principal = Principal(
        subject="svc-test",
        tenant="acme",
        scopes=frozenset({"storage.admin"}),
        kind=CredentialKind.JWT,
    )
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("race")
        await c.put("race", "k.txt", old, "text/plain")
        _, pending_bytes = await app_objects(app).open_read(principal, "race", "k.txt", 0, 0, None)
        await c.put("race", "k.txt", new, "text/plain")
    if grace_s:
        assert b"".join([chunk async for chunk in pending_bytes]) == old
    else:
        with pytest.raises(DataLoss):
            _ = [chunk async for chunk in pending_bytes]


async def test_local_reads_span_hops_and_report_truncation(tmp_path: Path) -> None:
    """The local store reads several chunks per thread hop: any range comes back exactly, in
    chunks of at most READ_CHUNK; a file cut short yields what it holds, then BLOB_TRUNCATED."""
    store = LocalBlobStore(tmp_path)
    blob = "ab" * 16
    data = pattern(5 * READ_CHUNK + 3, seed=5)
    writer = await store.writer("acme", blob, len(data))
    await writer.write(data)
    await writer.commit()
    for start, end in [
        (0, len(data)),
        (0, 1),
        (1, READ_CHUNK + 1),
        (READ_CHUNK - 1, 3 * READ_CHUNK + 2),
        (len(data) - 1, len(data)),
        (7, 7),
    ]:
        chunks = [chunk async for chunk in store.read("acme", blob, start, end)]
        assert b"".join(chunks) == data[start:end], (start, end)
        assert all(0 < len(chunk) <= READ_CHUNK for chunk in chunks)
    with store.path_of("acme", blob).open("r+b") as handle:
        handle.truncate(2 * READ_CHUNK + 10)
    received = bytearray()
    with pytest.raises(DataLoss) as failure:
        async for chunk in store.read("acme", blob, 0, len(data)):
            received += chunk
    assert failure.value.reason == "BLOB_TRUNCATED"
    assert bytes(received) == data[: 2 * READ_CHUNK + 10]


async def test_a_metadata_read_maps_only_an_unreachable_database_to_unavailable(
    postgres_url: str,
) -> None:
    """StatObject's and Download's row read: a database that is away answers UNAVAILABLE with
    RetryInfo (worth a retry); a statement the database refuses (a NUL in a string) is left to
    the error mapper, since every retry would fail the same way."""
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/centrum")
    try:
        with pytest.raises(Unavailable) as away:
            await read_in_one_hop(OneHop(unreachable), lambda c: c.execute(sa.text("SELECT 1")))
    finally:
        await unreachable.dispose()
    assert away.value.reason == "DATABASE_UNAVAILABLE"
    assert away.value.retry_after_s is not None
    reachable = create_engine(postgres_url)
    try:
        with pytest.raises(sa.exc.DataError):
            await read_in_one_hop(
                OneHop(reachable), lambda c: c.execute(sa.text("SELECT :v"), {"v": "a\x00b"})
            )
    finally:
        await reachable.dispose()
