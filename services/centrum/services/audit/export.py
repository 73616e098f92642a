"""Where an export's bytes go: streamed back, a file on the server, or an S3 object.

Every sink gzips when asked and makes its output appear all at once: a file is written under a
temporary name and renamed into place, an S3 object is a single PUT or a multipart upload that
is completed only at the end (and aborted on failure), so a reader never sees half an export.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from centrum.interceptors.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Unavailable,
)

__all__ = ["ExportSink", "FileSink", "S3Exporter", "S3Settings", "S3Sink", "StreamSink"]

_T = TypeVar("_T")
_PART_BYTES = 8 * 1024 * 1024
"""Bytes per multipart part (S3's minimum is 5 MiB for every part but the last)."""
_RETRY_S = 2.0


class ExportSink:
    """Output of an export; the base streams back (writes nowhere) and gzips if asked."""

    uri = ""

    def __init__(self, compress: bool) -> None:
        """`compress` gzips everything written."""
        self._compressor = zlib.compressobj(wbits=31) if compress else None

    async def write(self, data: bytes) -> bytes:
        """Takes output bytes; returns the bytes produced (compressed when gzip is on)."""
        produced = self._compressor.compress(data) if self._compressor is not None else data
        if produced:
            await self._store(produced)
        return produced

    async def finish(self) -> bytes:
        """Flushes the compressor; returns its last bytes."""
        produced = self._compressor.flush() if self._compressor is not None else b""
        if produced:
            await self._store(produced)
        return produced

    async def commit(self) -> None:
        """Makes the whole output visible at its destination."""

    async def abort(self) -> None:
        """Removes whatever a failed export left behind (nothing once committed)."""

    async def _store(self, produced: bytes) -> None:
        """Keeps produced bytes at the destination."""


class StreamSink(ExportSink):
    """The export is streamed back to the caller; nothing is kept on the server."""


class FileSink(ExportSink):
    """A file under the export directory, written to a temporary name and renamed at the end."""

    def __init__(self, target: Path, compress: bool) -> None:
        """Opens the temporary file next to `target`."""
        super().__init__(compress)
        self._target = target
        self.uri = target.as_uri()
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._temporary: Path | None = target.with_name(f".{target.name}.{os.getpid()}.partial")
        self._handle: Any = self._temporary.open("wb")

    async def _store(self, produced: bytes) -> None:
        self._handle.write(produced)

    async def commit(self) -> None:
        """Makes the written file durable and moves it into place."""
        if self._handle is not None and self._temporary is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
            os.replace(self._temporary, self._target)
            self._temporary = None

    async def abort(self) -> None:
        """Removes a partial file left by a failed export."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None


@dataclass(frozen=True)
class S3Settings:
    """Endpoint and credentials of the S3 (or S3-compatible) store exports may be written to."""

    endpoint_url: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 30.0


def _unavailable(exc: Exception) -> Unavailable:
    return Unavailable(
        f"the export destination (S3) is unavailable: {exc.__class__.__name__}; retry later",
        reason="EXPORT_STORE_UNAVAILABLE",
        retry_after_s=_RETRY_S,
    )


class S3Exporter:
    """Opens S3 sinks through one boto3 client (made on first use, calls run in threads)."""

    def __init__(self, settings: S3Settings | None) -> None:
        """`settings` None means the server has no S3 configured: S3 exports are refused."""
        self._settings = settings
        self._client: Any = None

    def _s3(self) -> Any:
        if self._client is None:
            settings = self._settings
            if settings is None:
                raise FailedPrecondition(
                    "this server has no S3 store configured; export to a file or stream it",
                    reason="EXPORT_S3_NOT_CONFIGURED",
                )
            self._client = boto3.client(
                "s3",
                endpoint_url=settings.endpoint_url,
                region_name=settings.region,
                aws_access_key_id=settings.access_key_id,
                aws_secret_access_key=settings.secret_access_key,
                config=Config(
                    s3={"addressing_style": "path"},
                    connect_timeout=settings.connect_timeout_s,
                    read_timeout=settings.read_timeout_s,
                    retries={"max_attempts": 2, "mode": "standard"},
                ),
            )
        return self._client

    async def call(self, name: str, bucket: str, *, absent_ok: bool = False, **kwargs: Any) -> Any:
        """Runs one blocking S3 call in a thread, mapping its failures to gRPC errors.

        With `absent_ok`, a 404 answer (no such object) returns None.
        """
        method: Callable[..., Any] = getattr(self._s3(), name)
        try:
            return await asyncio.to_thread(method, Bucket=bucket, **kwargs)
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code == "NoSuchBucket" or (status == 404 and name == "head_bucket"):
                raise NotFound(
                    f"S3 bucket {bucket!r} does not exist",
                    reason="EXPORT_BUCKET_NOT_FOUND",
                    resource=("s3_bucket", bucket),
                ) from exc
            if status == 404 and absent_ok:
                return None
            if status in (401, 403):
                raise PermissionDenied(
                    f"the server's S3 credentials may not write to bucket {bucket!r}",
                    reason="EXPORT_S3_FORBIDDEN",
                ) from exc
            if status >= 500 or status in (408, 429):
                raise _unavailable(exc) from exc
            raise FailedPrecondition(
                f"S3 refused the export: {code or status}", reason="EXPORT_S3_REFUSED"
            ) from exc

    async def open(self, bucket: str, key: str, *, overwrite: bool, compress: bool) -> S3Sink:
        """A sink for s3://bucket/key; an existing object is ALREADY_EXISTS unless `overwrite`.

        The checks also find an unreachable store or a missing bucket before any entry is read.
        """
        await self.call("head_bucket", bucket)
        if not overwrite and await self.call("head_object", bucket, absent_ok=True, Key=key):
            raise AlreadyExists(
                f"s3://{bucket}/{key} exists; set overwrite to replace it",
                reason="EXPORT_EXISTS",
                resource=("audit_export", f"s3://{bucket}/{key}"),
            )
        return S3Sink(self, bucket, key, compress)


class S3Sink(ExportSink):
    """An S3 object: one PUT when small, else a multipart upload completed only at the end."""

    def __init__(self, exporter: S3Exporter, bucket: str, key: str, compress: bool) -> None:
        """Nothing is uploaded until a part is full or the export commits."""
        super().__init__(compress)
        self._exporter = exporter
        self._bucket = bucket
        self._key = key
        self.uri = f"s3://{bucket}/{key}"
        self._content_type = "application/gzip" if compress else "application/x-ndjson"
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    async def _store(self, produced: bytes) -> None:
        self._buffer += produced
        if len(self._buffer) >= _PART_BYTES:
            await self._upload_part()

    async def _upload_part(self) -> None:
        if self._upload_id is None:
            created = await self._exporter.call(
                "create_multipart_upload",
                self._bucket,
                Key=self._key,
                ContentType=self._content_type,
            )
            self._upload_id = str(created["UploadId"])
        number = len(self._parts) + 1
        body = bytes(self._buffer)
        self._buffer.clear()
        uploaded = await self._exporter.call(
            "upload_part",
            self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"PartNumber": number, "ETag": uploaded["ETag"]})

    async def commit(self) -> None:
        """Uploads what is left and makes the object appear."""
        if self._upload_id is None:
            await self._exporter.call(
                "put_object",
                self._bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                ContentType=self._content_type,
            )
            self._buffer.clear()
            return
        if self._buffer:
            await self._upload_part()
        await self._exporter.call(
            "complete_multipart_upload",
            self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._upload_id = None

    async def abort(self) -> None:
        """Aborts an unfinished multipart upload so no parts are left behind."""
        upload_id, self._upload_id = self._upload_id, None
        self._buffer.clear()
        if upload_id is not None:
            try:
                await self._exporter.call(
                    "abort_multipart_upload", self._bucket, Key=self._key, UploadId=upload_id
                )
            except Exception:  # the export failed already; S3 lifecycle rules reap leftovers
                return
