"""The storage sweeper on the local disk and on S3 (moto_server).

Pins: bytes no object points at are deleted once unreferenced for the grace period, and not
before; abandoned uploads (a writer's temp file, an S3 multipart upload) are removed once stale;
live objects and the replaced bytes a running process still serves are never touched; the
periodic sweep started with the server removes what a stopped server left behind.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_storage_kit import Client, app_objects, eventually
from test_storage_s3 import s3_settings

from centrum.server import CentrumApp
from centrum.services.storage.blobs import BlobStore, LocalBlobStore, S3BlobStore
from centrum.services.storage.sweeper import BlobSweeper, SweepReport
from harness.backends import S3Target
from harness.centrum import StartCentrum, channel
from harness.tokens import TokenMint

TENANT = "acme"

Settings = Callable[..., dict[str, Any]]


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> tuple[Settings, S3Target | None]:
    """Server settings for one blob store (with storage overrides), and the S3 target if any."""
    if request.param == "local":
        return (lambda **storage: {"storage": storage}), None
    target: S3Target = request.getfixturevalue("s3_endpoint")
    prefix = f"sw-{uuid.uuid4().hex[:8]}-"
    return (lambda **storage: s3_settings(target, prefix, **storage)), target


def sweeper_of(app: CentrumApp) -> BlobSweeper:
    """The sweeper of a running in-process server."""
    sweeper: BlobSweeper = app._bundles["storage"].extra["storage.sweeper"]
    return sweeper


def store_state(app: CentrumApp, target: S3Target | None) -> tuple[set[str], set[str]]:
    """(committed blob ids, blob ids of unfinished uploads), read around the store's own code."""
    store: BlobStore = app_objects(app).blobs
    if target is None:
        assert isinstance(store, LocalBlobStore)
        files = [p for p in store.root.rglob("*") if p.is_file()]
        return (
            {p.name for p in files if p.parent.name != ".tmp"},
            {p.name.split(".")[0] for p in files if p.parent.name == ".tmp"},
        )
    assert isinstance(store, S3BlobStore)
    s3, bucket = target.client(), store.bucket_of(TENANT)
    committed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    uploads = {u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
    return committed, uploads


async def leave_orphan(app: CentrumApp) -> str:
    """Commits a blob no object points at, as a server that stopped before publishing would."""
    blob_id = uuid.uuid4().hex
    writer = await app_objects(app).blobs.writer(TENANT, blob_id)
    await writer.write(b"orphan bytes")
    await writer.commit()
    return blob_id


async def leave_unfinished_upload(app: CentrumApp, target: S3Target | None) -> str:
    """Begins an upload that nobody finishes: a temp file, or an S3 multipart upload."""
    blob_id = uuid.uuid4().hex
    store = app_objects(app).blobs
    if target is None:
        writer = await store.writer(TENANT, blob_id)
        await writer.write(b"half an upload")  # the writer is dropped without abort
        return blob_id
    assert isinstance(store, S3BlobStore)
    s3, bucket = target.client(), store.bucket_of(TENANT)
    upload = s3.create_multipart_upload(Bucket=bucket, Key=blob_id)["UploadId"]
    s3.upload_part(Bucket=bucket, Key=blob_id, UploadId=upload, PartNumber=1, Body=b"half")
    return blob_id


async def test_orphans_wait_out_the_grace_and_stale_uploads_are_removed(
    start_centrum: StartCentrum,
    token_mint: TokenMint,
    backend: tuple[Settings, S3Target | None],
) -> None:
    """With an injected time: an orphan goes once unreferenced for the grace period (not on
    first sight), an unfinished upload once stale; live objects and bytes still served stay."""
    settings, target = backend
    app = await start_centrum(
        **settings(replaced_blob_grace_s=600, stale_upload_s=3600, sweep_interval_s=0)
    )
    async with channel(app) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.put("docs", "keep.bin", b"live object")
        await c.put("docs", "over.bin", b"first version")
        await c.put("docs", "over.bin", b"second version")  # the first stays readable 600 s
        assert len(store_state(app, target)[0]) == 3
        orphan = await leave_orphan(app)
        unfinished = await leave_unfinished_upload(app, target)

        sweeper = sweeper_of(app)
        start = time.time()
        assert await sweeper.sweep(now=start) == SweepReport()
        assert await sweeper.sweep(now=start + 599) == SweepReport()
        assert await sweeper.sweep(now=start + 601) == SweepReport(orphans_deleted=1)
        committed, uploads = store_state(app, target)
        assert orphan not in committed and unfinished in uploads and len(committed) == 3
        assert await sweeper.sweep(now=start + 3601) == SweepReport(uploads_aborted=1)
        assert store_state(app, target) == (committed, set())
        assert await c.get("docs", "keep.bin") == b"live object"
        assert await c.get("docs", "over.bin") == b"second version"


async def test_periodic_sweep_removes_what_a_stopped_server_left(
    start_centrum: StartCentrum,
    token_mint: TokenMint,
    backend: tuple[Settings, S3Target | None],
    tmp_path: Path,
) -> None:
    """Bytes replaced by a server that stopped within the grace period, an orphan and an
    abandoned upload are removed by the sweep the next server starts; its objects stay."""
    settings, target = backend
    data_dir = tmp_path / "shared"
    first = await start_centrum(
        data_dir=data_dir, **settings(replaced_blob_grace_s=600, sweep_interval_s=0)
    )
    async with channel(first) as ch:
        c = Client.of(ch, token_mint)
        await c.bucket("docs")
        await c.put("docs", "over.bin", b"first version")
        await c.put("docs", "over.bin", b"second version")
    await leave_orphan(first)
    await leave_unfinished_upload(first, target)
    assert len(store_state(first, target)[0]) == 3
    await first.stop(grace_s=0)

    second = await start_centrum(
        data_dir=data_dir,
        **settings(replaced_blob_grace_s=0, stale_upload_s=0, sweep_interval_s=0.1),
    )
    await eventually(
        lambda: (lambda s: len(s[0]) == 1 and not s[1])(store_state(second, target)),
        "the replaced bytes, the orphan and the upload swept",
    )
    async with channel(second) as ch:
        assert await Client.of(ch, token_mint).get("docs", "over.bin") == b"second version"
