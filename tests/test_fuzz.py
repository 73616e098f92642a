"""Fuzzing every RPC of every service from its descriptor: no INTERNAL, no UNKNOWN, no crash.

Requests are derived from the contracts (tests/fuzzing.py) and sent by an admin principal to a
`centrum serve` subprocess on the embedded backends. Any status is acceptable except INTERNAL
and UNKNOWN, which would mean a caller's input broke the server; the server must answer health
checks afterwards. CENTRUM_FUZZ_EXAMPLES sets the examples per RPC (200 by default).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from fuzzing import messages
from google.protobuf import descriptor, message
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings

from centrum.server.catalog import descriptors_of
from centrum.server.settings import ALL_SERVICES
from harness.centrum import ServeProcess
from harness.echo_client import status_details
from harness.tokens import TokenMint

EXAMPLES = int(os.environ.get("CENTRUM_FUZZ_EXAMPLES", "200"))
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
METHODS = [m for service in descriptors_of(ALL_SERVICES) for m in service.methods]


@pytest.fixture(scope="module")
def fuzz_target(
    request: pytest.FixtureRequest, token_mint: TokenMint
) -> Iterator[tuple[grpc.Channel, tuple[tuple[str, str], ...]]]:
    """One server subprocess for the whole module, and an admin token's metadata."""
    start: Callable[..., ServeProcess] = request.getfixturevalue("serve_process_module")
    server = start(echo_service=True, jwks=[token_mint.jwk])
    token = token_mint.token(subject="fuzzer", tenant="fuzz", scopes=["*"], ttl_s=3600)
    channel = grpc.insecure_channel(
        server.target, options=[("grpc.max_send_message_length", 16 * 1024 * 1024)]
    )
    yield channel, (("authorization", f"Bearer {token}"),)
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING, (
        "the server is unwell after fuzzing"
    )
    channel.close()


def _invoke(
    channel: grpc.Channel,
    method: descriptor.MethodDescriptor,
    request: message.Message,
    metadata: tuple[tuple[str, str], ...],
) -> tuple[grpc.StatusCode, str]:
    """The status code the call ended with, and its message."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    serializer = type(request).SerializeToString
    deserializer: Any = lambda data: data  # noqa: E731 - responses are not inspected
    try:
        if method.client_streaming and method.server_streaming:
            call = channel.stream_stream(path, serializer, deserializer)
            for _ in call(iter([request]), metadata=metadata, timeout=2):
                pass
        elif method.client_streaming:
            channel.stream_unary(path, serializer, deserializer)(
                iter([request]), metadata=metadata, timeout=5
            )
        elif method.server_streaming:
            responses = channel.unary_stream(path, serializer, deserializer)(
                request, metadata=metadata, timeout=1
            )
            for count, _ in enumerate(responses):
                if count > 100:
                    responses.cancel()  # type: ignore[no-untyped-call]
                    break
        else:
            channel.unary_unary(path, serializer, deserializer)(
                request, metadata=metadata, timeout=5
            )
    except grpc.RpcError as exc:
        code: grpc.StatusCode = exc.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and method.server_streaming:
            return grpc.StatusCode.OK, ""  # watch-style streams run until cancelled
        ids = [
            d.metadata["error_id"]
            for d in status_details(exc)  # type: ignore[arg-type]
            if isinstance(d, error_details_pb2.ErrorInfo) and "error_id" in d.metadata
        ]
        return code, f"{exc.details()}; error id {ids[0] if ids else '-'}"
    return grpc.StatusCode.OK, ""


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.full_name)
def test_rpc_survives_fuzzed_requests(
    fuzz_target: tuple[grpc.Channel, tuple[tuple[str, str], ...]],
    method: descriptor.MethodDescriptor,
) -> None:
    """Random, boundary and malformed requests never produce INTERNAL or UNKNOWN."""
    channel, metadata = fuzz_target

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=messages(method.input_type))
    def check(request: message.Message) -> None:
        code, details = _invoke(channel, method, request, metadata)
        # An INTERNAL's error id finds its stack trace in the server's log.
        assert code not in FORBIDDEN, (
            f"{method.full_name} answered {code.name} ({details}) to {request}"
        )

    check()


def test_oversized_message_is_refused_cleanly(
    fuzz_target: tuple[grpc.Channel, tuple[tuple[str, str], ...]],
) -> None:
    """A request above the server's message limit is RESOURCE_EXHAUSTED, not a crash."""
    from centrum.config.v1 import config_service_pb2

    channel, metadata = fuzz_target
    method = config_service_pb2.DESCRIPTOR.services_by_name["ConfigService"].methods_by_name[
        "SetValue"
    ]
    request = config_service_pb2.SetValueRequest(key="big", description="x" * (9 * 1024 * 1024))
    assert _invoke(channel, method, request, metadata)[0] == grpc.StatusCode.RESOURCE_EXHAUSTED
