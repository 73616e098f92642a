"""InProcessLimiter and the GCRA arithmetic it shares with RedisLimiter (fake clock, no I/O)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrum.interceptors.ratelimit import Decision, InProcessLimiter, Limiter, RateLimitRule
from centrum.interceptors.ratelimit._gcra import emission_interval_us, read_verdict, step, take


class FakeClock:
    """A monotonic clock in seconds that only moves when a test advances it."""

    def __init__(self, start: float = 1_000.0) -> None:
        """Start at ``start`` seconds."""
        self.now = start

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock."""
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> InProcessLimiter:
    """An in-process limiter reading the fake clock."""
    return InProcessLimiter(clock=clock)


async def check_many(limiter: Limiter, rule: RateLimitRule, key: str, n: int) -> list[Decision]:
    """Check ``n`` calls one after the other and return their decisions."""
    return [await limiter.check(rule, key) for _ in range(n)]


def test_in_process_limiter_satisfies_the_limiter_protocol(limiter: InProcessLimiter) -> None:
    """InProcessLimiter is usable wherever the chain expects a Limiter."""
    as_protocol: Limiter = limiter
    assert callable(as_protocol.check)


async def test_full_bucket_admits_burst_then_rejects_with_positive_retry_after(
    limiter: InProcessLimiter,
) -> None:
    """A full bucket admits exactly `burst` calls at once; the next is rejected with the time
    until one call is admissible again (one emission interval), and figures count down."""
    rule = RateLimitRule(bucket="b", per_minute=60, burst=5)
    admitted = await check_many(limiter, rule, "k", 5)
    assert all(d.allowed and not d.over_limit for d in admitted)
    assert [d.remaining for d in admitted] == [4, 3, 2, 1, 0]
    assert [d.reset_after_s for d in admitted] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(d.retry_after_s == 0 and d.limit == 60 for d in admitted)

    rejected = await limiter.check(rule, "k")
    assert not rejected.allowed
    assert rejected.over_limit
    assert rejected.remaining == 0
    assert rejected.retry_after_s == pytest.approx(1.0)
    assert rejected.reset_after_s == pytest.approx(5.0)


async def test_refills_one_call_per_emission_interval(
    limiter: InProcessLimiter, clock: FakeClock
) -> None:
    """After the clock advances by one interval (60 s / per_minute) exactly one more call is
    admitted; just before that instant none is."""
    rule = RateLimitRule(bucket="b", per_minute=120, burst=2)
    await check_many(limiter, rule, "k", 2)
    clock.advance(0.499)
    early = await limiter.check(rule, "k")
    assert not early.allowed
    assert early.retry_after_s == pytest.approx(0.001)
    clock.advance(0.001)
    assert (await limiter.check(rule, "k")).allowed
    assert not (await limiter.check(rule, "k")).allowed


async def test_bucket_is_full_again_after_reset_after(
    limiter: InProcessLimiter, clock: FakeClock
) -> None:
    """Once `reset_after_s` has elapsed, a whole burst is admissible again."""
    rule = RateLimitRule(bucket="b", per_minute=60, burst=3)
    last = (await check_many(limiter, rule, "k", 3))[-1]
    clock.advance(last.reset_after_s)
    again = await check_many(limiter, rule, "k", 4)
    assert [d.allowed for d in again] == [True, True, True, False]


async def test_rejected_calls_do_not_consume_capacity(
    limiter: InProcessLimiter, clock: FakeClock
) -> None:
    """Hammering a bucket over its limit does not postpone its refill (GCRA leaves the TAT
    unchanged on rejection, which the Redis over-limit cache relies on)."""
    rule = RateLimitRule(bucket="b", per_minute=60, burst=1)
    assert (await limiter.check(rule, "k")).allowed
    rejected = await check_many(limiter, rule, "k", 50)
    assert not any(d.allowed for d in rejected)
    clock.advance(1.0)
    assert (await limiter.check(rule, "k")).allowed


async def test_shadow_rule_never_rejects_but_reports_over_limit(
    limiter: InProcessLimiter, clock: FakeClock
) -> None:
    """A shadow rule is counted like an enforced one (same over_limit verdicts and refill) but
    every decision is allowed."""
    shadow = RateLimitRule(bucket="b", per_minute=60, burst=2, shadow=True)
    decisions = await check_many(limiter, shadow, "k", 10)
    assert all(d.allowed for d in decisions)
    assert [d.over_limit for d in decisions] == [False] * 2 + [True] * 8
    assert decisions[-1].retry_after_s == pytest.approx(1.0)
    clock.advance(1.0)
    refilled = await check_many(limiter, shadow, "k", 2)
    assert [d.over_limit for d in refilled] == [False, True]


async def test_concurrent_checks_admit_exactly_burst(limiter: InProcessLimiter) -> None:
    """200 concurrent checks on one key admit exactly `burst`, no more and no fewer."""
    rule = RateLimitRule(bucket="b", per_minute=60, burst=37)
    decisions = await asyncio.gather(*(limiter.check(rule, "k") for _ in range(200)))
    assert sum(d.allowed for d in decisions) == 37
    assert sum(d.over_limit for d in decisions) == 163


async def test_buckets_and_keys_are_limited_independently(limiter: InProcessLimiter) -> None:
    """Exhausting one (bucket, key) leaves other keys of the bucket and other buckets full."""
    login = RateLimitRule(bucket="login", per_minute=60, burst=1)
    search = RateLimitRule(bucket="search", per_minute=60, burst=1)
    assert (await limiter.check(login, "alice")).allowed
    assert not (await limiter.check(login, "alice")).allowed
    assert (await limiter.check(login, "bob")).allowed
    assert (await limiter.check(search, "alice")).allowed


async def test_full_buckets_are_swept_so_memory_stays_bounded(
    limiter: InProcessLimiter, clock: FakeClock
) -> None:
    """Buckets that are full again are dropped by the amortised sweep: after many one-off keys
    have refilled, the table holds only the keys still in use."""
    rule = RateLimitRule(bucket="b", per_minute=60, burst=5)
    for i in range(5_000):
        await limiter.check(rule, f"one-off-{i}")
    assert len(limiter) == 5_000
    clock.advance(1.0)  # every one-off bucket is full again
    for _ in range(5_000):
        await limiter.check(rule, "steady")
    assert len(limiter) == 1


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (-5, 1), (60, 0), (60, -1)])
def test_rule_rejects_limits_that_admit_nothing(per_minute: int, burst: int) -> None:
    """A rule needs a positive rate and a burst of at least one call."""
    with pytest.raises(ValueError, match="must be >= 1"):
        RateLimitRule(bucket="b", per_minute=per_minute, burst=burst)


def test_emission_interval_rounds_up_to_whole_microseconds() -> None:
    """The interval is exact when 60 s divides evenly and rounded up (stricter) otherwise."""
    assert emission_interval_us(60) == 1_000_000
    assert emission_interval_us(7) == 8_571_429
    assert emission_interval_us(60_000_000) == 1
    assert emission_interval_us(100_000_000) == 1


@settings(max_examples=200, deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=6_000),
    burst=st.integers(min_value=1, max_value=20),
    gaps_us=st.lists(st.integers(min_value=0, max_value=200_000), min_size=1, max_size=120),
)
def test_no_window_admits_more_than_burst_plus_refill(
    per_minute: int, burst: int, gaps_us: list[int]
) -> None:
    """For any arrival pattern, every window [t0, t1] admits at most
    burst + floor((t1 - t0) / T) calls; a call on a full bucket is always admitted; a rejection
    leaves the TAT alone and its retry_after is exactly when the next call would be admitted."""
    interval = emission_interval_us(per_minute)
    tat: int | None = None
    now = 10**15
    admitted: list[int] = []
    for gap in gaps_us:
        now += gap
        full = tat is None or tat <= now
        new_tat, verdict = step(tat, now, interval, burst)
        outcome = read_verdict(verdict, interval, burst)
        assert outcome.conforming or not full
        if outcome.conforming:
            assert 0 <= outcome.remaining < burst
            tat = new_tat
            admitted.append(now)
        else:
            assert new_tat == tat
            assert outcome.retry_after_us > 0
            assert not read_verdict(
                step(tat, now + outcome.retry_after_us - 1, interval, burst)[1], interval, burst
            ).conforming
            assert read_verdict(
                step(tat, now + outcome.retry_after_us, interval, burst)[1], interval, burst
            ).conforming
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= burst + (admitted[j] - start) // interval


@settings(max_examples=300, deadline=None)
@given(
    per_minute=st.integers(min_value=1, max_value=6_000_000),
    burst=st.integers(min_value=1, max_value=50),
    backlog_us=st.integers(min_value=-(10**8), max_value=10**8),
    wanted=st.integers(min_value=1, max_value=60),
)
def test_take_admits_what_as_many_steps_at_once_would(
    per_minute: int, burst: int, backlog_us: int, wanted: int
) -> None:
    """`take(..., n)` (the arithmetic of the Redis script and its leases) leaves the same TAT and
    verdict as n consecutive `step` calls at the same instant, and admits as many of them."""
    interval = emission_interval_us(per_minute)
    now = 10**15
    tat: int | None = now + backlog_us
    stepped, admitted, last_verdict = tat, 0, 0
    for _ in range(wanted):
        new_tat, verdict = step(stepped, now, interval, burst)
        if verdict < 0:
            last_verdict = last_verdict if admitted else verdict
            break
        stepped, admitted, last_verdict = new_tat, admitted + 1, verdict
    taken_tat, taken_verdict, granted = take(tat, now, interval, burst, wanted)
    assert granted == admitted
    assert taken_verdict == last_verdict
    if admitted:
        assert taken_tat == stepped
