"""The asyncio client: `async with centrum.sdk.aio.connect(...) as client:`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from google.protobuf import descriptor

from centrum.auth.v1 import auth_service_pb2_grpc
from centrum.sdk._credentials import CallCredentials
from centrum.sdk._stubs import SERVICES, ServiceStubs
from centrum.sdk.breaker import CircuitBreaker, Permit, status_of
from centrum.sdk.errors import from_rpc_error
from centrum.sdk.policy import channel_options
from centrum.sdk.tokens import AsyncTokenSource, ClientCredentials

__all__ = ["AsyncClient", "connect"]

Metadata = Callable[[], Awaitable[tuple[tuple[str, str], ...]]]


class _Interceptor:
    """Adds the credential to every call and raises CentrumError for failed unary responses.

    grpc.aio files each interceptor under the first call shape it implements, so every shape
    gets a subclass of its own (see `_interceptors`).
    """

    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    async def _with_metadata(
        self, details: grpc.aio.ClientCallDetails
    ) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *(await self._metadata()))
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    @staticmethod
    async def _raise_parsed(call: Any) -> Any:
        try:
            await call
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None
        return call


class _UnaryUnary(_Interceptor, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        call = await continuation(await self._with_metadata(details), request)
        return await self._raise_parsed(call)


class _UnaryStream(_Interceptor, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(await self._with_metadata(details), request)


class _StreamUnary(_Interceptor, grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        call = await continuation(await self._with_metadata(details), requests)
        return await self._raise_parsed(call)


class _StreamStream(_Interceptor, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(await self._with_metadata(details), requests)


def _interceptors(metadata: Metadata) -> list[_Interceptor]:
    return [cls(metadata) for cls in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)]


class _Breaker:
    """Refuses calls while their circuit is open and reports every call's final outcome.

    Outermost, so a refused call costs no token fetch and no network; above gRPC's retries, so
    it judges the outcome after them. Unary responses are judged when the inner interceptor has
    awaited them; a streaming response is judged by a task when its stream ends.
    """

    def __init__(self, breaker: CircuitBreaker, pending: set[asyncio.Task[None]]) -> None:
        self._breaker = breaker
        self._pending = pending

    async def _unary_response(self, continuation: Any, details: Any, request: Any) -> Any:
        permit = self._breaker.admit(details.method)
        try:
            call = await continuation(details, request)
            code = await call.code()
        except BaseException as error:
            self._breaker.record(permit, status_of(error))
            raise
        self._breaker.record(permit, code)
        return call

    async def _streaming_response(self, continuation: Any, details: Any, request: Any) -> Any:
        permit = self._breaker.admit(details.method)
        try:
            call = await continuation(details, request)
        except BaseException as error:
            self._breaker.record(permit, status_of(error))
            raise
        task = asyncio.ensure_future(self._record_when_done(permit, call))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return call

    async def _record_when_done(self, permit: Permit, call: Any) -> None:
        code: grpc.StatusCode | None = None
        try:
            code = await call.code()
        finally:
            self._breaker.record(permit, code)


class _BreakerUnaryUnary(_Breaker, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self._unary_response(continuation, details, request)


class _BreakerUnaryStream(_Breaker, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self._streaming_response(continuation, details, request)


class _BreakerStreamUnary(_Breaker, grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self._unary_response(continuation, details, requests)


class _BreakerStreamStream(_Breaker, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self._streaming_response(continuation, details, requests)


def _breaker_interceptors(breaker: CircuitBreaker) -> list[_Breaker]:
    pending: set[asyncio.Task[None]] = set()
    shapes = (_BreakerUnaryUnary, _BreakerUnaryStream, _BreakerStreamUnary, _BreakerStreamStream)
    return [cls(breaker, pending) for cls in shapes]


class AsyncClient(ServiceStubs):
    """An asyncio connection to Centrum with a typed stub per service."""

    def __init__(
        self, channel: grpc.aio.Channel, *, closing: Sequence[grpc.aio.Channel] = ()
    ) -> None:
        super().__init__(channel)
        self.channel = channel
        self._closing = tuple(closing) or (channel,)
        self.token_source: AsyncTokenSource | None = None
        """The client-credentials token source, when the client uses one."""

    async def close(self) -> None:
        """Closes the channels."""
        for channel in self._closing:
            await channel.close(grace=None)

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
    client_credentials: ClientCredentials | None = None,
    token_target: str | None = None,
    tls: grpc.ChannelCredentials | None = None,
    retries: bool = True,
    services: Iterable[descriptor.ServiceDescriptor] = SERVICES,
    options: Sequence[tuple[str, Any]] = (),
    breaker: CircuitBreaker | None = None,
) -> AsyncClient:
    """Connects to Centrum at `target` for asyncio callers; see `centrum.sdk.connect`."""
    all_options = [*channel_options(services, retries=retries), *options]

    def open_channel(interceptors: Sequence[Any] | None, address: str = target) -> grpc.aio.Channel:
        chosen: Any = interceptors
        if tls is not None:
            return grpc.aio.secure_channel(address, tls, options=all_options, interceptors=chosen)
        return grpc.aio.insecure_channel(address, options=all_options, interceptors=chosen)

    source: AsyncTokenSource | None = None
    closing: list[grpc.aio.Channel] = []
    metadata: Metadata
    if client_credentials is not None:
        token_channel = open_channel(None, token_target or target)
        closing.append(token_channel)
        source = AsyncTokenSource(
            client_credentials, auth_service_pb2_grpc.AuthServiceStub(token_channel).Token
        )

        async def metadata() -> tuple[tuple[str, str], ...]:
            assert source is not None
            return (("authorization", f"Bearer {await source.token()}"),)

    else:
        pairs = CallCredentials(token=token, api_key=api_key).metadata()

        async def metadata() -> tuple[tuple[str, str], ...]:
            return pairs

    guards = _breaker_interceptors(breaker) if breaker is not None else []
    channel = open_channel([*guards, *_interceptors(metadata)])
    client = AsyncClient(channel, closing=[channel, *closing])
    client.token_source = source
    return client
