"""The asyncio client: `async with centrum.sdk.aio.connect(...) as client:`."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

import grpc
import grpc.aio

from centrum.sdk._credentials import CallCredentials
from centrum.sdk._stubs import ServiceStubs

__all__ = ["AsyncClient", "connect"]


class _AddMetadata(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.aio.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.aio.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds the credential's metadata to every call, whatever its shape."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._pairs = pairs

    def _with_metadata(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *self._pairs)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_metadata(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_metadata(details), request)

    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._with_metadata(details), requests)

    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._with_metadata(details), requests)


class AsyncClient(ServiceStubs):
    """An asyncio connection to Centrum with a typed stub per service."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        super().__init__(channel)
        self.channel = channel

    async def close(self) -> None:
        """Closes the channel."""
        await self.channel.close(grace=None)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def connect(
    target: str,
    *,
    token: str | None = None,
    api_key: str | None = None,
    tls: grpc.ChannelCredentials | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> AsyncClient:
    """Connects to Centrum at `target` for asyncio callers; see `centrum.sdk.connect`."""
    pairs = CallCredentials(token=token, api_key=api_key).metadata()
    interceptors: Any = [_AddMetadata(pairs)] if pairs else None
    channel = (
        grpc.aio.secure_channel(target, tls, options=list(options), interceptors=interceptors)
        if tls is not None
        else grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)
    )
    return AsyncClient(channel)
