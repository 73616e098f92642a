"""The chain: one grpc.aio interceptor that runs the policy-selected steps around every RPC.

Every concern (request context, metrics, logging, auth, rate limit, validation, audit) is a
`Step` with two hooks. For each method the chain picks, once, the steps whose selector accepts
the method's policy (exemptions come from the contract, never from skip lists inside a step), and
then runs them per call:

    before hooks, in order, until one raises  ->  handler  ->  after hooks, all, in reverse order

An exception from a step or the handler ends the call with the status the `ErrorMapper` derives,
and every after hook still sees it (`call.code`), so a denied call is logged, counted and audited
like any other. All four RPC shapes go through the same runner; response streams are iterated
inside it so that after hooks see how the stream ended. A handler may return or yield a response
already in wire form (`encoded.Encoded`); the chain's serializer sends it as it is.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import message

from centrum.interceptors.context import Principal
from centrum.interceptors.encoded import passing_encoded
from centrum.interceptors.error_mapping import ErrorMapper
from centrum.interceptors.policy import Policy, PolicyRegistry
from centrum.interceptors.step import Step

__all__ = ["Call", "Chain", "Selected", "ServicerContext", "Step", "select"]

if TYPE_CHECKING:
    ServicerContext = grpc.aio.ServicerContext[Any, Any]
    MethodHandler = grpc.RpcMethodHandler[Any, Any]
else:
    ServicerContext = grpc.aio.ServicerContext
    MethodHandler = grpc.RpcMethodHandler


class Call:
    """What the steps of the chain know about one call, and what they tell each other."""

    __slots__ = (
        "_metadata",
        "code",
        "context",
        "error",
        "message",
        "peer",
        "policy",
        "principal",
        "request",
        "request_id",
        "started",
        "state",
        "trace_id",
        "trailing_metadata",
    )

    def __init__(self, policy: Policy, context: ServicerContext, request: Any) -> None:
        self.policy = policy
        self.context = context
        self.request: message.Message | None = request
        """The request (the first message of a client stream, once it has arrived)."""
        self.started = time.perf_counter()
        self.code = grpc.StatusCode.OK
        self.message = ""
        self.error: BaseException | None = None
        self.principal: Principal | None = None
        self.request_id = ""
        self.trace_id = ""
        self.peer = ""
        self.trailing_metadata: list[tuple[str, str]] = []
        self.state: dict[object, Any] = {}
        """Per-call scratch space of the steps, keyed by step."""
        self._metadata: dict[str, str] | None = None

    @property
    def metadata(self) -> dict[str, str]:
        """The caller's invocation metadata (first value per key)."""
        if self._metadata is None:
            found: dict[str, str] = {}
            for key, value in self.context.invocation_metadata() or ():
                if key not in found and isinstance(value, str):
                    found[key] = value
            self._metadata = found
        return self._metadata

    @property
    def duration_s(self) -> float:
        """Seconds since the call entered the chain."""
        return time.perf_counter() - self.started

    @property
    def ok(self) -> bool:
        """Tells whether the call has succeeded so far."""
        return self.code is grpc.StatusCode.OK


@dataclass(frozen=True, slots=True)
class Selected:
    """A step that runs only for methods whose policy `when` accepts."""

    step: Step
    when: Callable[[Policy], bool]


def select(step: Step, when: Callable[[Policy], bool]) -> Selected:
    """Runs `step` only where `when(policy)` is true, e.g. auth only for non-public RPCs."""
    return Selected(step, when)


Handler = Callable[[Any, Any], Any]


class Chain(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """The single grpc.aio interceptor that applies every RPC's policy."""

    def __init__(
        self,
        registry: PolicyRegistry,
        steps: Sequence[Step | Selected],
        *,
        errors: ErrorMapper,
    ) -> None:
        self._registry = registry
        self._steps = tuple(s if isinstance(s, Selected) else Selected(s, _always) for s in steps)
        self._errors = errors
        self._wrapped: dict[str, tuple[MethodHandler, MethodHandler]] = {}

    def steps_for(self, policy: Policy) -> tuple[Step, ...]:
        """The steps that run for a method with `policy`, in order."""
        return tuple(s.step for s in self._steps if s.when(policy))

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[MethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> MethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        policy = self._registry.get(method)
        if handler is None or policy is None:
            return handler
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(handler, policy)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, handler: MethodHandler, policy: Policy) -> MethodHandler:
        selected = self.steps_for(policy)
        steps = _Hooks(
            before=tuple(s.before for s in selected if type(s).before is not Step.before),
            after=tuple(s.after for s in reversed(selected) if type(s).after is not Step.after),
        )
        serializers = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": passing_encoded(handler.response_serializer),
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(handler.unary_unary, policy, steps, streaming_request=False),
                **serializers,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary(handler.stream_unary, policy, steps, streaming_request=True),
                **serializers,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream(handler.unary_stream, policy, steps, streaming_request=False),
                **serializers,
            )
        assert handler.stream_stream is not None
        return grpc.stream_stream_rpc_method_handler(
            self._stream(handler.stream_stream, policy, steps, streaming_request=True),
            **serializers,
        )

    def _unary(
        self, inner: Handler, policy: Policy, steps: _Hooks, *, streaming_request: bool
    ) -> Handler:
        async def run(request: Any, context: ServicerContext) -> Any:
            call = Call(policy, context, None if streaming_request else request)
            if streaming_request:
                request = _recording_first(request, call)
            response = None
            try:
                for before in steps.before:
                    await before(call)
                response = await inner(request, context)
            except BaseException as exc:
                self._errors.record(call, exc)
            await self._finish(call, steps)
            return response

        return run

    def _stream(
        self, inner: Handler, policy: Policy, steps: _Hooks, *, streaming_request: bool
    ) -> Callable[[Any, ServicerContext], AsyncIterator[Any]]:
        async def run(request: Any, context: ServicerContext) -> AsyncIterator[Any]:
            call = Call(policy, context, None if streaming_request else request)
            if streaming_request:
                request = _recording_first(request, call)
            try:
                for before in steps.before:
                    await before(call)
                responses = inner(request, context)
                if inspect.isawaitable(responses):
                    await responses  # the handler used context.write() instead of yielding
                else:
                    async for response in responses:
                        yield response
            except BaseException as exc:
                self._errors.record(call, exc)
            await self._finish(call, steps)

        return run

    async def _finish(self, call: Call, steps: _Hooks) -> None:
        for after in steps.after:
            try:
                await after(call)
            except BaseException as exc:
                self._errors.record(call, exc)
        await self._errors.conclude(call)


@dataclass(frozen=True, slots=True)
class _Hooks:
    """The hooks one method runs: befores in chain order, afters in reverse."""

    before: tuple[Callable[[Call], Awaitable[None]], ...]
    after: tuple[Callable[[Call], Awaitable[None]], ...]


def _always(_: Policy) -> bool:
    return True


async def _recording_first(requests: AsyncIterator[Any], call: Call) -> AsyncIterator[Any]:
    """Passes a request stream through, keeping its first message on the call for audit."""
    async for request in requests:
        if call.request is None:
            call.request = request
        yield request
