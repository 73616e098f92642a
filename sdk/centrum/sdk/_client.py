"""The synchronous client: one channel, one typed stub per service, credentials on every call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, NamedTuple

import grpc

from centrum.sdk._credentials import CallCredentials
from centrum.sdk._stubs import ServiceStubs

__all__ = ["Client", "connect"]


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _AddMetadata(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds the credential's metadata to every call, whatever its shape."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._pairs = pairs

    def _details(self, details: Any) -> _Details:
        return _Details(
            details.method,
            details.timeout,
            (*(details.metadata or ()), *self._pairs),
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(
        self, continuation: Callable[..., Any], details: Any, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: Any, requests: Iterator[Any]
    ) -> Any:
        return continuation(self._details(details), requests)


class Client(ServiceStubs):
    """A connection to Centrum with a typed stub per service; close it, or use it in `with`."""

    def __init__(self, channel: grpc.Channel) -> None:
        super().__init__(channel)
        self.channel = channel

    def close(self) -> None:
        """Closes the channel."""
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    target: str,
    *,
    token: str | None = None,
    api_key: str | None = None,
    tls: grpc.ChannelCredentials | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> Client:
    """Connects to Centrum at `target` (host:port), attaching a bearer token or API key.

    Without `tls` the channel is plaintext, which suits loopback and trusted meshes only.
    """
    credentials = CallCredentials(token=token, api_key=api_key)
    channel = (
        grpc.secure_channel(target, tls, options=list(options))
        if tls is not None
        else grpc.insecure_channel(target, options=list(options))
    )
    pairs = credentials.metadata()
    if pairs:
        channel = grpc.intercept_channel(channel, _AddMetadata(pairs))
    return Client(channel)
