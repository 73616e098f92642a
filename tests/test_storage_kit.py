"""Helpers of the storage tests (no tests here): clients, uploads, downloads, payloads."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2

from centrum.server import CentrumApp
from centrum.storage.v1 import bucket_pb2, storage_service_pb2_grpc
from centrum.storage.v1 import storage_service_pb2 as pb
from harness.centrum import bearer
from harness.echo_client import detail
from harness.tokens import TokenMint

__all__ = [
    "ALL_SCOPES",
    "PNG",
    "Client",
    "app_objects",
    "eventually",
    "pattern",
    "pattern_chunks",
    "reason_of",
    "rpc_error",
    "violations_of",
]

ALL_SCOPES = ("storage.read", "storage.write", "storage.admin")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))
MIB = 1024 * 1024


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-per-segment bytes of `size`."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += counter.to_bytes(8, "big") + block[: min(len(block), size - len(out)) - 8]
        counter += 1
    return bytes(out[:size])


def pattern_chunks(size: int, chunk: int = MIB) -> Iterator[bytes]:
    """`size` bytes of a cheap pattern in chunks, without holding them all."""
    base = hashlib.sha256(b"big").digest() * (chunk // 32 + 1)
    sent = 0
    index = 0
    while sent < size:
        n = min(chunk, size - sent)
        yield (index.to_bytes(8, "big") + base)[:n]
        sent += n
        index += 1


@dataclass
class Client:
    """A storage stub with one principal's token."""

    stub: Any  # the generated stub types are synchronous; this one is on a grpc.aio channel
    metadata: tuple[tuple[str, str], ...]

    @classmethod
    def of(
        cls,
        channel: grpc.aio.Channel,
        mint: TokenMint,
        *,
        subject: str = "alice",
        tenant: str = "acme",
        scopes: Sequence[str] = ALL_SCOPES,
    ) -> Client:
        """A client for `subject` of `tenant`."""
        token = mint.token(subject=subject, tenant=tenant, scopes=list(scopes))
        return cls(storage_service_pb2_grpc.StorageServiceStub(channel), bearer(token))

    async def bucket(self, name: str, **settings: Any) -> bucket_pb2.Bucket:
        """Creates a bucket."""
        response: pb.CreateBucketResponse = await self.stub.CreateBucket(
            pb.CreateBucketRequest(name=name, settings=bucket_pb2.BucketSettings(**settings)),
            metadata=self.metadata,
        )
        return response.bucket

    async def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        chunk: int = 64 * 1024,
        **header: Any,
    ) -> pb.UploadResponse:
        """Uploads `data` in chunks."""

        async def requests() -> AsyncIterator[pb.UploadRequest]:
            yield pb.UploadRequest(
                header=pb.UploadHeader(
                    bucket=bucket,
                    key=key,
                    content_type=content_type,
                    size_bytes=header.pop("size_bytes", len(data)),
                    **header,
                )
            )
            for start in range(0, len(data), chunk):
                yield pb.UploadRequest(chunk=data[start : start + chunk])

        response: pb.UploadResponse = await self.stub.Upload(requests(), metadata=self.metadata)
        return response

    async def get(self, bucket: str, key: str, offset: int = 0, length: int = 0) -> bytes:
        """Downloads an object (or a range) into memory."""
        out = bytearray()
        request = pb.DownloadRequest(
            bucket=bucket, key=key, range=pb.ByteRange(offset=offset, length=length)
        )
        async for message in self.stub.Download(request, metadata=self.metadata):
            if message.WhichOneof("payload") == "chunk":
                out += message.chunk
        return bytes(out)

    async def stat(self, bucket: str, key: str) -> Any:
        """StatObject."""
        return (
            await self.stub.StatObject(
                pb.StatObjectRequest(bucket=bucket, key=key), metadata=self.metadata
            )
        ).object


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    """The error an awaited call ends with; fails the test when it succeeds."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc
    raise AssertionError("the call succeeded")


def reason_of(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a failed call."""
    return str(detail(error, error_details_pb2.ErrorInfo).reason)


def violations_of(error: grpc.aio.AioRpcError) -> list[str]:
    """The fields named by a failed call's BadRequest."""
    return [v.field for v in detail(error, error_details_pb2.BadRequest).field_violations]


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]],
    what: str,
    timeout: float = 15.0,  # noqa: ASYNC109
) -> None:
    """Polls a (sync or async) predicate until it holds; fails naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


def app_objects(app: CentrumApp) -> Any:
    """The storage domain of a running in-process server."""
    return app._bundles["storage"].extra["storage.objects"]
