"""Admission: a process refuses calls beyond `max_calls_in_progress` at once, with RetryInfo,
and admits again as soon as calls finish; response streams are not counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.rpc import error_details_pb2

from harness.centrum import StartCentrum, bearer, channel
from harness.echo_client import EchoClient, detail
from harness.tokens import TokenMint

DEADLINE_S = 20.0


async def _refused(client: EchoClient) -> grpc.aio.AioRpcError:
    """Calls PublicEcho until the server refuses one as overloaded (failing at the deadline)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while True:
        try:
            await client.stub.PublicEcho(client.pb2.PublicEchoRequest(message="x"))
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
            return error
        assert asyncio.get_running_loop().time() < deadline, "no call was refused"


@dataclass
class _Held:
    """A server with a bound, a client of it, and client streams kept in progress."""

    client: EchoClient
    metadata: Any
    calls: list[asyncio.Future[Any]]
    release: asyncio.Event

    async def finish(self) -> list[str]:
        """Lets the held calls end; what each answered."""
        self.release.set()
        return [reply.joined for reply in await asyncio.gather(*self.calls)]


@asynccontextmanager
async def _holding(
    start_centrum: StartCentrum, token_mint: TokenMint, bound: int, words: list[str]
) -> AsyncIterator[_Held]:
    """Starts a server with `max_calls_in_progress=bound` and one ClientStream call per word,
    each kept in progress until the caller finishes them."""
    app = await start_centrum(max_calls_in_progress=bound)
    metadata = bearer(token_mint.token(subject="holder"))
    release = asyncio.Event()
    async with channel(app) as ch:
        client = EchoClient(ch)

        async def held(word: str) -> AsyncIterator[Any]:
            yield client.pb2.ClientStreamRequest(message=word)
            await release.wait()

        calls = [
            asyncio.ensure_future(client.stub.ClientStream(held(word), metadata=metadata))
            for word in words
        ]
        yield _Held(client, metadata, calls, release)


async def test_calls_beyond_the_bound_are_refused_until_some_finish(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    async with _holding(start_centrum, token_mint, 2, ["first", "second"]) as held:
        client = held.client
        refused = await _refused(client)
        info = detail(refused, error_details_pb2.ErrorInfo)
        assert info.reason == "SERVER_OVERLOADED" and info.metadata["limit"] == "2"
        retry = detail(refused, error_details_pb2.RetryInfo).retry_delay
        assert retry.seconds + retry.nanos / 1e9 > 0
        # A response stream is not counted: it is served while the bound is reached.
        assert await client.server_stream(held.metadata, count=2) == [0, 1]
        assert not any(call.done() for call in held.calls)

        assert await held.finish() == ["first", "second"]
        answered = await client.stub.PublicEcho(client.pb2.PublicEchoRequest(message="again"))
        assert answered.message == "again"


async def test_no_bound_when_set_to_zero(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    async with _holding(start_centrum, token_mint, 0, ["w"] * 20) as held:
        for _ in range(20):
            answered = await held.client.stub.PublicEcho(
                held.client.pb2.PublicEchoRequest(message="x")
            )
            assert answered.message == "x"
        assert await held.finish() == ["w"] * 20
