"""The synchronous client: one channel, one typed stub per service, credentials on every call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, NamedTuple

import grpc
from google.protobuf import descriptor

from centrum.sdk._credentials import CallCredentials
from centrum.sdk._stubs import SERVICES, ServiceStubs
from centrum.sdk.breaker import CircuitBreaker, Permit, status_of
from centrum.sdk.errors import from_rpc_error
from centrum.sdk.policy import channel_options
from centrum.sdk.tokens import ClientCredentials, TokenSource

__all__ = ["Client", "connect"]

Metadata = Callable[[], tuple[tuple[str, str], ...]]


class _Details(NamedTuple):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _ParsedStream(grpc.Call, grpc.Future):  # type: ignore[type-arg]
    """A response stream whose failure raises CentrumError while iterating; else the call."""

    def __init__(self, call: Any) -> None:
        self._call = call

    def __iter__(self) -> _ParsedStream:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def initial_metadata(self) -> Any:
        return self._call.initial_metadata()

    def trailing_metadata(self) -> Any:
        return self._call.trailing_metadata()

    def code(self) -> Any:
        return self._call.code()

    def details(self) -> Any:
        return self._call.details()

    def is_active(self) -> Any:
        return self._call.is_active()

    def time_remaining(self) -> Any:
        return self._call.time_remaining()

    def cancel(self) -> Any:
        return self._call.cancel()

    def add_callback(self, callback: Any) -> Any:
        return self._call.add_callback(callback)

    def cancelled(self) -> Any:
        return self._call.cancelled()

    def running(self) -> Any:
        return self._call.running()

    def done(self) -> Any:
        return self._call.done()

    def result(self, timeout: float | None = None) -> Any:
        return self._call.result(timeout)

    def exception(self, timeout: float | None = None) -> Any:
        return self._call.exception(timeout)

    def traceback(self, timeout: float | None = None) -> Any:
        return self._call.traceback(timeout)

    def add_done_callback(self, fn: Any) -> Any:
        return self._call.add_done_callback(fn)


class _Interceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Adds the credential to every call and raises CentrumError for every failed call."""

    def __init__(self, metadata: Metadata) -> None:
        self._metadata = metadata

    def _details(self, details: Any) -> _Details:
        return _Details(
            details.method,
            details.timeout,
            (*(details.metadata or ()), *self._metadata()),
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    @staticmethod
    def _raise_parsed(outcome: Any) -> Any:
        error = outcome.exception()
        if isinstance(error, grpc.RpcError):
            raise from_rpc_error(error) from None
        return outcome

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return self._raise_parsed(continuation(self._details(details), request))

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return _ParsedStream(continuation(self._details(details), request))

    def intercept_stream_unary(
        self, continuation: Any, details: Any, requests: Iterator[Any]
    ) -> Any:
        return self._raise_parsed(continuation(self._details(details), requests))

    def intercept_stream_stream(
        self, continuation: Any, details: Any, requests: Iterator[Any]
    ) -> Any:
        return _ParsedStream(continuation(self._details(details), requests))


class _BreakerInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Refuses calls while their circuit is open and reports every call's final outcome.

    Outermost, so a refused call costs no credential lookup and no network; above gRPC's
    retries, so it judges the outcome after them.
    """

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker

    def _guard(self, continuation: Any, details: Any, request: Any) -> Any:
        permit = self._breaker.admit(details.method)
        try:
            outcome = continuation(details, request)
        except BaseException as error:
            self._breaker.record(permit, status_of(error))
            raise
        if isinstance(outcome, grpc.Future):
            outcome.add_done_callback(lambda done: self._record_done(permit, done))
            return outcome
        # The inner interceptor raised a parsed error, which gRPC hands back as the outcome.
        self._breaker.record(permit, status_of(outcome))
        raise outcome

    def _record_done(self, permit: Permit, done: grpc.Future) -> None:  # type: ignore[type-arg]
        if done.cancelled():
            self._breaker.record(permit, grpc.StatusCode.CANCELLED)
        else:
            self._breaker.record(permit, status_of(done.exception()))

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return self._guard(continuation, details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return self._guard(continuation, details, request)

    def intercept_stream_unary(
        self, continuation: Any, details: Any, requests: Iterator[Any]
    ) -> Any:
        return self._guard(continuation, details, requests)

    def intercept_stream_stream(
        self, continuation: Any, details: Any, requests: Iterator[Any]
    ) -> Any:
        return self._guard(continuation, details, requests)


class Client(ServiceStubs):
    """A connection to Centrum with a typed stub per service; close it, or use it in `with`."""

    def __init__(self, channel: grpc.Channel, *, closing: Sequence[grpc.Channel] = ()) -> None:
        super().__init__(channel)
        self.channel = channel
        self._closing = tuple(closing)

    def close(self) -> None:
        """Closes the channel."""
        for channel in self._closing:
            channel.close()

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
    client_credentials: ClientCredentials | None = None,
    token_target: str | None = None,
    tls: grpc.ChannelCredentials | None = None,
    retries: bool = True,
    services: Iterable[descriptor.ServiceDescriptor] = SERVICES,
    options: Sequence[tuple[str, Any]] = (),
    breaker: CircuitBreaker | None = None,
) -> Client:
    """Connects to Centrum at `target` (host:port).

    Credentials: a static bearer `token`, an `api_key`, or `client_credentials`, exchanged for
    access tokens through AuthService.Token and renewed before they expire; the tokens come from
    `target` unless `token_target` names the process that runs Auth. Without `tls` the
    channel is plaintext, which suits loopback and trusted meshes only. Deadlines and retries
    follow each RPC's policy in the contract (`retries=False` turns retries off). A `breaker`
    (`centrum.sdk.breaker.CircuitBreaker`) refuses calls fast while their circuit is open; it
    may be shared by several clients.
    """
    all_options = [*channel_options(services, retries=retries), *options]

    def open_channel(address: str) -> grpc.Channel:
        if tls is not None:
            return grpc.secure_channel(address, tls, options=all_options)
        return grpc.insecure_channel(address, options=all_options)

    raw = open_channel(target)
    closing = [raw]
    metadata: Metadata
    if client_credentials is not None:
        token_channel = raw
        if token_target is not None and token_target != target:
            token_channel = open_channel(token_target)
            closing.append(token_channel)
        source = TokenSource(client_credentials, token_channel)

        def metadata() -> tuple[tuple[str, str], ...]:
            return (("authorization", f"Bearer {source.token()}"),)

    else:
        pairs = CallCredentials(token=token, api_key=api_key).metadata()

        def metadata() -> tuple[tuple[str, str], ...]:
            return pairs

    interceptors: list[Any] = [_Interceptor(metadata)]
    if breaker is not None:
        interceptors.insert(0, _BreakerInterceptor(breaker))
    return Client(grpc.intercept_channel(raw, *interceptors), closing=closing)
