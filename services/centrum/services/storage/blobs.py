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
import io
import os
import queue
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from centrum.interceptors.errors import DataLoss, Unavailable

__all__ = [
    "READ_CHUNK",
    "BlobStore",
    "BlobWriter",
    "FoundBlob",
    "LocalBlobStore",
    "S3BlobStore",
]

READ_CHUNK = 1024 * 1024
"""Bytes per read from a blob store."""
_READS_PER_HOP = 2
"""Chunks a download reads per hand-over to a worker thread (an S3 download's first hop reads
one, for the first byte's sake). Each hop wakes a worker and then the event loop, which under
load cost about as much CPU as sending a chunk's bytes on; two per hop took ~10% off the
server's CPU per GB downloaded from S3, ~5% from local files."""
_RETRY_S = 2.0
_T = TypeVar("_T")


@dataclass(frozen=True)
class FoundBlob:
    """A committed blob, or an unfinished upload of one, found by listing a store."""

    blob_id: str
    time: float
    """Unix seconds: when the blob was last written, or when the upload began."""
    location: str
    """Where the store keeps it: a file path, or an S3 bucket."""
    upload_id: str = ""
    """The S3 multipart upload of an unfinished upload."""


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

    async def writer(self, tenant: str, blob_id: str, size: int | None = None) -> BlobWriter:
        """Starts writing a new blob of `size` bytes (None: not known up front)."""
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

    def committed(self) -> AsyncIterator[FoundBlob]:
        """Every committed blob of every tenant (for the sweeper)."""
        ...

    def unfinished(self) -> AsyncIterator[FoundBlob]:
        """Every upload begun and neither committed nor aborted (for the sweeper)."""
        ...

    async def remove(self, found: FoundBlob) -> None:
        """Deletes a listed blob, or aborts a listed unfinished upload."""
        ...

    async def presign_get(
        self, tenant: str, blob_id: str, ttl_s: int, response_headers: dict[str, str]
    ) -> str | None:
        """A URL reading the stored bytes directly, or None when the store cannot presign."""
        ...


_TENANT_LABEL = re.compile(r"^[a-z0-9-]*$")


def _tenant_label(tenant: str) -> str:
    """A name of the tenant safe in paths and S3 bucket names, unique by a digest suffix."""
    readable = re.sub(r"[^a-z0-9]+", "-", tenant.lower()).strip("-")[:30] or "t"
    return f"{readable}-{hashlib.sha256(tenant.encode()).hexdigest()[:12]}"


_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")
_STAGING = re.compile(r"^([0-9a-f]{32})\.[0-9a-f]{8}$")


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
        self._resolved_root = root.resolve()
        (root / ".tmp").mkdir(exist_ok=True, mode=0o700)
        for stale in (root / ".tmp").iterdir():  # writers of a crashed process
            stale.unlink(missing_ok=True)

    def path_of(self, tenant: str, blob_id: str) -> Path:
        """The file holding a blob; always inside the root."""
        path = (self.root / _tenant_label(tenant) / blob_id[:2] / _check_blob_id(blob_id)).resolve()
        if not path.is_relative_to(self._resolved_root):
            raise ValueError("blob path escapes the store root")
        return path

    async def writer(self, tenant: str, blob_id: str, size: int | None = None) -> BlobWriter:
        """A writer to a temp file renamed into place on commit."""
        final = self.path_of(tenant, blob_id)
        temp = self.root / ".tmp" / f"{blob_id}.{secrets.token_hex(4)}"
        return _LocalWriter(temp, final)

    async def read(self, tenant: str, blob_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Streams bytes [start, end) of the blob's file (`_READS_PER_HOP` chunks per thread
        hop)."""
        try:
            handle = self.path_of(tenant, blob_id).open("rb")
        except FileNotFoundError as exc:
            raise DataLoss("the object's bytes are missing", reason="BLOB_MISSING") from exc
        with handle:
            handle.seek(start)
            position = start
            while position < end:
                chunks = await asyncio.to_thread(_read_file_chunks, handle.read, end - position)
                if not chunks:
                    raise DataLoss("the object's bytes are truncated", reason="BLOB_TRUNCATED")
                for data in chunks:
                    position += len(data)
                    yield data

    async def delete(self, tenant: str, blob_id: str) -> None:
        """Removes the blob's file."""
        self.path_of(tenant, blob_id).unlink(missing_ok=True)

    async def ping(self) -> bool:
        """Whether the root is a writable directory."""
        return self.root.is_dir() and os.access(self.root, os.W_OK)

    async def committed(self) -> AsyncIterator[FoundBlob]:
        """The blob files, one fan-out directory at a time."""
        tenants = await asyncio.to_thread(_subdirectories, self.root)
        for tenant in tenants:
            if tenant.name == ".tmp":
                continue
            for fanout in await asyncio.to_thread(_subdirectories, tenant):
                for found in await asyncio.to_thread(_files, fanout, _BLOB_ID):
                    yield found

    async def unfinished(self) -> AsyncIterator[FoundBlob]:
        """The temp files of writers (time: their last write)."""
        for found in await asyncio.to_thread(_files, self.root / ".tmp", _STAGING):
            yield found

    def _remove(self, location: str) -> None:
        path = Path(location).resolve()
        if not path.is_relative_to(self._resolved_root):
            raise ValueError("blob path escapes the store root")
        path.unlink(missing_ok=True)

    async def remove(self, found: FoundBlob) -> None:
        """Deletes the listed file (only ever one inside the root)."""
        await asyncio.to_thread(self._remove, found.location)

    async def presign_get(
        self, tenant: str, blob_id: str, ttl_s: int, response_headers: dict[str, str]
    ) -> str | None:
        """The filesystem cannot presign; the HTTP endpoint serves signed URLs instead."""
        return None


def _subdirectories(path: Path) -> list[Path]:
    with contextlib.suppress(FileNotFoundError), os.scandir(path) as entries:
        return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    return []


def _files(path: Path, name: re.Pattern[str]) -> list[FoundBlob]:
    """Regular files in `path` whose names match `name` (group 1, if any, is the blob id)."""
    found = []
    with contextlib.suppress(FileNotFoundError), os.scandir(path) as entries:
        for entry in entries:
            match = name.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                found.append(
                    FoundBlob(
                        blob_id=match.group(match.lastindex or 0),
                        time=entry.stat(follow_symlinks=False).st_mtime,
                        location=entry.path,
                    )
                )
    return found


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
        # Chunks of the part being filled, joined once when it is sent.
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._upload_id: str | None = None
        self._parts: dict[int, str] = {}
        self._next_part = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(store.concurrency)

    async def _upload_part(self, number: int, body: bytearray) -> None:
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
        body = self._take_buffer()
        self._next_part += 1
        number = self._next_part
        self._tasks.add(asyncio.create_task(self._upload_part(number, body)))

    def _take_buffer(self) -> bytearray:
        # Not bytes: botocore would copy a bytes body once more to send it with the headers.
        body = bytearray().join(self._buffer)
        self._buffer, self._buffered = [], 0
        return body

    async def write(self, data: bytes) -> None:
        if not data:
            return
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= self._store.part_size:
            await self._flush_part()

    async def commit(self) -> None:
        if self._upload_id is None:
            await self._store.ensure_bucket(self._bucket)
            body = self._take_buffer()
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
        self._buffer, self._buffered = [], 0
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:
            with contextlib.suppress(Exception):
                await _s3(
                    self._client.abort_multipart_upload,
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=upload_id,
                )


class _PipeBody(io.RawIOBase):
    """The body of a streamed PUT: chunks handed over by the event loop, read by boto3's thread.

    At most `depth` chunks wait in the pipe; `feed` waits for room, so a slow store slows the
    upload down instead of filling memory. A read waits at most `idle_s` for the next chunk (S3
    drops idle uploads too), so boto3's thread never outlives a writer that went away.
    """

    def __init__(self, depth: int, idle_s: float) -> None:
        super().__init__()
        self._idle_s = idle_s
        self._chunks: queue.SimpleQueue[bytes | BaseException | None] = queue.SimpleQueue()
        self._room = asyncio.Semaphore(depth)
        self._loop = asyncio.get_running_loop()
        self._current = memoryview(b"")
        self._ended = False
        self._closed = False

    async def feed(self, data: bytes) -> None:
        """Hands a chunk over once there is room; drops it when the reader has gone."""
        if self._closed:
            return
        await self._room.acquire()
        if not self._closed:
            self._chunks.put(data)

    def close(self) -> None:
        """The reader has gone (the PUT ended): wakes a writer waiting for room."""
        self._closed = True
        self._room.release()

    def end(self, error: BaseException | None = None) -> None:
        """No more chunks: the body ends, or fails with `error` (which aborts the PUT)."""
        self._chunks.put(error)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if not self._current:
            if self._ended:
                return b""
            try:
                item: bytes | BaseException | None = self._chunks.get(timeout=self._idle_s)
            except queue.Empty:
                item = TimeoutError(f"the upload sent nothing for {self._idle_s:g} s")
            if isinstance(item, BaseException):
                self._ended = True
                raise item
            if item is None:
                self._ended = True
                return b""
            self._current = memoryview(item)
            self._loop.call_soon_threadsafe(self._room.release)
        if size is None or size < 0:
            size = len(self._current)
        piece, self._current = self._current[:size], self._current[size:]
        return bytes(piece)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _S3StreamWriter:
    """One PUT of a blob whose stored size is known, its body streamed as it is written."""

    def __init__(self, store: S3BlobStore, bucket: str, key: str, size: int) -> None:
        self._store = store
        self._bucket = bucket
        self._key = key
        self._size = size
        self._body: _PipeBody | None = None
        self._put: asyncio.Task[Any] | None = None

    async def _start(self) -> _PipeBody:
        await self._store.ensure_bucket(self._bucket)
        body = self._body = _PipeBody(depth=4, idle_s=self._store.read_timeout_s)
        extra = {"ChecksumAlgorithm": "CRC32"} if self._store.stream_checksum else {}
        self._put = asyncio.create_task(
            _s3(
                self._store.stream_client.put_object,
                Bucket=self._bucket,
                Key=self._key,
                Body=body,
                ContentLength=self._size,
                **extra,
            )
        )
        self._put.add_done_callback(lambda _: body.close())
        return body

    async def write(self, data: bytes) -> None:
        if not data:
            return
        body = self._body or await self._start()
        assert self._put is not None
        await body.feed(data)
        if self._put.done():
            self._put.result()  # the PUT failed: fail the upload now
            raise _unavailable(ConnectionError("the object store ended the upload early"))

    async def commit(self) -> None:
        body = self._body or await self._start()
        assert self._put is not None
        body.end()
        await self._put

    async def abort(self) -> None:
        if self._body is None or self._put is None:
            return
        self._body.end(ConnectionAbortedError("the upload was aborted"))
        with contextlib.suppress(BaseException):
            await self._put


class S3BlobStore:
    """Blobs in S3: one S3 bucket per tenant (`<prefix><tenant label>`), keyed by blob id.

    A blob of known size below `multipart_threshold` goes up as one PUT streamed from the
    upload, holding a few chunks at a time: no parts to buffer, and no reassembly by the store
    when it completes. Larger blobs, and those of unknown size, go up as multipart uploads of
    `part_size` bytes, `concurrency` parts at a time, so memory per upload stays near
    part_size * (concurrency + 1).

    Payloads are not SHA-256 signed (a second hash pass over every byte); integrity rests on
    CRC32 checksums, sent in a trailer on streamed PUTs over HTTPS, and on the SHA-256 the
    upload path verifies itself. Streamed PUTs over plain HTTP carry no checksum.
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
        multipart_threshold: int = 5 * 1024**3,
    ) -> None:
        def client(checksums: str) -> Any:
            return boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=Config(
                    s3={"addressing_style": "path", "payload_signing_enabled": False},
                    connect_timeout=connect_timeout_s,
                    read_timeout=read_timeout_s,
                    retries={"max_attempts": 2, "mode": "standard"},
                    max_pool_connections=max(10, 2 * concurrency + 4),
                    request_checksum_calculation=checksums,
                ),
            )

        self.client: Any = client("when_supported")
        # A checksum in a header needs the whole body first; streamed PUTs ask for a trailer.
        self.stream_client: Any = client("when_required")
        self.stream_checksum = (endpoint_url or "https:").startswith("https:")
        self.prefix = bucket_prefix
        self.part_size = part_size
        self.concurrency = concurrency
        self.multipart_threshold = multipart_threshold
        self.read_timeout_s = read_timeout_s
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

    async def writer(self, tenant: str, blob_id: str, size: int | None = None) -> BlobWriter:
        """A writer of a new S3 object: one streaming PUT when the size is known and below the
        multipart threshold, else a multipart upload (a buffered PUT when it stays small)."""
        bucket, key = self.bucket_of(tenant), _check_blob_id(blob_id)
        if size is not None and self.part_size <= size < self.multipart_threshold:
            return _S3StreamWriter(self, bucket, key, size)
        return _S3Writer(self, bucket, key)

    async def read(self, tenant: str, blob_id: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Streams bytes [start, end) with one ranged GET, reading ahead in a worker thread
        (`_READS_PER_HOP` chunks per hop)."""
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
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        count = 1
        pending: asyncio.Future[_Reads] | None = loop.run_in_executor(
            None, _read_chunks, body.read, count, stop
        )
        try:
            while pending is not None:
                chunks, error = await pending
                pending = None
                if error is None and len(chunks) == count:  # else the body ended, or failed
                    count = _READS_PER_HOP
                    pending = loop.run_in_executor(None, _read_chunks, body.read, count, stop)
                for data in chunks:
                    yield data
                if error is not None:
                    raise _unavailable(error) from error
        finally:
            stop.set()
            if pending is not None:
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

    async def _own_buckets(self) -> list[str]:
        """The S3 buckets this store names: the prefix, then a tenant label."""
        response = await _s3(self.client.list_buckets)
        return [
            b["Name"]
            for b in response.get("Buckets", [])
            if b["Name"].startswith(self.prefix)
            and _TENANT_LABEL.match(b["Name"].removeprefix(self.prefix))
        ]

    async def _pages(self, operation: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        paginator = self.client.get_paginator(operation)
        pages = iter(paginator.paginate(**kwargs))
        while True:
            page = await _s3(_next_page, pages=pages)
            if page is None:
                return
            yield page

    async def committed(self) -> AsyncIterator[FoundBlob]:
        """The objects named by blob ids in the tenants' buckets."""
        for bucket in await self._own_buckets():
            async for page in self._pages("list_objects_v2", Bucket=bucket):
                for item in page.get("Contents", []):
                    if _BLOB_ID.match(item["Key"]):
                        yield FoundBlob(item["Key"], item["LastModified"].timestamp(), bucket)

    async def unfinished(self) -> AsyncIterator[FoundBlob]:
        """The multipart uploads in progress in the tenants' buckets (time: their start)."""
        for bucket in await self._own_buckets():
            async for page in self._pages("list_multipart_uploads", Bucket=bucket):
                for item in page.get("Uploads", []):
                    if _BLOB_ID.match(item["Key"]):
                        yield FoundBlob(
                            item["Key"], item["Initiated"].timestamp(), bucket, item["UploadId"]
                        )

    async def remove(self, found: FoundBlob) -> None:
        """Deletes the listed object, or aborts the listed multipart upload."""
        key = _check_blob_id(found.blob_id)
        if found.upload_id:
            try:
                await _s3(
                    self.client.abort_multipart_upload,
                    Bucket=found.location,
                    Key=key,
                    UploadId=found.upload_id,
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
            return
        await _s3(self.client.delete_object, Bucket=found.location, Key=key)

    async def presign_get(
        self, tenant: str, blob_id: str, ttl_s: int, response_headers: dict[str, str]
    ) -> str | None:
        """An S3 presigned GET of the stored bytes."""
        params = {"Bucket": self.bucket_of(tenant), "Key": blob_id, **response_headers}
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl_s)
        return url


def _next_page(pages: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    return next(pages, None)


_Reads = tuple[list[bytes], Exception | None]


def _read_file_chunks(read: Callable[[int], bytes], size: int) -> list[bytes]:
    """Up to `_READS_PER_HOP` chunks of READ_CHUNK bytes of the next `size` (fewer, or none,
    where the file ends first)."""
    chunks: list[bytes] = []
    while size > 0 and len(chunks) < _READS_PER_HOP:
        data = read(min(READ_CHUNK, size))
        if not data:
            break
        chunks.append(data)
        size -= len(data)
    return chunks


def _read_chunks(read: Callable[[int], bytes], count: int, stop: threading.Event) -> _Reads:
    """Up to `count` chunks of READ_CHUNK bytes (fewer at the end of the body, or once `stop`
    is set), and the error that cut them short, if any."""
    chunks: list[bytes] = []
    try:
        while len(chunks) < count and not stop.is_set():
            data = read(READ_CHUNK)
            if not data:
                break
            chunks.append(data)
    except (BotoCoreError, OSError) as exc:
        return chunks, exc
    return chunks, None
