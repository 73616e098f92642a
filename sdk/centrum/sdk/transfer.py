"""Uploading and downloading objects as files or streams, with progress callbacks.

    from centrum.sdk.transfer import download_file, upload_file

    with sdk.connect(target, client_credentials=credentials) as client:
        stored = upload_file(client, "invoices", "2024/o-42.pdf", Path("o-42.pdf"),
                             progress=lambda done, total: print(f"{done}/{total}"))
        download_file(client, "invoices", "2024/o-42.pdf", Path("copy.pdf"))

Thin layers over StorageService.Upload and Download. An upload sends the header the server
expects first (bucket, key, content type, exact size and, for files, the SHA-256) and then the
content in chunks of `CHUNK_SIZE`; a source of unknown size is spooled to a temporary file first,
because the server checks the size before it stores a byte. A download to a file is written to a
temporary file beside the target and renamed onto it only once every byte arrived and its SHA-256
matches the object's, so a failed download never leaves a partial file nor touches an existing
one. `progress(bytes_done, bytes_total)` is called once at the start and after every chunk
(`bytes_total` is None when unknown); an exception it raises aborts the transfer. During a
synchronous upload it runs on gRPC's request thread, so it must be thread-safe.

Failed calls raise `centrum.sdk.CentrumError`; exceptions of the source, the file system or the
progress callback propagate as they are. The `*_async` twins take a `centrum.sdk.aio` client.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypedDict, Unpack, cast

import grpc

from centrum.sdk._inputs import invalid
from centrum.sdk.errors import CentrumError, FieldViolation, from_rpc_error
from centrum.storage.v1 import object_pb2
from centrum.storage.v1 import storage_service_pb2 as pb

if TYPE_CHECKING:
    from centrum.sdk._client import Client
    from centrum.sdk.aio import AsyncClient

__all__ = [
    "CHUNK_SIZE",
    "DownloadStream",
    "Progress",
    "UploadOptions",
    "download_file",
    "download_file_async",
    "download_stream",
    "upload_file",
    "upload_file_async",
    "upload_stream",
]

Progress = Callable[[int, int | None], None]
"""Called with (bytes transferred so far, total bytes or None when unknown)."""

CHUNK_SIZE = 1 << 20
"""Bytes per upload message: the server's recommended 1 MiB (it accepts at most 4 MiB)."""

_MAX_CHUNK_SIZE = 4 << 20
_SPOOL_IN_MEMORY = 8 << 20


class _Meter:
    """Counts transferred bytes and reports them to an optional progress callback."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self._progress = progress
        self.total = total
        self.done = 0
        if progress is not None:
            progress(0, total)

    def add(self, count: int) -> None:
        self.done += count
        if self._progress is not None:
            self._progress(self.done, self.total)


def _content_type(given: str | None, name: str) -> str:
    return given or mimetypes.guess_type(name)[0] or "application/octet-stream"


class UploadOptions(TypedDict, total=False):
    """Options of the upload helpers."""

    content_type: str | None
    """The media type; default: guessed from the file name or key, else
    application/octet-stream. The server checks it against the bytes."""
    metadata: Mapping[str, str] | None
    """User metadata stored with the object."""
    if_none_match: bool
    """Refuse (ALREADY_EXISTS) to replace an existing object."""
    progress: Progress | None
    """Called with (bytes sent, total)."""
    chunk_size: int
    """Bytes per message, at most 4 MiB; default `CHUNK_SIZE`."""


def _chunk_size(options: UploadOptions) -> int:
    chunk_size = options.get("chunk_size", CHUNK_SIZE)
    if not 0 < chunk_size <= _MAX_CHUNK_SIZE:
        raise invalid(
            [FieldViolation("chunk_size", f"must be between 1 and {_MAX_CHUNK_SIZE} bytes")]
        )
    return chunk_size


def _header(
    bucket: str, key: str, name: str, size: int, sha256: str | None, options: UploadOptions
) -> pb.UploadHeader:
    """The first message of an upload; `name` is what the content type is guessed from."""
    header = pb.UploadHeader(
        bucket=bucket,
        key=key,
        content_type=_content_type(options.get("content_type"), name),
        size_bytes=size,
        metadata=dict(options.get("metadata") or {}),
        if_none_match=options.get("if_none_match", False),
    )
    if sha256 is not None:
        header.sha256 = sha256
    return header


def _read_chunks(source: IO[bytes], chunk_size: int) -> Iterator[bytes]:
    while chunk := source.read(chunk_size):
        yield chunk


def _split(chunks: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    """The chunks of `chunks`, larger ones split so that none exceeds `chunk_size`."""
    for chunk in chunks:
        for start in range(0, len(chunk), chunk_size):
            yield bytes(chunk[start : start + chunk_size])


def _file_digest(path: Path) -> tuple[int, str]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        return handle.tell(), digest.hexdigest()


class _Feed:
    """Upload messages for gRPC, remembering an exception raised while producing them.

    gRPC turns such an exception into a cancelled call; the helper raises the original instead.
    """

    def __init__(self, header: pb.UploadHeader, chunks: Iterable[bytes], meter: _Meter) -> None:
        self._header = header
        self._chunks = chunks
        self._meter = meter
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pb.UploadRequest]:
        try:
            yield pb.UploadRequest(header=self._header)
            for chunk in self._chunks:
                yield pb.UploadRequest(chunk=chunk)
                self._meter.add(len(chunk))
        except BaseException as exc:
            self.error = exc
            # gRPC cancels the call on an Exception only; anything else would end its thread
            # and leave the call hanging.
            raise _SourceFailed("the upload's source or progress callback failed") from exc


class _SourceFailed(Exception):
    """Stands in, inside gRPC's request thread, for what the upload's source raised."""


def _send(client: Client, feed: _Feed) -> object_pb2.Object:
    try:
        response: pb.UploadResponse = client.storage.Upload(iter(feed))
    except grpc.RpcError as exc:
        if feed.error is not None:
            raise feed.error from None
        raise from_rpc_error(exc) from None
    return response.object


def upload_file(
    client: Client,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    **options: Unpack[UploadOptions],
) -> object_pb2.Object:
    """Uploads the file at `path` as `bucket`/`key`; returns the stored object's metadata.

    Options as in `UploadOptions`; the content type is guessed from the file name. The SHA-256
    is computed first and checked by the server, so a file that changes while it is sent is
    refused rather than stored. Needs the `storage.write` scope.
    """
    chunk_size = _chunk_size(options)
    source = Path(path)
    size, sha256 = _file_digest(source)
    header = _header(bucket, key, source.name, size, sha256, options)
    meter = _Meter(options.get("progress"), size)
    with source.open("rb") as handle:
        return _send(client, _Feed(header, _read_chunks(handle, chunk_size), meter))


def upload_stream(
    client: Client,
    bucket: str,
    key: str,
    source: BinaryIO | IO[bytes] | Iterable[bytes],
    *,
    size: int | None = None,
    sha256: str | None = None,
    **options: Unpack[UploadOptions],
) -> object_pb2.Object:
    """Uploads what `source` yields (a binary file object or an iterable of byte chunks).

    `size` is the exact number of bytes the source will produce; without it a seekable file is
    measured, and any other source is first spooled to a temporary file (in memory up to 8 MiB),
    which also supplies the SHA-256. Options as in `UploadOptions`; the content type is guessed
    from `key`.
    """
    chunk_size = _chunk_size(options)
    if size is not None and size < 0:
        raise invalid([FieldViolation("size", "must not be negative")])
    if isinstance(source, bytes | bytearray | memoryview):
        raise invalid(
            [FieldViolation("source", "wrap bytes in io.BytesIO (or pass an iterable of chunks)")]
        )
    if size is None and _seekable(source):
        handle: Any = source
        start = handle.tell()
        size = handle.seek(0, os.SEEK_END) - start
        handle.seek(start)
    chunks = _chunks_of(source, chunk_size)
    if size is not None:
        header = _header(bucket, key, key, size, sha256, options)
        return _send(client, _Feed(header, chunks, _Meter(options.get("progress"), size)))
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as spool:
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
            spool.write(chunk)
        spooled = spool.tell()
        spool.seek(0)
        header = _header(bucket, key, key, spooled, sha256 or digest.hexdigest(), options)
        meter = _Meter(options.get("progress"), spooled)
        return _send(client, _Feed(header, _read_chunks(spool, chunk_size), meter))


def _chunks_of(source: BinaryIO | IO[bytes] | Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    if _readable(source):
        return _read_chunks(cast(IO[bytes], source), chunk_size)
    return _split(source, chunk_size)


def _readable(source: object) -> bool:
    return callable(getattr(source, "read", None))


def _seekable(source: object) -> bool:
    seekable = getattr(source, "seekable", None)
    return _readable(source) and callable(seekable) and bool(seekable())


def _requested_size(obj: object_pb2.Object, offset: int, length: int) -> int:
    remaining = max(0, obj.size_bytes - offset)
    return min(length, remaining) if length else remaining


def _download_request(
    bucket: str, key: str, offset: int, length: int, if_match: str | None
) -> pb.DownloadRequest:
    if offset < 0 or length < 0:
        field = "offset" if offset < 0 else "length"
        raise invalid([FieldViolation(field, "must not be negative")])
    request = pb.DownloadRequest(bucket=bucket, key=key)
    if offset or length:
        request.range.offset, request.range.length = offset, length
    if if_match is not None:
        request.if_match = if_match
    return request


class DownloadStream(Iterator[bytes]):
    """The content of one object as an iterator of byte chunks, its metadata in `object`.

    Created by `download_stream`, which has already received the metadata (so a missing object
    raises there); iterate it for the bytes, and close it (or use `with`) to stop early.
    """

    def __init__(self, responses: Any, progress: Progress | None, offset: int, length: int):
        self._responses = responses
        first = self._receive()
        if first is None or first.WhichOneof("payload") != "object":
            raise CentrumError(
                status=grpc.StatusCode.DATA_LOSS,
                message="the download did not start with the object's metadata",
            )
        self.object: object_pb2.Object = first.object
        """The metadata of the object being downloaded."""
        self._meter = _Meter(progress, _requested_size(self.object, offset, length))

    def _receive(self) -> pb.DownloadResponse | None:
        try:
            message: pb.DownloadResponse = next(self._responses)
        except StopIteration:
            return None
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from None
        return message

    def __next__(self) -> bytes:
        message = self._receive()
        if message is None:
            raise StopIteration
        chunk = message.chunk  # each read of a bytes field copies it
        self._meter.add(len(chunk))
        return chunk

    def close(self) -> None:
        """Stops the download (cancels the call) if it is still running."""
        cancel = getattr(self._responses, "cancel", None)
        if callable(cancel):
            cancel()

    def __enter__(self) -> DownloadStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def download_stream(
    client: Client,
    bucket: str,
    key: str,
    *,
    offset: int = 0,
    length: int = 0,
    if_match: str | None = None,
    progress: Progress | None = None,
) -> DownloadStream:
    """Starts downloading `bucket`/`key` (or `length` bytes from `offset`; 0 means to the end).

    Returns once the object's metadata arrived; `if_match` fails the call unless the object's
    etag equals it. Needs the `storage.read` scope.
    """
    request = _download_request(bucket, key, offset, length, if_match)
    return DownloadStream(client.storage.Download(request), progress, offset, length)


class _Staged:
    """A temporary file beside `target`, renamed onto it by `commit`, else removed."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by commit/discard
            dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
        )
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self.digest.update(chunk)

    def commit(self, expected_sha256: str) -> None:
        if expected_sha256 and self.digest.hexdigest() != expected_sha256:
            raise CentrumError(
                status=grpc.StatusCode.DATA_LOSS,
                message=f"the downloaded bytes of {self.target.name} do not match the "
                "object's SHA-256",
                reason="CHECKSUM_MISMATCH",
            )
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._handle.name, self.target)

    def discard(self) -> None:
        self._handle.close()
        Path(self._handle.name).unlink(missing_ok=True)


def download_file(
    client: Client,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    *,
    if_match: str | None = None,
    progress: Progress | None = None,
) -> object_pb2.Object:
    """Downloads `bucket`/`key` into the file at `path`; returns the object's metadata.

    The file appears (created 0600, or replacing the old one atomically) only when the whole
    object arrived and matched its SHA-256; on any failure nothing is left behind.
    """
    target = Path(path)
    with download_stream(client, bucket, key, if_match=if_match, progress=progress) as stream:
        staged = _Staged(target)
        try:
            for chunk in stream:
                staged.write(chunk)
            staged.commit(stream.object.sha256)
        except BaseException:
            staged.discard()
            raise
        return stream.object


async def upload_file_async(
    client: AsyncClient,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    **options: Unpack[UploadOptions],
) -> object_pb2.Object:
    """`upload_file` for a `centrum.sdk.aio.AsyncClient` (file reads run in a thread)."""
    chunk_size = _chunk_size(options)
    source = Path(path)
    size, sha256 = await asyncio.to_thread(_file_digest, source)
    header = _header(bucket, key, source.name, size, sha256, options)
    meter = _Meter(options.get("progress"), size)
    failure: list[BaseException] = []

    async def requests() -> AsyncIterator[pb.UploadRequest]:
        try:
            yield pb.UploadRequest(header=header)
            handle = await asyncio.to_thread(source.open, "rb")
            try:
                while chunk := await asyncio.to_thread(handle.read, chunk_size):
                    yield pb.UploadRequest(chunk=chunk)
                    meter.add(len(chunk))
            finally:
                handle.close()
        except BaseException as exc:
            failure.append(exc)
            raise

    try:
        response: pb.UploadResponse = await client.storage.Upload(requests())
    except BaseException as exc:
        # grpc.aio ends a call whose request iterator raised as cancelled: raise the cause.
        if failure:
            raise failure[0] from None
        if isinstance(exc, grpc.RpcError):
            raise from_rpc_error(exc) from None
        raise
    return response.object


async def download_file_async(
    client: AsyncClient,
    bucket: str,
    key: str,
    path: str | os.PathLike[str],
    *,
    if_match: str | None = None,
    progress: Progress | None = None,
) -> object_pb2.Object:
    """`download_file` for a `centrum.sdk.aio.AsyncClient` (file writes run in a thread)."""
    target = Path(path)
    call = client.storage.Download(_download_request(bucket, key, 0, 0, if_match))
    staged: _Staged | None = None
    meter: _Meter | None = None
    obj: object_pb2.Object | None = None
    try:
        async for message in call:
            if obj is None:
                if message.WhichOneof("payload") != "object":
                    raise CentrumError(
                        status=grpc.StatusCode.DATA_LOSS,
                        message="the download did not start with the object's metadata",
                    )
                obj = message.object
                meter = _Meter(progress, obj.size_bytes)
                staged = await asyncio.to_thread(_Staged, target)
                continue
            assert staged is not None and meter is not None
            chunk = message.chunk  # each read of a bytes field copies it
            await asyncio.to_thread(staged.write, chunk)
            meter.add(len(chunk))
        if obj is None or staged is None:
            raise CentrumError(
                status=grpc.StatusCode.DATA_LOSS, message="the download ended without metadata"
            )
        await asyncio.to_thread(staged.commit, obj.sha256)
    except grpc.RpcError as exc:
        if staged is not None:
            await asyncio.to_thread(staged.discard)
        raise from_rpc_error(exc) from None
    except BaseException:
        if staged is not None:
            await asyncio.to_thread(staged.discard)
        call.cancel()
        raise
    return obj
