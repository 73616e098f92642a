"""The SDK's client layer: parsed errors, client-credentials tokens, contract-driven retries."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import grpc
import pytest
from google.protobuf import duration_pb2

from centrum.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from centrum.sdk import aio, connect
from centrum.sdk.errors import CentrumError, FieldViolation
from centrum.sdk.policy import service_config
from centrum.sdk.tokens import AsyncTokenSource, ClientCredentials
from centrum.server import CentrumApp
from harness.centrum import ServeProcess
from harness.tokens import TokenMint
from support import echo


async def test_failed_calls_raise_one_parsed_error(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A caller mistake surfaces as CentrumError with its reason and field violations."""
    pb2, pb2_grpc = echo.modules()
    async with aio.connect(f"127.0.0.1:{centrum.port}", token=token_mint.token()) as client:
        stub = pb2_grpc.EchoServiceStub(client.channel)
        with pytest.raises(CentrumError) as failure:
            await stub.Fail(pb2.FailRequest(kind="invalid"))
    error = failure.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, error.domain) == ("BAD_KIND", "centrum.dev")
    assert list(error.field_violations) == [FieldViolation("kind", "bad")]
    assert isinstance(error, grpc.RpcError) and not error.retryable


async def test_rate_limit_errors_carry_retry_after(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """RESOURCE_EXHAUSTED parses to a retryable CentrumError with retry_after in seconds."""
    pb2, pb2_grpc = echo.modules()
    async with aio.connect(
        f"127.0.0.1:{centrum.port}", token=token_mint.token(subject="rl")
    ) as client:
        stub = pb2_grpc.EchoServiceStub(client.channel)
        with pytest.raises(CentrumError) as failure:
            for _ in range(10):
                await stub.Echo(pb2.EchoRequest(message="x"))
    assert failure.value.retryable and (failure.value.retry_after or 0) > 0
    assert failure.value.metadata["bucket"] == "echo.unary"


class CountingAuth(auth_service_pb2_grpc.AuthServiceServicer):
    """An AuthService that only issues tokens and counts how often it was asked."""

    def __init__(self) -> None:
        self.issued = 0

    async def Token(
        self, request: auth_service_pb2.TokenRequest, context: object
    ) -> auth_service_pb2.TokenResponse:
        self.issued += 1
        response = auth_service_pb2.TokenResponse()
        response.tokens.access_token = f"token-{self.issued}"
        response.tokens.expires_in.CopyFrom(duration_pb2.Duration(seconds=900))
        return response


async def test_concurrent_callers_across_an_expiry_cause_one_token_request() -> None:
    """200 concurrent callers that all find the token expired share exactly one Token call."""
    auth = CountingAuth()  # type: ignore[abstract]
    server = grpc.aio.server()
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(auth, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    now = [0.0]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            source = AsyncTokenSource(
                ClientCredentials("svc", "s3cret"),
                auth_service_pb2_grpc.AuthServiceStub(channel).Token,
                clock=lambda: now[0],
            )
            assert await source.token() == "token-1"
            now[0] += 3600  # far past renewal
            tokens = await asyncio.gather(*(source.token() for _ in range(200)))
    finally:
        await server.stop(0)
    assert set(tokens) == {"token-2"}
    assert auth.issued == 2 and source.fetches == 2


def test_client_credentials_repr_hides_the_secret() -> None:
    """Printing credentials never shows the client secret."""
    assert "s3cret" not in repr(ClientCredentials("svc", "s3cret"))


def test_service_config_retries_only_idempotent_rpcs() -> None:
    """Idempotent RPCs wait for readiness and retry UNAVAILABLE; the others do neither."""
    import json

    config = json.loads(service_config([echo.descriptor()]))
    by_method = {c["name"][0]["method"]: c for c in config["methodConfig"]}
    assert by_method["Echo"]["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert by_method["Echo"]["waitForReady"] is True
    assert (
        "retryPolicy" not in by_method["PublicEcho"]
        and "waitForReady" not in by_method["PublicEcho"]
    )


def test_restart_is_ridden_through_for_idempotent_calls_only(
    serve_process: Callable[..., ServeProcess], token_mint: TokenMint
) -> None:
    """While the server restarts, an idempotent call waits and succeeds; a non-idempotent one
    fails fast with UNAVAILABLE and is not repeated."""
    pb2, pb2_grpc = echo.modules()
    first = serve_process(echo_service=True, jwks=[token_mint.jwk])
    client = connect(
        first.target, token=token_mint.token(subject="restart"), services=[echo.descriptor()]
    )
    stub = pb2_grpc.EchoServiceStub(client.channel)
    assert stub.Echo(pb2.EchoRequest(message="before"), timeout=10).message == "before"
    first.process.stop()

    with pytest.raises(CentrumError) as failure:
        stub.PublicEcho(pb2.PublicEchoRequest(message="while down"), timeout=10)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE

    answered: dict[str, str] = {}

    def idempotent_call() -> None:
        answered["echo"] = stub.Echo(pb2.EchoRequest(message="during"), timeout=60).message

    caller = threading.Thread(target=idempotent_call)
    caller.start()
    serve_process(
        echo_service=True, jwks=[token_mint.jwk], port=first.port, data_dir=first.data_dir
    )
    caller.join(timeout=60)
    client.close()
    assert answered == {"echo": "during"}


async def test_every_call_shape_carries_the_credential(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """The asyncio client authenticates unary and streaming calls alike."""
    from harness.echo_client import SHAPES, EchoClient

    async with aio.connect(f"127.0.0.1:{centrum.port}", token=token_mint.token()) as client:
        results = [await EchoClient(client.channel).shape(shape) for shape in SHAPES]
    assert results[1:] == [[0, 1, 2], "a b", ["A", "B"]]


def test_sync_streaming_calls_carry_the_credential(
    serve_process: Callable[..., ServeProcess], token_mint: TokenMint
) -> None:
    """The synchronous client authenticates a server stream too, and a refused stream raises
    CentrumError while it is read, like a refused unary call."""
    pb2, pb2_grpc = echo.modules()
    server = serve_process(echo_service=True, jwks=[token_mint.jwk])
    request = pb2.ServerStreamRequest(count=3)
    with connect(server.target, token=token_mint.token()) as client:
        stub = pb2_grpc.EchoServiceStub(client.channel)
        indices = [m.index for m in stub.ServerStream(request, timeout=10)]
    assert indices == [0, 1, 2]
    with connect(server.target) as anonymous, pytest.raises(CentrumError) as refused:
        list(pb2_grpc.EchoServiceStub(anonymous.channel).ServerStream(request, timeout=10))
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.reason == "CREDENTIAL_MISSING"


async def test_a_refused_token_request_raises_one_parsed_error(centrum: CentrumApp) -> None:
    """Wrong client credentials surface as CentrumError UNAUTHENTICATED from either client."""
    from centrum.config.v1 import config_service_pb2

    target = f"127.0.0.1:{centrum.port}"
    wrong = ClientCredentials(client_id="sa_missing", client_secret="not-the-secret")
    request = config_service_pb2.GetValueRequest(environment="production", key="k")
    async with aio.connect(target, client_credentials=wrong) as client:
        with pytest.raises(CentrumError) as refused_async:
            await client.config.GetValue(request)
    with (
        connect(target, client_credentials=wrong) as sync_client,
        pytest.raises(CentrumError) as refused_sync,
    ):
        await asyncio.to_thread(sync_client.config.GetValue, request)
    for refused in (refused_async, refused_sync):
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_tokens_are_requested_from_the_token_target(centrum: CentrumApp) -> None:
    """With `token_target`, both clients ask that address for tokens, not the call's target:
    an unreachable token target fails the call as UNAVAILABLE although the target answers."""
    from centrum.config.v1 import config_service_pb2

    target = f"127.0.0.1:{centrum.port}"
    credentials = ClientCredentials(client_id="sa_missing", client_secret="not-the-secret")
    request = config_service_pb2.GetValueRequest(environment="production", key="k")
    unreachable = "127.0.0.1:1"
    async with aio.connect(
        target, client_credentials=credentials, token_target=unreachable, retries=False
    ) as client:
        with pytest.raises(CentrumError) as failed_async:
            await client.config.GetValue(request, timeout=5)
    with (
        connect(
            target, client_credentials=credentials, token_target=unreachable, retries=False
        ) as sync_client,
        pytest.raises(CentrumError) as failed_sync,
    ):
        await asyncio.to_thread(sync_client.config.GetValue, request, timeout=5)
    for failed in (failed_async, failed_sync):
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
