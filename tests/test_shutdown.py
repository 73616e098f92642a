"""Graceful shutdown: SIGTERM stops new calls and lets in-flight ones finish within the grace."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import grpc

from harness.centrum import ServeProcess
from harness.tokens import TokenMint
from support import echo


def test_sigterm_lets_a_long_stream_finish_then_exits_zero(
    serve_process: Callable[..., ServeProcess], token_mint: TokenMint
) -> None:
    """A 2-second server stream started before SIGTERM delivers every message; exit code 0."""
    pb2, pb2_grpc = echo.modules()
    server = serve_process(echo_service=True, jwks=[token_mint.jwk])
    received: list[int] = []
    first = threading.Event()
    outcome: dict[str, object] = {}

    def consume() -> None:
        with grpc.insecure_channel(server.target) as ch:
            stub = pb2_grpc.EchoServiceStub(ch)
            try:
                for message in stub.ServerStream(
                    pb2.ServerStreamRequest(count=20, delay_ms=100),
                    metadata=(("authorization", f"Bearer {token_mint.token()}"),),
                    timeout=30,
                ):
                    received.append(message.index)
                    first.set()
                outcome["code"] = grpc.StatusCode.OK
            except grpc.RpcError as exc:
                outcome["code"] = exc.code()
            first.set()

    thread = threading.Thread(target=consume)
    thread.start()
    assert first.wait(timeout=15), "the stream never started"
    server.process.popen.send_signal(signal.SIGTERM)
    thread.join(timeout=30)
    assert outcome.get("code") == grpc.StatusCode.OK
    assert received == list(range(20))
    assert server.process.popen.wait(timeout=30) == 0
