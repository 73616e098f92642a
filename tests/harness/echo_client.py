"""Calling the test-only EchoService in each of the four RPC shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

from support import echo

Metadata = Sequence[tuple[str, str]]


class EchoClient:
    """Thin async wrapper: one method per shape, each returning what the call produced."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.pb2, pb2_grpc = echo.modules()
        self.stub = pb2_grpc.EchoServiceStub(channel)

    async def unary(self, metadata: Metadata = (), **fields: Any) -> Any:
        return await self.stub.Echo(self.pb2.EchoRequest(**fields), metadata=metadata)

    async def server_stream(self, metadata: Metadata = (), count: int = 3) -> list[int]:
        call = self.stub.ServerStream(self.pb2.ServerStreamRequest(count=count), metadata=metadata)
        return [message.index async for message in call]

    async def client_stream(
        self, metadata: Metadata = (), words: Sequence[str] = ("a", "b")
    ) -> str:
        async def requests() -> AsyncIterator[Any]:
            for word in words:
                yield self.pb2.ClientStreamRequest(message=word, secret="planted-stream-secret")

        response = await self.stub.ClientStream(requests(), metadata=metadata)
        return str(response.joined)

    async def bidi_stream(
        self, metadata: Metadata = (), words: Sequence[str] = ("a", "b")
    ) -> list[str]:
        async def requests() -> AsyncIterator[Any]:
            for word in words:
                yield self.pb2.BidiStreamRequest(message=word)

        call = self.stub.BidiStream(requests(), metadata=metadata)
        return [message.message async for message in call]

    async def shape(self, name: str, metadata: Metadata = ()) -> Any:
        """Calls the RPC of one shape: unary, server_stream, client_stream or bidi_stream."""
        if name == "unary":
            return await self.unary(metadata, message="hi")
        return await getattr(self, name)(metadata)


SHAPES = ("unary", "server_stream", "client_stream", "bidi_stream")


def status_details(error: grpc.aio.AioRpcError) -> list[Any]:
    """The unpacked google.rpc details of a failed call."""
    metadata: Any = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            unpacked = []
            for detail in status.details:
                for kind in (
                    error_details_pb2.ErrorInfo,
                    error_details_pb2.BadRequest,
                    error_details_pb2.RetryInfo,
                    error_details_pb2.ResourceInfo,
                ):
                    if detail.Is(kind.DESCRIPTOR):
                        message = kind()
                        detail.Unpack(message)
                        unpacked.append(message)
            return unpacked
    return []


def detail(error: grpc.aio.AioRpcError, kind: type) -> Any:
    """The one detail of `kind` in a failed call; fails the test when absent."""
    found = [d for d in status_details(error) if isinstance(d, kind)]
    assert found, f"no {kind.__name__} in the status details of {error.code()}: {error.details()}"
    return found[0]


def trailing(error_or_call: Any) -> dict[str, str]:
    """Trailing metadata as a dict (first value per key)."""
    pairs: Any = error_or_call.trailing_metadata() or ()
    result: dict[str, str] = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result
