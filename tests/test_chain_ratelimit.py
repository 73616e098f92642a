"""Rate limits in the chain: burst then RetryInfo, one global limit, Redis outages, shadow mode."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from centrum.server import CentrumApp
from harness.backends import PrivateRedisFactory, RedisTarget
from harness.centrum import StartCentrum, bearer, channel
from harness.echo_client import EchoClient, detail
from harness.tokens import TokenMint


async def _admitted(
    app: CentrumApp, token: str, calls: int
) -> tuple[int, list[grpc.aio.AioRpcError]]:
    async with channel(app) as ch:
        client = EchoClient(ch)
        results = await asyncio.gather(
            *(client.unary(bearer(token), message="x") for _ in range(calls)),
            return_exceptions=True,
        )
    rejected = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert all(r.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for r in rejected), rejected
    return calls - len(rejected), rejected


async def test_burst_then_rejection_with_retry_info(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Echo admits a burst of 5 per principal; the next is RESOURCE_EXHAUSTED with RetryInfo."""
    admitted, rejected = await _admitted(centrum, token_mint.token(subject="burst"), 8)
    assert admitted == 5
    error = rejected[0]
    retry = detail(error, error_details_pb2.RetryInfo).retry_delay
    assert retry.seconds + retry.nanos / 1e9 > 0
    metadata: Any = error.trailing_metadata() or ()
    headers = dict(metadata)
    assert int(headers["retry-after"]) >= 1
    assert headers["ratelimit-limit"] == "60" and headers["ratelimit-remaining"] == "0"
    assert int(headers["ratelimit-reset"]) >= 1
    assert detail(error, error_details_pb2.ErrorInfo).metadata["bucket"] == "echo.unary"


async def test_limits_are_per_principal(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """Another principal has a budget of its own."""
    assert (await _admitted(centrum, token_mint.token(subject="p1"), 6))[0] == 5
    assert (await _admitted(centrum, token_mint.token(subject="p2"), 6))[0] == 5


async def test_operator_override_changes_the_contract_default(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A per-bucket override in settings replaces the burst the contract declares."""
    app = await start_centrum(rate_limits={"echo.unary": {"burst": 2}})
    assert (await _admitted(app, token_mint.token(subject="override"), 5))[0] == 2


async def test_shadow_mode_counts_but_never_rejects(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """With the bucket in shadow mode every call passes and the excess is counted."""
    app = await start_centrum(rate_limits={"echo.unary": {"shadow": True}})
    assert (await _admitted(app, token_mint.token(subject="shadow"), 9))[0] == 9
    samples = {
        s.labels["result"]: s.value
        for metric in app.metrics.rate_limit_decisions.collect()
        for s in metric.samples
        if s.name.endswith("_total")
    }
    assert samples["shadow_rejected"] == 4 and samples["allowed"] == 5


async def test_two_servers_sharing_redis_enforce_one_global_limit(
    start_centrum: StartCentrum, token_mint: TokenMint, redis_url: RedisTarget
) -> None:
    """Calls spread over two replicas admit no more than the burst, globally."""
    a = await start_centrum(redis_url=redis_url.url)
    b = await start_centrum(redis_url=redis_url.url)
    token = token_mint.token(subject=f"global-{redis_url.prefix}")
    started = time.monotonic()
    results = await asyncio.gather(_admitted(a, token, 10), _admitted(b, token, 10))
    refills = int(time.monotonic() - started) + 1  # Echo earns one call per second
    admitted = sum(count for count, _ in results)
    assert 5 <= admitted <= 5 + refills


@pytest.mark.parametrize("fail_open", [True, False])
async def test_redis_outage_follows_the_fail_mode_then_recovers(
    start_centrum: StartCentrum,
    token_mint: TokenMint,
    private_redis: PrivateRedisFactory,
    fail_open: bool,
) -> None:
    """Redis down: fail-open admits by the in-process limiter, fail-closed rejects; both recover."""
    redis = private_redis()
    app = await start_centrum(redis_url=redis.url, rate_limit_fail_open=fail_open)
    assert (await _admitted(app, token_mint.token(subject="before"), 1))[0] == 1
    redis.stop()
    admitted, _ = await _admitted(app, token_mint.token(subject="during"), 7)
    assert admitted == (5 if fail_open else 0)
    errors = sum(
        s.value
        for m in app.metrics.backend_errors.collect()
        for s in m.samples
        if s.name.endswith("_total") and s.labels["backend"] == "redis"
    )
    assert errors >= 1
    redis.start()
    await _until_decided_by_redis(app, token_mint, redis.url)
    assert (await _admitted(app, token_mint.token(subject="after"), 7))[0] == 5


async def _until_decided_by_redis(app: CentrumApp, token_mint: TokenMint, url: str) -> None:
    """Polls with warm-up calls until one of them leaves its bucket in Redis."""
    import redis as redis_sync

    client = redis_sync.Redis.from_url(url)
    deadline = asyncio.get_running_loop().time() + 15
    attempt = 0
    while not any(client.scan_iter(match="*warmup*")):
        assert asyncio.get_running_loop().time() < deadline, "the limiter never went back to Redis"
        attempt += 1
        await _admitted(app, token_mint.token(subject=f"warmup-{attempt}"), 1)
    client.close()
