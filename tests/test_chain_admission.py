"""Admission: a process refuses calls beyond `max_calls_in_progress` at once, with RetryInfo,
and admits again as soon as calls finish; response streams are not counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
        await asyncio.sleep(0.01)


def _hold(
    client: EchoClient, metadata: Any, words: list[str], release: asyncio.Event
) -> list[asyncio.Future[Any]]:
    """One ClientStream call per word, each kept in progress until `release` is set."""

    async def held(word: str) -> AsyncIterator[Any]:
        yield client.pb2.ClientStreamRequest(message=word)
        await release.wait()

    return [
        asyncio.ensure_future(client.stub.ClientStream(held(word), metadata=metadata))
        for word in words
    ]


async def test_calls_beyond_the_bound_are_refused_until_some_finish(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    app = await start_centrum(max_calls_in_progress=2)
    metadata = bearer(token_mint.token(subject="holder"))
    release = asyncio.Event()
    async with channel(app) as ch:
        client = EchoClient(ch)
        holders = _hold(client, metadata, ["first", "second"], release)
        refused = await _refused(client)
        info = detail(refused, error_details_pb2.ErrorInfo)
        assert info.reason == "SERVER_OVERLOADED" and info.metadata["limit"] == "2"
        retry = detail(refused, error_details_pb2.RetryInfo).retry_delay
        assert retry.seconds + retry.nanos / 1e9 > 0
        # A response stream is not counted: it is served while the bound is reached.
        assert await client.server_stream(metadata, count=2) == [0, 1]
        assert not any(holder.done() for holder in holders)

        release.set()
        assert [reply.joined for reply in await asyncio.gather(*holders)] == ["first", "second"]
        answered = await client.stub.PublicEcho(client.pb2.PublicEchoRequest(message="again"))
        assert answered.message == "again"


async def test_no_bound_when_set_to_zero(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    app = await start_centrum(max_calls_in_progress=0)
    metadata = bearer(token_mint.token(subject="many"))
    release = asyncio.Event()
    async with channel(app) as ch:
        client = EchoClient(ch)
        holders = _hold(client, metadata, ["w"] * 20, release)
        for _ in range(20):
            answered = await client.stub.PublicEcho(client.pb2.PublicEchoRequest(message="x"))
            assert answered.message == "x"
        release.set()
        assert [reply.joined for reply in await asyncio.gather(*holders)] == ["w"] * 20
