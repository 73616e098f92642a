"""RedisLimiter against real redis-servers: shared limits, over-limit cache, outages.

Tests that stop Redis use a dedicated server from ``private_redis``; the others use the shared
Redis with a key prefix owned by the test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from structlog.testing import capture_logs

from centrum.interceptors.ratelimit import (
    Decision,
    InProcessLimiter,
    Limiter,
    RateLimitRule,
    RedisLimiter,
)
from harness.backends import PrivateRedisFactory, RedisTarget

BACKEND_DOWN = "rate_limit_backend_down"
BACKEND_RECOVERED = "rate_limit_backend_recovered"


class FakeClock:
    """A clock in seconds that only moves when a test advances it."""

    def __init__(self, start: float = 1_000.0) -> None:
        """Start at ``start`` seconds."""
        self.now = start

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


def client(url: str) -> redis.asyncio.Redis:
    """A client that fails fast: short timeouts, no retries (the limiter has the fallback)."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
        retry=Retry(NoBackoff(), 0),
        max_connections=1_000,
    )


@asynccontextmanager
async def open_client(url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A fail-fast client closed on exit."""
    conn = client(url)
    try:
        yield conn
    finally:
        await conn.aclose()


async def evalsha_calls(conn: redis.asyncio.Redis) -> int:
    """How many EVALSHA commands the server has executed (from INFO commandstats)."""
    stats = await conn.info("commandstats")
    entry = stats.get("cmdstat_evalsha", {"calls": 0})
    return int(entry["calls"])


async def check_many(limiter: Limiter, rule: RateLimitRule, key: str, n: int) -> list[Decision]:
    """Check ``n`` calls one after the other and return their decisions."""
    return [await limiter.check(rule, key) for _ in range(n)]


async def test_redis_limiter_satisfies_the_limiter_protocol(redis_url: RedisTarget) -> None:
    """RedisLimiter is usable wherever the chain expects a Limiter (and is one itself)."""
    async with open_client(redis_url.url) as conn:
        limiter: Limiter = RedisLimiter(conn, fallback=InProcessLimiter())
        assert callable(limiter.check)


async def test_burst_then_rejection_with_positive_retry_after(redis_url: RedisTarget) -> None:
    """Redis admits exactly `burst` calls from a full bucket, counting `remaining` down, and
    rejects the next with a retry_after of at most one emission interval."""
    rule = RateLimitRule(bucket="login", per_minute=60, burst=5)
    async with open_client(redis_url.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix)
        admitted = await check_many(limiter, rule, "alice", 5)
        rejected = await limiter.check(rule, "alice")
    assert all(d.allowed and not d.over_limit and d.limit == 60 for d in admitted)
    assert [d.remaining for d in admitted] == [4, 3, 2, 1, 0]
    assert all(d.retry_after_s == 0 for d in admitted)
    assert not rejected.allowed
    assert rejected.over_limit
    assert rejected.remaining == 0
    assert 0.5 < rejected.retry_after_s <= 1.0
    assert 4.5 < rejected.reset_after_s <= 5.0


async def test_tat_key_expires_when_bucket_is_full_again(redis_url: RedisTarget) -> None:
    """The script stores the TAT under the documented key with a PEXPIRE of the reset time, so
    idle buckets leave nothing behind in Redis."""
    rule = RateLimitRule(bucket="search", per_minute=60, burst=3)
    async with open_client(redis_url.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix)
        await check_many(limiter, rule, "bob", 2)
        key = limiter.redis_key("search", "bob")
        assert key == redis_url.prefix + "search:bob"
        ttl_ms = await conn.pttl(key)
    assert 1_500 < ttl_ms <= 2_000


async def test_bucket_names_with_colons_do_not_collide(redis_url: RedisTarget) -> None:
    """(bucket "a:b", key "c") and (bucket "a", key "b:c") are different buckets in Redis."""
    async with open_client(redis_url.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix)
        first = RateLimitRule(bucket="a:b", per_minute=60, burst=1)
        second = RateLimitRule(bucket="a", per_minute=60, burst=1)
        assert (await limiter.check(first, "c")).allowed
        assert (await limiter.check(second, "b:c")).allowed
        assert limiter.redis_key("a:b", "c") != limiter.redis_key("a", "b:c")


async def test_rejected_key_is_admitted_again_after_retry_after(redis_url: RedisTarget) -> None:
    """Redis refills on its own clock: a rejected key is admitted again once retry_after has
    passed, and not before."""
    rule = RateLimitRule(bucket="fast", per_minute=3_000, burst=1)  # one call per 20 ms
    async with open_client(redis_url.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix)
        assert (await limiter.check(rule, "k")).allowed
        rejected_at = time.monotonic()
        rejected = await limiter.check(rule, "k")
        assert not rejected.allowed
        readmitted: list[Decision] = []

        async def poll() -> None:
            decision = await limiter.check(rule, "k")
            if decision.allowed:
                readmitted.append(decision)

        deadline = time.monotonic() + 5.0
        while not readmitted:
            assert time.monotonic() < deadline, "never admitted again"
            await poll()
            await asyncio.sleep(0.002)
    assert time.monotonic() - rejected_at >= rejected.retry_after_s - 0.002


async def test_shadow_rule_never_rejects(redis_url: RedisTarget) -> None:
    """A shadow rule in Redis is counted like an enforced one (over_limit after the burst,
    also from the over-limit cache) but every decision is allowed."""
    rule = RateLimitRule(bucket="shadow", per_minute=60, burst=3, shadow=True)
    async with open_client(redis_url.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix)
        decisions = await check_many(limiter, rule, "k", 20)
        concurrent = await asyncio.gather(*(limiter.check(rule, "other") for _ in range(50)))
    assert all(d.allowed for d in decisions)
    assert [d.over_limit for d in decisions] == [False] * 3 + [True] * 17
    assert all(d.allowed for d in concurrent)
    assert sum(not d.over_limit for d in concurrent) == 3


async def test_concurrent_checks_admit_exactly_burst(redis_url: RedisTarget) -> None:
    """200 concurrent checks through one client admit exactly `burst` (one atomic script call
    per decision; the rate of 1/min earns nothing more during the test)."""
    rule = RateLimitRule(bucket="hot", per_minute=1, burst=50)
    async with open_client(redis_url.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix)
        decisions = await asyncio.gather(*(limiter.check(rule, "k") for _ in range(200)))
    assert sum(d.allowed for d in decisions) == 50
    assert sum(d.over_limit for d in decisions) == 150


async def test_two_limiters_sharing_redis_enforce_one_global_limit(
    redis_url: RedisTarget,
) -> None:
    """Two RedisLimiters with separate clients (two replicas) share one bucket: together they
    admit at least `burst` and never more than burst + what the elapsed time earns."""
    rule = RateLimitRule(bucket="global", per_minute=600, burst=20)  # one call per 100 ms
    errors: list[BaseException] = []
    async with open_client(redis_url.url) as one, open_client(redis_url.url) as two:
        replicas = [
            RedisLimiter(
                conn,
                fallback=InProcessLimiter(),
                key_prefix=redis_url.prefix,
                on_backend_error=errors.append,
            )
            for conn in (one, two)
        ]
        started = time.monotonic()
        admitted = 0
        for _ in range(5):
            rounds = await asyncio.gather(*(replicas[i % 2].check(rule, "k") for i in range(200)))
            admitted += sum(d.allowed for d in rounds)
        elapsed = time.monotonic() - started
    assert errors == []
    assert rule.burst <= admitted <= rule.burst + int(elapsed / 0.1)


async def test_over_limit_cache_avoids_redis_round_trips(
    private_redis: PrivateRedisFactory,
) -> None:
    """Once Redis rejects a key, further checks are rejected locally (no EVALSHA reaches Redis)
    until retry_after has passed on the limiter's clock; then Redis is asked again."""
    server = private_redis()
    clock = FakeClock()
    rule = RateLimitRule(bucket="cached", per_minute=1, burst=2)
    async with open_client(server.url) as conn:
        limiter = RedisLimiter(conn, fallback=InProcessLimiter(), clock=clock)
        first = await check_many(limiter, rule, "k", 3)
        assert [d.allowed for d in first] == [True, True, False]
        calls_after_rejection = await evalsha_calls(conn)

        cached = await check_many(limiter, rule, "k", 100)
        assert all(not d.allowed and d.over_limit for d in cached)
        assert 0 < cached[-1].retry_after_s <= 60.0
        assert await evalsha_calls(conn) == calls_after_rejection

        clock.advance(cached[-1].retry_after_s)
        assert not (await limiter.check(rule, "k")).allowed  # Redis' clock has not moved
        assert await evalsha_calls(conn) == calls_after_rejection + 1


async def test_script_cache_loss_is_recovered_transparently(redis_url: RedisTarget) -> None:
    """After SCRIPT FLUSH (as after a Redis restart) the next decision reloads the script and
    succeeds from Redis, without touching the fallback."""
    errors: list[BaseException] = []
    rule = RateLimitRule(bucket="flush", per_minute=60, burst=2)
    async with open_client(redis_url.url) as conn:
        fallback = InProcessLimiter()
        limiter = RedisLimiter(
            conn, fallback=fallback, key_prefix=redis_url.prefix, on_backend_error=errors.append
        )
        assert (await limiter.check(rule, "k")).remaining == 1
        await conn.script_flush()
        after_flush = await asyncio.gather(*(limiter.check(rule, "k") for _ in range(3)))
    assert [d.allowed for d in after_flush].count(True) == 1
    assert errors == []
    assert len(fallback) == 0


async def test_fail_open_uses_fallback_while_redis_is_down(
    private_redis: PrivateRedisFactory,
) -> None:
    """With Redis stopped, a fail-open limiter decides with its in-process fallback (which
    enforces the rule), calls on_backend_error for each failed call, and logs the outage once."""
    server = private_redis()
    errors: list[BaseException] = []
    rule = RateLimitRule(bucket="open", per_minute=60, burst=3)
    fallback = InProcessLimiter(clock=FakeClock())
    async with open_client(server.url) as conn:
        limiter = RedisLimiter(conn, fallback=fallback, on_backend_error=errors.append)
        assert (await limiter.check(rule, "k")).allowed
        server.stop()
        with capture_logs() as logs:
            during = await check_many(limiter, rule, "k", 5)
    assert [d.allowed for d in during] == [True, True, True, False, False]
    assert len(fallback) == 1
    assert len(errors) == 5
    assert all(isinstance(e, redis.exceptions.ConnectionError | OSError) for e in errors)
    assert [entry["event"] for entry in logs if entry["event"].startswith("rate_limit")] == [
        BACKEND_DOWN
    ]
    assert next(e for e in logs if e["event"] == BACKEND_DOWN)["log_level"] == "warning"
    assert not limiter.backend_available


async def test_fail_closed_rejects_while_redis_is_down(
    private_redis: PrivateRedisFactory,
) -> None:
    """With Redis stopped, a fail-closed limiter rejects enforced rules with retry_after 1 s
    (shadow rules stay allowed but report over_limit) and never consults the fallback."""
    server = private_redis()
    errors: list[BaseException] = []
    fallback = InProcessLimiter()
    enforced = RateLimitRule(bucket="closed", per_minute=60, burst=100)
    shadow = RateLimitRule(bucket="closed-shadow", per_minute=60, burst=100, shadow=True)
    async with open_client(server.url) as conn:
        limiter = RedisLimiter(
            conn, fallback=fallback, fail_open=False, on_backend_error=errors.append
        )
        assert (await limiter.check(enforced, "k")).allowed
        server.stop()
        rejected = await check_many(limiter, enforced, "k", 3)
        shadowed = await limiter.check(shadow, "k")
    assert all(not d.allowed and d.over_limit and d.retry_after_s == 1.0 for d in rejected)
    assert shadowed.allowed and shadowed.over_limit
    assert len(errors) == 4
    assert len(fallback) == 0


async def test_recovers_when_redis_returns_without_new_limiter(
    private_redis: PrivateRedisFactory,
) -> None:
    """After Redis is restarted (empty, script cache lost), the same limiter decides from Redis
    again on its next call, logging exactly one outage line and one recovery line."""
    server = private_redis()
    errors: list[BaseException] = []
    rule = RateLimitRule(bucket="recover", per_minute=60, burst=2)
    fallback = InProcessLimiter(clock=FakeClock())
    async with open_client(server.url) as conn:
        limiter = RedisLimiter(conn, fallback=fallback, on_backend_error=errors.append)
        with capture_logs() as logs:
            server.stop()
            down = await check_many(limiter, rule, "k", 3)
            server.start()
            errors_before_recovery = len(errors)
            back = await check_many(limiter, rule, "k", 3)
        assert await evalsha_calls(conn) >= 2
        assert await conn.exists(limiter.redis_key("recover", "k")) == 1
    assert [d.allowed for d in down] == [True, True, False]  # from the fallback
    assert [d.allowed for d in back] == [True, True, False]  # a fresh Redis bucket
    assert len(errors) == errors_before_recovery == 3
    assert [entry["event"] for entry in logs if entry["event"].startswith("rate_limit")] == [
        BACKEND_DOWN,
        BACKEND_RECOVERED,
    ]
    assert limiter.backend_available


async def test_concurrent_calls_during_outage_log_once_and_stay_exact(
    private_redis: PrivateRedisFactory,
) -> None:
    """100 concurrent checks while Redis is down produce one outage log line and 100
    on_backend_error calls, and the fallback still admits exactly `burst`."""
    server = private_redis()
    errors: list[BaseException] = []
    rule = RateLimitRule(bucket="storm", per_minute=1, burst=7)
    fallback = InProcessLimiter(clock=FakeClock())
    async with open_client(server.url) as conn:
        limiter = RedisLimiter(conn, fallback=fallback, on_backend_error=errors.append)
        server.stop()
        with capture_logs() as logs:
            decisions = await asyncio.gather(*(limiter.check(rule, "k") for _ in range(100)))
    assert sum(d.allowed for d in decisions) == 7
    assert len(errors) == 100
    assert [entry["event"] for entry in logs if entry["event"].startswith("rate_limit")] == [
        BACKEND_DOWN
    ]


LEASE_TTL_S = 0.02


@asynccontextmanager
async def private_limiter(
    private_redis: PrivateRedisFactory,
) -> AsyncIterator[tuple[redis.asyncio.Redis, RedisLimiter, FakeClock]]:
    """A limiter on a Redis of its own (EVALSHA counts are its alone), timed by a fake clock."""
    server = private_redis()
    clock = FakeClock()
    async with open_client(server.url) as conn:
        yield conn, RedisLimiter(conn, fallback=InProcessLimiter(), clock=clock), clock


async def warm_up_demand(
    limiter: RedisLimiter, clock: FakeClock, rule: RateLimitRule, n: int
) -> None:
    """``n`` checks in one lease window, then the window closes: the key's demand is ``n``."""
    await check_many(limiter, rule, "k", n)
    clock.advance(LEASE_TTL_S * 1.5)


async def test_a_busy_key_leases_calls_and_admits_them_without_round_trips(
    private_redis: PrivateRedisFactory,
) -> None:
    """A key with 10 calls in the last lease window asks Redis for 10 calls more than it needs;
    the following calls spend that lease with no EVALSHA (one more goes out in the background
    to refill it), and `remaining` still counts down by one per call."""
    rule = RateLimitRule(bucket="lease", per_minute=60, burst=100)
    async with private_limiter(private_redis) as (conn, limiter, clock):
        await warm_up_demand(limiter, clock, rule, 10)
        before = await evalsha_calls(conn)
        decisions = await check_many(limiter, rule, "k", 11)
        await asyncio.sleep(0)  # let a background refill (if any) reach Redis
        round_trips = await evalsha_calls(conn) - before
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == list(range(89, 78, -1))
    assert 1 <= round_trips <= 2


async def test_leased_calls_are_void_after_the_lease_ttl(
    private_redis: PrivateRedisFactory,
) -> None:
    """Calls leased and not spent within lease_ttl are never admitted: the next call goes to
    Redis, which already counted the lost ones (the limit only gets stricter)."""
    rule = RateLimitRule(bucket="void", per_minute=1, burst=12)
    async with private_limiter(private_redis) as (conn, limiter, clock):
        await warm_up_demand(limiter, clock, rule, 4)
        leased = await limiter.check(rule, "k")  # asks for itself and a lease of 4
        clock.advance(LEASE_TTL_S * 3)  # the lease is void, and the key idle: no new lease
        before = await evalsha_calls(conn)
        after_ttl = await check_many(limiter, rule, "k", 4)
        round_trips = await evalsha_calls(conn) - before
    assert leased.allowed and leased.remaining == 7 - 4 + 4
    # Redis counted 4 + 5 of 12; the 4 leased ones expired unspent, so only 3 remain for these.
    assert [d.allowed for d in after_ttl] == [True, True, True, False]
    assert round_trips == 4


async def test_leases_of_two_replicas_never_exceed_one_global_limit(
    redis_url: RedisTarget,
) -> None:
    """Two replicas that both lease admit, together, exactly the burst of a bucket that earns
    nothing during the test: every leased call was counted in Redis when it was leased."""
    clock = FakeClock()
    rule = RateLimitRule(bucket="leased-global", per_minute=1, burst=40)
    async with open_client(redis_url.url) as one, open_client(redis_url.url) as two:
        replicas = [
            RedisLimiter(
                conn, fallback=InProcessLimiter(), key_prefix=redis_url.prefix, clock=clock
            )
            for conn in (one, two)
        ]
        for replica in replicas:
            await check_many(replica, rule, "k", 6)
        clock.advance(LEASE_TTL_S * 1.5)
        admitted = 12
        for _ in range(10):
            rounds = await asyncio.gather(*(replicas[i % 2].check(rule, "k") for i in range(20)))
            admitted += sum(d.allowed for d in rounds)
    assert admitted == rule.burst


async def test_calls_waiting_together_share_one_script_call(
    private_redis: PrivateRedisFactory,
) -> None:
    """100 concurrent checks of one key that Redis must decide cost one EVALSHA, not 100."""
    rule = RateLimitRule(bucket="together", per_minute=60, burst=1000)
    async with private_limiter(private_redis) as (conn, limiter, _):
        await limiter.check(rule, "other")  # loads the script
        before = await evalsha_calls(conn)
        decisions = await asyncio.gather(*(limiter.check(rule, "k") for _ in range(100)))
        assert await evalsha_calls(conn) == before + 1
    assert sorted(d.remaining for d in decisions) == list(range(900, 1000))
