"""The SDK's client-side circuit breaker: its state machine on a fake clock, and the breaker in
the sync and asyncio clients against real servers that go down, answer UNAVAILABLE, recover."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from centrum.config.v1 import config_service_pb2
from centrum.sdk import aio, connect
from centrum.sdk.breaker import BreakerState, CircuitBreaker, Permit
from centrum.sdk.errors import CentrumError
from harness.backends import PostgresDatabaseFactory, allow_connections
from harness.centrum import ServeProcess, StartCentrum
from harness.tokens import TokenMint
from support import echo

OK = grpc.StatusCode.OK
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
METHOD = "/centrum.config.v1.ConfigService/SetValue"
OTHER = "/centrum.config.v1.ConfigService/GetValue"


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _breaker(clock: FakeClock, **settings: Any) -> CircuitBreaker:
    values: dict[str, Any] = {"failure_threshold": 3, "cooldown_s": 10.0, "clock": clock}
    values.update(settings)
    return CircuitBreaker(**values)


def _call(breaker: CircuitBreaker, code: grpc.StatusCode, method: str = METHOD) -> None:
    breaker.record(breaker.admit(method), code)


def _fail(breaker: CircuitBreaker, code: grpc.StatusCode = UNAVAILABLE, times: int = 3) -> None:
    for _ in range(times):
        _call(breaker, code)


def _open_then_cool(clock: FakeClock, **settings: Any) -> CircuitBreaker:
    """A breaker whose circuit of METHOD just turned half-open."""
    breaker = _breaker(clock, **settings)
    _fail(breaker)
    clock.advance(10)
    return breaker


def _refusal(breaker: CircuitBreaker, method: str = METHOD) -> CentrumError:
    with pytest.raises(CentrumError) as refused:
        breaker.admit(method)
    return refused.value


# --- the state machine -------------------------------------------------------------------------


def test_consecutive_failures_open_the_circuit_and_refusals_say_when_to_retry() -> None:
    """N consecutive failures open it (a success in between starts the count again); a refused
    call is UNAVAILABLE with reason CIRCUIT_OPEN and the rest of the cool-down as RetryInfo."""
    clock = FakeClock()
    breaker = _breaker(clock)
    for code in (UNAVAILABLE, UNAVAILABLE, OK, UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        _call(breaker, code)
    assert breaker.state(METHOD) is BreakerState.CLOSED
    _call(breaker, UNAVAILABLE)
    assert breaker.state(METHOD) is BreakerState.OPEN

    clock.advance(4)
    error = _refusal(breaker)
    assert error.code() == UNAVAILABLE and error.retryable
    assert (error.reason, error.domain, error.metadata) == (
        "CIRCUIT_OPEN",
        "centrum.dev",
        {"circuit": METHOD},
    )
    assert error.retry_after == pytest.approx(6.0)
    (key, value), *_ = error.trailing_metadata()
    status = status_pb2.Status.FromString(value)
    retry = error_details_pb2.RetryInfo()
    assert key == "grpc-status-details-bin" and status.details[1].Unpack(retry)
    assert retry.retry_delay.seconds == 6


def test_caller_mistakes_never_open_the_circuit() -> None:
    """INVALID_ARGUMENT, NOT_FOUND and friends are answers from a working server: they count as
    successes and break a run of failures; CANCELLED counts neither way."""
    breaker = _breaker(FakeClock())
    for _ in range(50):
        for code in (
            grpc.StatusCode.INVALID_ARGUMENT,
            grpc.StatusCode.NOT_FOUND,
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.FAILED_PRECONDITION,
        ):
            _call(breaker, code)
    _call(breaker, UNAVAILABLE)
    _call(breaker, UNAVAILABLE)
    _call(breaker, grpc.StatusCode.NOT_FOUND)
    _call(breaker, UNAVAILABLE)
    _call(breaker, grpc.StatusCode.CANCELLED)
    _call(breaker, UNAVAILABLE)
    assert breaker.state(METHOD) is BreakerState.CLOSED
    _call(breaker, UNAVAILABLE)
    assert breaker.state(METHOD) is BreakerState.OPEN


def test_failure_ratio_over_the_rolling_window() -> None:
    """By ratio, the circuit waits for `min_calls` in the window, and old failures age out."""
    clock = FakeClock()
    breaker = _breaker(clock, failure_threshold=None, failure_ratio=0.5, window_s=10.0, min_calls=4)
    for code in (UNAVAILABLE, OK, UNAVAILABLE):
        _call(breaker, code)
    assert breaker.state(METHOD) is BreakerState.CLOSED  # 2 of 3, too few calls to judge
    clock.advance(11)
    for code in (OK, OK, UNAVAILABLE):
        _call(breaker, code)
    assert breaker.state(METHOD) is BreakerState.CLOSED  # the early failures left the window
    _call(breaker, UNAVAILABLE)
    assert breaker.state(METHOD) is BreakerState.OPEN  # 2 of 4 in the last 10 s


def test_half_open_lets_a_limited_number_of_probes_through_then_closes() -> None:
    """After the cool-down only `half_open_probes` calls go through; their success closes it."""
    clock = FakeClock()
    changes: list[tuple[BreakerState, BreakerState]] = []
    breaker = _open_then_cool(
        clock,
        half_open_probes=2,
        on_state_change=lambda circuit, old, new: changes.append((old, new)),
    )
    assert breaker.state(METHOD) is BreakerState.HALF_OPEN
    probes = [breaker.admit(METHOD), breaker.admit(METHOD)]
    assert _refusal(breaker).retry_after == pytest.approx(10.0)
    breaker.record(probes[0], OK)
    assert breaker.state(METHOD) is BreakerState.HALF_OPEN
    breaker.record(probes[1], grpc.StatusCode.INVALID_ARGUMENT)
    assert breaker.state(METHOD) is BreakerState.CLOSED
    assert changes == [
        (BreakerState.CLOSED, BreakerState.OPEN),
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


def test_a_failed_probe_opens_the_circuit_for_another_cool_down() -> None:
    """One failing probe re-opens the circuit, counting the cool-down from that failure."""
    clock = FakeClock()
    breaker = _open_then_cool(clock)
    probe = breaker.admit(METHOD)
    clock.advance(2)
    breaker.record(probe, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert breaker.state(METHOD) is BreakerState.OPEN
    assert _refusal(breaker).retry_after == pytest.approx(10.0)


def test_a_probe_that_never_finishes_frees_its_slot_after_the_cool_down() -> None:
    """A probe still running a cool-down later (a long stream) no longer blocks the circuit."""
    clock = FakeClock()
    breaker = _open_then_cool(clock)
    breaker.admit(METHOD)
    _refusal(breaker)
    clock.advance(10)
    breaker.record(breaker.admit(METHOD), OK)
    assert breaker.state(METHOD) is BreakerState.CLOSED


def test_outcomes_of_calls_admitted_before_a_state_change_are_ignored() -> None:
    """A slow call admitted while closed cannot close an open circuit when it finally succeeds."""
    clock = FakeClock()
    breaker = _breaker(clock)
    slow = breaker.admit(METHOD)
    _fail(breaker)
    breaker.record(slow, OK)
    assert breaker.state(METHOD) is BreakerState.OPEN


def test_circuits_are_per_method_or_per_service() -> None:
    """By default each method has its own circuit; scope="service" shares one per service."""
    per_method = _breaker(FakeClock())
    per_service = _breaker(FakeClock(), scope="service")
    for breaker in (per_method, per_service):
        _fail(breaker)
    assert per_method.state(OTHER) is BreakerState.CLOSED
    assert per_service.state(OTHER) is BreakerState.OPEN
    assert per_service.circuit_of(b"/centrum.config.v1.ConfigService/GetValue") == (
        "centrum.config.v1.ConfigService"
    )


def test_resource_exhausted_counts_only_when_asked() -> None:
    """RESOURCE_EXHAUSTED is a failure only when listed; caller-mistake codes cannot be listed."""
    exhausted = grpc.StatusCode.RESOURCE_EXHAUSTED
    default = _breaker(FakeClock())
    opted_in = _breaker(FakeClock(), failure_codes={UNAVAILABLE, exhausted})
    for breaker in (default, opted_in):
        _fail(breaker, exhausted)
    assert default.state(METHOD) is BreakerState.CLOSED
    assert opted_in.state(METHOD) is BreakerState.OPEN
    with pytest.raises(ValueError, match="failure_codes"):
        CircuitBreaker(failure_codes={UNAVAILABLE, grpc.StatusCode.INVALID_ARGUMENT})
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=None, failure_ratio=None)


def test_concurrent_threads_get_exactly_the_allowed_probes() -> None:
    """64 threads racing into a half-open circuit: exactly one gets through."""
    breaker = _open_then_cool(FakeClock())
    start = threading.Barrier(64)
    admitted: list[Permit] = []

    def race() -> None:
        start.wait()
        with contextlib.suppress(CentrumError):
            admitted.append(breaker.admit(METHOD))

    threads = [threading.Thread(target=race) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 1


async def test_concurrent_tasks_get_exactly_the_allowed_probes() -> None:
    """64 asyncio tasks racing into a half-open circuit: exactly one gets through."""
    breaker = _open_then_cool(FakeClock())

    async def race() -> bool:
        await asyncio.sleep(0)
        try:
            breaker.admit(METHOD)
        except CentrumError:
            return False
        return True

    assert sum(await asyncio.gather(*(race() for _ in range(64)))) == 1


# --- in the clients, against real servers -----------------------------------------------------


def test_sync_client_opens_on_a_stopped_server_refuses_fast_and_closes_again(
    serve_process: Callable[..., ServeProcess], token_mint: TokenMint
) -> None:
    """Caller mistakes leave it closed; a stopped server opens it; while open even a healthy
    server is not called; after the cool-down one probe that succeeds closes it, and streams
    flow through it again."""
    pb2, pb2_grpc = echo.modules()
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30, scope="service", clock=clock)
    server = serve_process(echo_service=True, jwks=[token_mint.jwk])
    service = "/centrum_test.v1.EchoService/Echo"
    with connect(
        server.target, token=token_mint.token(), services=[echo.descriptor()], breaker=breaker
    ) as client:
        stub = pb2_grpc.EchoServiceStub(client.channel)
        assert stub.Echo(pb2.EchoRequest(message="up"), timeout=10).message == "up"
        for _ in range(4):
            with pytest.raises(CentrumError) as mistake:
                stub.Fail(pb2.FailRequest(kind="invalid"), timeout=10)
            assert mistake.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert breaker.state(service) is BreakerState.CLOSED

        server.process.stop()
        for _ in range(2):
            with pytest.raises(CentrumError) as down:
                stub.PublicEcho(pb2.PublicEchoRequest(message="down"), timeout=10)
            assert down.value.code() == UNAVAILABLE and down.value.reason != "CIRCUIT_OPEN"
        assert breaker.state(service) is BreakerState.OPEN

        serve_process(
            echo_service=True, jwks=[token_mint.jwk], port=server.port, data_dir=server.data_dir
        )
        with pytest.raises(CentrumError) as refused:
            stub.Echo(pb2.EchoRequest(message="still open"), timeout=10)
        assert refused.value.reason == "CIRCUIT_OPEN" and refused.value.retry_after == 30

        clock.advance(30)
        assert stub.Echo(pb2.EchoRequest(message="probe"), timeout=30).message == "probe"
        assert breaker.state(service) is BreakerState.CLOSED
        stream = stub.ServerStream(pb2.ServerStreamRequest(count=2), timeout=10)
        assert [m.index for m in stream] == [0, 1]
        assert breaker.state(service) is BreakerState.CLOSED


async def test_async_client_opens_while_the_server_answers_unavailable(
    postgres_database: PostgresDatabaseFactory, start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Centrum answering UNAVAILABLE (its database refuses connections) opens the circuit; a
    streaming call is refused too; once the database is back a probe closes it."""
    database = postgres_database("breaker")
    app = await start_centrum(database_url=database)
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=5, scope="service", clock=clock)
    token = token_mint.token(scopes=("config.read", "config.write"))
    request = config_service_pb2.GetValueRequest(environment="prod", key="breaker/missing")
    service = "/centrum.config.v1.ConfigService/GetValue"
    async with aio.connect(
        f"127.0.0.1:{app.port}", token=token, retries=False, breaker=breaker
    ) as client:
        with pytest.raises(CentrumError) as missing:
            await client.config.GetValue(request, timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        allow_connections(database, False)
        try:
            for _ in range(2):
                with pytest.raises(CentrumError) as unavailable:
                    await client.config.GetValue(request, timeout=10)
                assert unavailable.value.code() == UNAVAILABLE
                assert unavailable.value.reason != "CIRCUIT_OPEN"
            assert breaker.state(service) is BreakerState.OPEN
            watch = client.config.Watch(config_service_pb2.WatchRequest(environment="prod"))
            with pytest.raises(CentrumError) as refused:
                await watch.read()
            assert refused.value.reason == "CIRCUIT_OPEN"
        finally:
            allow_connections(database, True)
        clock.advance(5)
        with pytest.raises(CentrumError) as probe:
            await client.config.GetValue(request, timeout=10)
        assert probe.value.code() == grpc.StatusCode.NOT_FOUND
        assert breaker.state(service) is BreakerState.CLOSED


class FlakyEcho:
    """An EchoService whose Echo answers UNAVAILABLE `failures` times, then echoes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def Echo(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        pb2, _ = echo.modules()
        self.attempts += 1
        if self.attempts <= self.failures:
            await context.abort(UNAVAILABLE, "not yet")
        return pb2.EchoResponse(message=request.message)


async def test_the_breaker_judges_the_outcome_after_the_contracts_retries(tmp_path: Path) -> None:
    """UNAVAILABLE answers that a retry rides through are no failure; a call that fails after
    every retry is one failure."""
    pb2, pb2_grpc = echo.modules()
    flaky = FlakyEcho(failures=2)
    server = grpc.aio.server()
    echo_only = grpc.unary_unary_rpc_method_handler(
        flaky.Echo,
        request_deserializer=pb2.EchoRequest.FromString,
        response_serializer=pb2.EchoResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("centrum_test.v1.EchoService", {"Echo": echo_only})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    breaker = CircuitBreaker(failure_threshold=1, clock=FakeClock())
    try:
        async with aio.connect(
            f"127.0.0.1:{port}", services=[echo.descriptor()], breaker=breaker
        ) as client:
            stub = pb2_grpc.EchoServiceStub(client.channel)
            assert (await stub.Echo(pb2.EchoRequest(message="hi"), timeout=30)).message == "hi"
            assert flaky.attempts == 3
            assert breaker.state("/centrum_test.v1.EchoService/Echo") is BreakerState.CLOSED

            flaky.failures = 1_000
            with pytest.raises(CentrumError) as failure:
                await stub.Echo(pb2.EchoRequest(message="hi"), timeout=30)
            assert failure.value.code() == UNAVAILABLE and flaky.attempts == 3 + 5
            assert breaker.state("/centrum_test.v1.EchoService/Echo") is BreakerState.OPEN
    finally:
        await server.stop(0)
