"""The chain applied to a test-only service: every RPC shape, context, errors, logs, metrics.

The EchoService is declared in tests/proto with policy options and registered beside Centrum's
own services; nothing in the interceptor code knows it exists.
"""

from __future__ import annotations

import grpc
import httpx
import pytest
import structlog
from google.rpc import error_details_pb2

from centrum.server import CentrumApp
from harness.backends import free_port
from harness.centrum import StartCentrum, bearer, channel
from harness.echo_client import SHAPES, EchoClient, detail
from harness.tokens import TokenMint


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_shape_authenticates_and_succeeds(
    centrum: CentrumApp, token_mint: TokenMint, shape: str
) -> None:
    """With a valid token each RPC shape completes and the handler sees the principal."""
    async with channel(centrum) as ch:
        result = await EchoClient(ch).shape(shape, bearer(token_mint.token(subject="alice")))
    expected = {"server_stream": [0, 1, 2], "client_stream": "a b", "bidi_stream": ["A", "B"]}
    if shape == "unary":
        assert (result.message, result.subject, result.tenant) == ("hi", "alice", "acme")
    else:
        assert result == expected[shape]


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_shape_refuses_a_missing_credential(centrum: CentrumApp, shape: str) -> None:
    """Without a credential each RPC shape ends UNAUTHENTICATED with reason CREDENTIAL_MISSING."""
    async with channel(centrum) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).shape(shape)
    error = failure.value
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert detail(error, error_details_pb2.ErrorInfo).reason == "CREDENTIAL_MISSING"


@pytest.mark.parametrize("shape", SHAPES)
async def test_every_shape_checks_scopes(
    centrum: CentrumApp, token_mint: TokenMint, shape: str
) -> None:
    """A token without the RPC's scope gets PERMISSION_DENIED naming the missing scope."""
    token = token_mint.token(scopes=["unrelated.read"])
    async with channel(centrum) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).shape(shape, bearer(token))
    error = failure.value
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    info = detail(error, error_details_pb2.ErrorInfo)
    assert info.reason == "MISSING_SCOPE"
    assert info.metadata["scope"] == (
        "echo.read" if shape in ("unary", "server_stream") else "echo.write"
    )


async def test_admin_scope_of_an_area_grants_its_scopes(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """`echo.admin` satisfies `echo.read`: an area's admin scope covers the area."""
    async with channel(centrum) as ch:
        response = await EchoClient(ch).unary(
            bearer(token_mint.token(scopes=["echo.admin"])), message="x"
        )
    assert response.message == "x"


async def test_public_rpc_needs_no_credential(centrum: CentrumApp) -> None:
    """A public RPC (policy `public: true`) runs without any credential."""
    async with channel(centrum) as ch:
        client = EchoClient(ch)
        response = await client.stub.PublicEcho(client.pb2.PublicEchoRequest(message="open"))
    assert response.message == "open"


async def test_request_id_is_echoed_or_generated(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A sane x-request-id is echoed back; a missing or hostile one is replaced by a fresh id."""

    async def request_id_of(offered: str | None) -> str:
        metadata = bearer(token_mint.token())
        if offered is not None:
            metadata = (*metadata, ("x-request-id", offered))
        call = client.stub.Echo(client.pb2.EchoRequest(message="x"), metadata=metadata)
        await call
        return str(dict(await call.trailing_metadata())["x-request-id"])

    async with channel(centrum) as ch:
        client = EchoClient(ch)
        assert await request_id_of("req-123") == "req-123"
        hostile = await request_id_of("x" * 300)
        missing = await request_id_of(None)
    assert len(hostile) == 32 and len(missing) == 32 and hostile != missing


async def _fail(app: CentrumApp, token_mint: TokenMint, kind: str) -> grpc.aio.AioRpcError:
    """Calls Fail with `kind` and returns the error it ended with."""
    async with channel(app) as ch:
        client = EchoClient(ch)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await client.stub.Fail(
                client.pb2.FailRequest(kind=kind), metadata=bearer(token_mint.token())
            )
    return failure.value


async def test_caller_mistakes_carry_field_violations(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A servicer's InvalidArgument reaches the caller with its BadRequest and ErrorInfo."""
    error = await _fail(centrum, token_mint, "invalid")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    violation = detail(error, error_details_pb2.BadRequest).field_violations[0]
    assert (violation.field, violation.description) == ("kind", "bad")
    assert detail(error, error_details_pb2.ErrorInfo).domain == "centrum.dev"


async def test_not_found_names_the_resource(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """NOT_FOUND carries a ResourceInfo naming what was missing."""
    error = await _fail(centrum, token_mint, "not_found")
    assert error.code() == grpc.StatusCode.NOT_FOUND
    resource = detail(error, error_details_pb2.ResourceInfo)
    assert (resource.resource_type, resource.resource_name) == ("thing", "t1")


async def test_unexpected_errors_are_opaque_internal(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A crash becomes INTERNAL with an error id; the exception text stays in the server log."""
    with structlog.testing.capture_logs() as logs:
        error = await _fail(centrum, token_mint, "crash")
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "secret-internal-detail" not in (error.details() or "")
    error_id = detail(error, error_details_pb2.ErrorInfo).metadata["error_id"]
    logged = [entry for entry in logs if entry.get("error_id") == error_id]
    assert logged and "secret-internal-detail" in str(logged[0]["exc_info"])


async def test_a_full_connection_pool_is_unavailable_not_internal(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A database pool timeout no servicer caught is the database being busy, not a bug:
    UNAVAILABLE with RetryInfo and reason DATABASE_BUSY, and no stack trace in the log."""
    with structlog.testing.capture_logs() as logs:
        error = await _fail(centrum, token_mint, "pool_timeout")
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert detail(error, error_details_pb2.ErrorInfo).reason == "DATABASE_BUSY"
    assert detail(error, error_details_pb2.RetryInfo).retry_delay.ToMilliseconds() == 1000
    assert not [entry for entry in logs if entry.get("event") == "unexpected error"]


async def test_handler_abort_keeps_its_status(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """A handler that aborts through its context keeps the status it chose."""
    error = await _fail(centrum, token_mint, "abort")
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error.details() == "aborted by handler"


async def test_generic_validation_rejects_bad_page_size(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """page_size outside 0..1000 is INVALID_ARGUMENT with a field violation, before the handler."""
    async with channel(centrum) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).unary(bearer(token_mint.token()), message="x", page_size=-1)
    error = failure.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail(error, error_details_pb2.BadRequest).field_violations[0].field == "page_size"


async def test_one_log_line_per_call_with_its_outcome(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Each call writes one `rpc` line with method, code, duration, principal and request id."""
    with structlog.testing.capture_logs() as logs:
        async with channel(centrum) as ch:
            client = EchoClient(ch)
            await client.unary(
                (*bearer(token_mint.token(subject="bob")), ("x-request-id", "log-1")), message="x"
            )
            with pytest.raises(grpc.aio.AioRpcError):
                await client.unary(message="x")
    lines = [entry for entry in logs if entry["event"] == "rpc"]
    assert [line["code"] for line in lines] == ["OK", "UNAUTHENTICATED"]
    assert lines[0]["method"] == "/centrum_test.v1.EchoService/Echo"
    assert lines[0]["principal"] == "bob" and lines[0]["duration_ms"] >= 0


async def test_trace_context_from_the_caller_reaches_the_request_context(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A `traceparent` from the caller becomes the call's trace id in the logs."""
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    with structlog.testing.capture_logs() as logs:
        async with channel(centrum) as ch:
            await EchoClient(ch).unary(
                (
                    *bearer(token_mint.token()),
                    ("traceparent", f"00-{trace_id}-b7ad6b7169203331-01"),
                ),
                message="x",
            )
    assert any(entry.get("event") == "rpc" for entry in logs)
    await centrum.audit_pipeline.drain()
    events = await centrum.audit_log.events()
    assert events[-1].correlation.trace_id == trace_id


async def test_metrics_count_calls_by_method_and_code(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """The /metrics endpoint counts calls per method and code and exposes latency histograms."""
    port = free_port()
    app = await start_centrum(metrics_listen=f"127.0.0.1:{port}")
    async with channel(app) as ch:
        client = EchoClient(ch)
        await client.unary(bearer(token_mint.token()), message="x")
        with pytest.raises(grpc.aio.AioRpcError):
            await client.unary(message="x")
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    method = "/centrum_test.v1.EchoService/Echo"
    assert f'centrum_rpc_handled_total{{code="OK",method="{method}"}} 1.0' in text
    assert f'centrum_rpc_handled_total{{code="UNAUTHENTICATED",method="{method}"}} 1.0' in text
    assert f'centrum_rpc_duration_seconds_count{{method="{method}"}} 2.0' in text
    assert 'centrum_rate_limit_decisions_total{bucket="echo.unary",result="allowed"} 1.0' in text
