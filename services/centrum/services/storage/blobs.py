"""Where object bytes live: the BlobStore interface, the local filesystem and S3.

Bytes are stored under a server-generated blob id, never under the caller's key, so no key can
name a path outside the store; the object's key lives in the database and points at its blob. A
blob becomes durable only on commit (local: temp file, fsync, atomic rename; S3: the multipart
upload completes), and an aborted writer leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from centrum.interceptors.errors import DataLoss, Unavailable

__all__ = ["READ_CHUNK", "BlobStore", "BlobWriter", "LocalBlobStore", "S3BlobStore"]

READ_CHUNK = 1024 * 1024
"""Bytes per read from a blob store."""
_RETRY_S = 2.0
_T = TypeVar("_T")


class BlobWriter(Protocol):
    """Writes one new blob; nothing is visible until commit, and abort leaves nothing."""

    async def write(self, data: bytes) -> None:
        """Appends bytes."""
        ...

    async def commit(self) -> None:
        """Makes the blob durable under its id."""
        ...

    async def abort(self) -> None:
        """Discards everything written; safe to call more than once and after commit fails."""
        ...


class BlobStore(Protocol):
    """Stores immutable blobs by tenant and blob id."""

    async def writer(self, tenant: str, blob_id: str) -> BlobWriter:
        """Starts writing a new blob."""
        ...

    def read(self, tenant: str, blob_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Streams bytes [start, end) of a blob."""
        ...

    async def delete(self, tenant: str, blob_id: str) -> None:
        """Deletes a blob; a missing blob is not an error."""
        ...

    async def ping(self) -> bool:
        """Whether the store is reachable now."""
        ...

    async def presign_get(
        self, tenant: str, blob_id: str, ttl_s: int, response_headers: dict[str, str]
    ) -> str | None:
        """A URL reading the stored bytes directly, or None when the store cannot presign."""
        ...


def _tenant_label(tenant: str) -> str:
    """A name of the tenant safe in paths and S3 bucket names, unique by a digest suffix."""
    readable = re.sub(r"[^a-z0-9]+", "-", tenant.lower()).strip("-")[:30] or "t"
    return f"{readable}-{hashlib.sha256(tenant.encode()).hexdigest()[:12]}"


_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


def _check_blob_id(blob_id: str) -> str:
    if not _BLOB_ID.match(blob_id):
        raise ValueError("blob ids are 32 lower-case hex digits")
    return blob_id


class _LocalWriter:
    def __init__(self, temp: Path, final: Path) -> None:
        self._temp = temp
        self._final = final
        self._fd: int | None = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def _write_all(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    async def write(self, data: bytes) -> None:
        if data:
            await asyncio.to_thread(self._write_all, data)

    def _commit(self) -> None:
        assert self._fd is not None
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        self._final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.rename(self._temp, self._final)
        directory = os.open(self._final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def commit(self) -> None:
        await asyncio.to_thread(self._commit)

    async def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._temp.unlink(missing_ok=True)


class LocalBlobStore:
    """Blobs as files under a root directory: `<root>/<tenant label>/<id[:2]>/<id>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        (root / ".tmp").mkdir(exist_ok=True, mode=0o700)
        for stale in (root / ".tmp").iterdir():  # writers of a crashed process
            stale.unlink(missing_ok=True)

    def path_of(self, tenant: str, blob_id: str) -> Path:
        """The file holding a blob; always inside the root."""
        path = (self.root / _tenant_label(tenant) / blob_id[:2] / _check_blob_id(blob_id)).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("blob path escapes the store root")
        return path

    async def writer(self, tenant: str, blob_id: str) -> BlobWriter:
        """A writer to a temp file renamed into place on commit."""
        final = self.path_of(tenant, blob_id)
        temp = self.root / ".tmp" / f"{blob_id}.{secrets.token_hex(4)}"
        return _LocalWriter(temp, final)

    async def read(self, tenant: str, blob_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Streams bytes [start, end) of the blob's file."""
        try:
            handle = self.path_of(tenant, blob_id).open("rb")
        except FileNotFoundError as exc:
            raise DataLoss("the object's bytes are missing", reason="BLOB_MISSING") from exc
        with handle:
            handle.seek(start)
            position = start
            while position < end:
                data = await asyncio.to_thread(handle.read, min(READ_CHUNK, end - position))
                if not data:
                    raise DataLoss("the object's bytes are truncated", reason="BLOB_TRUNCATED")
                position += len(data)
                yield data

    async def delete(self, tenant: str, blob_id: str) -> None:
        """Removes the blob's file."""
        self.path_of(tenant, blob_id).unlink(missing_ok=True)

    async def ping(self) -> bool:
        """Whether the root is a writable directory."""
        return self.root.is_dir() and os.access(self.root, os.W_OK)

    async def presign_get(
        self, tenant: str, blob_id: str, ttl_s: int, response_headers: dict[str, str]
    ) -> str | None:
        """The filesystem cannot presign; the HTTP endpoint serves signed URLs instead."""
        return None


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(
        f"the object store (S3) is unavailable: {exc.__class__.__name__}",
        reason="OBJECT_STORE_UNAVAILABLE",
        retry_after_s=_RETRY_S,
    )


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchBucket")


async def _s3(fn: Callable[..., _T], **kwargs: Any) -> _T:
    """Runs one blocking boto3 call in a thread, mapping an unreachable store to UNAVAILABLE."""
    try:
        return await asyncio.to_thread(fn, **kwargs)
    except BotoCoreError as exc:
        raise _unavailable(exc) from exc
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            raise _unavailable(exc) from exc
        raise


class _S3Writer:
    def __init__(self, store: S3BlobStore, bucket: str, key: str) -> None:
        self._store = store
        self._client = store.client
        self._bucket = bucket
        self._key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: dict[int, str] = {}
        self._next_part = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(store.concurrency)

    async def _upload_part(self, number: int, body: bytes) -> None:
        try:
            response = await _s3(
                self._client.upload_part,
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=body,
            )
            self._parts[number] = response["ETag"]
        finally:
            self._slots.release()

    async def _flush_part(self) -> None:
        if self._upload_id is None:
            await self._store.ensure_bucket(self._bucket)
            response = await _s3(
                self._client.create_multipart_upload, Bucket=self._bucket, Key=self._key
            )
            self._upload_id = response["UploadId"]
        for task in [t for t in self._tasks if t.done()]:
            self._tasks.discard(task)
            task.result()  # a failed part fails the upload now
        await self._slots.acquire()
        body, self._buffer = bytes(self._buffer), bytearray()
        self._next_part += 1
        number = self._next_part
        self._tasks.add(asyncio.create_task(self._upload_part(number, body)))

    async def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= self._store.part_size:
            await self._flush_part()

    async def commit(self) -> None:
        if self._upload_id is None:
            await self._store.ensure_bucket(self._bucket)
            body, self._buffer = bytes(self._buffer), bytearray()
            await _s3(self._client.put_object, Bucket=self._bucket, Key=self._key, Body=body)
            return
        if self._buffer:
            await self._flush_part()
        await asyncio.gather(*self._tasks)
        self._tasks.clear()
        await _s3(
            self._client.complete_multipart_upload,
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={
                "Parts": [
                    {"ETag": etag, "PartNumber": n} for n, etag in sorted(self._parts.items())
                ]
            },
        )
        self._upload_id = None

    async def abort(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._buffer = bytearray()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            with contextlib.suppress(Exception):
                await _s3(
                    self._client.abort_multipart_upload,
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=upload_id,
                )


class S3BlobStore:
    """Blobs in S3: one S3 bucket per tenant (`<prefix><tenant label>`), keyed by blob id.

    Large blobs go up as multipart uploads of `part_size` bytes, `concurrency` parts at a time,
    so memory per upload stays near part_size * (concurrency + 1).
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        bucket_prefix: str,
        part_size: int,
        concurrency: int,
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> None:
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=connect_timeout_s,
                read_timeout=read_timeout_s,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=max(10, 2 * concurrency + 4),
            ),
        )
        self.prefix = bucket_prefix
        self.part_size = part_size
        self.concurrency = concurrency
        self._buckets: set[str] = set()
        self._bucket_lock = asyncio.Lock()

    def bucket_of(self, tenant: str) -> str:
        """The S3 bucket holding a tenant's blobs."""
        return (self.prefix + _tenant_label(tenant))[:63].rstrip("-")

    async def ensure_bucket(self, bucket: str) -> None:
        """Creates the tenant's S3 bucket on first use."""
        if bucket in self._buckets:
            return
        async with self._bucket_lock:
            if bucket in self._buckets:
                return
            try:
                await _s3(self.client.create_bucket, Bucket=bucket)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
            self._buckets.add(bucket)

    async def writer(self, tenant: str, blob_id: str) -> BlobWriter:
        """A multipart (or single PUT, when small) writer of a new S3 object."""
        return _S3Writer(self, self.bucket_of(tenant), _check_blob_id(blob_id))

    async def read(self, tenant: str, blob_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Streams bytes [start, end) with one ranged GET, reading one chunk ahead."""
        if start >= end:
            return
        try:
            response = await _s3(
                self.client.get_object,
                Bucket=self.bucket_of(tenant),
                Key=_check_blob_id(blob_id),
                Range=f"bytes={start}-{end - 1}",
            )
        except ClientError as exc:
            if _is_missing(exc):
                raise DataLoss("the object's bytes are missing", reason="BLOB_MISSING") from exc
            raise
        body = response["Body"]
        try:
            pending: asyncio.Future[bytes] = asyncio.ensure_future(
                _read_body(body.read, READ_CHUNK)
            )
            while True:
                data = await pending
                if not data:
                    return
                pending = asyncio.ensure_future(_read_body(body.read, READ_CHUNK))
                yield data
        finally:
            if not pending.done():
                pending.cancel()
            body.close()

    async def delete(self, tenant: str, blob_id: str) -> None:
        """Deletes the S3 object (S3 deletes are idempotent)."""
        await _s3(self.client.delete_object, Bucket=self.bucket_of(tenant), Key=blob_id)

    async def ping(self) -> bool:
        """Whether S3 answers a bucket listing."""
        try:
            await _s3(self.client.list_buckets)
        except Exception:
            return False
        return True

    async def presign_get(
        self, tenant: str, blob_id: str, ttl_s: int, response_headers: dict[str, str]
    ) -> str | None:
        """An S3 presigned GET of the stored bytes."""
        params = {"Bucket": self.bucket_of(tenant), "Key": blob_id, **response_headers}
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl_s)
        return url


async def _read_body(read: Callable[[int], bytes], size: int) -> bytes:
    try:
        return await asyncio.to_thread(read, size)
    except (BotoCoreError, OSError) as exc:
        raise _unavailable(exc) from exc
