"""The generic cell rate algorithm (GCRA), as pure integer arithmetic on microseconds.

Both limiters run this exact arithmetic: :class:`~._memory.InProcessLimiter` in Python and
:class:`~._redis.RedisLimiter` in the Lua script :data:`LUA_SCRIPT`, which mirrors :func:`take`
line for line (:func:`step` is ``take`` for one call). Nothing here reads a clock; callers
pass ``now``. The public vocabulary (:class:`RateLimitRule`, :class:`Decision`,
:class:`Limiter`) is defined here too, so that both backends share it without importing each
other.

A bucket is one number, its *theoretical arrival time* (TAT): the instant at which the bucket
would be full again if no more calls arrived. Every admitted call pushes the TAT one emission
interval ``T = 60 s / per_minute`` into the future; a call is admitted when the pushed TAT lies
at most ``burst * T`` ahead of now. Hence a full bucket admits ``burst`` calls at once, and any
window of length ``e`` admits at most ``burst + floor(e / T)`` calls. A rejected call leaves
the TAT unchanged, which is why a rejection stays valid until ``retry_after`` has passed (the
over-limit cache in front of Redis relies on it).

Time is integer microseconds so that sums are exact in Python and in Redis' Lua (whose numbers
are doubles, exact up to 2**53 µs, i.e. about 285 years). ``T`` is rounded *up* to a whole
microsecond, so rounding can only make a limit a hair stricter, never looser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MICROS_PER_SECOND = 1_000_000
MICROS_PER_MINUTE = 60 * MICROS_PER_SECOND


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    """RateLimitRule is the limit one bucket enforces on each of its keys.

    ``burst`` is how many calls a full bucket admits at once; afterwards calls are admitted at
    ``per_minute``. A ``shadow`` rule is counted and reported exactly like an enforced one, but
    its decisions never reject.
    """

    bucket: str
    per_minute: int
    burst: int
    shadow: bool = False

    def __post_init__(self) -> None:
        """Reject limits the algorithm cannot honour (no rate, or a bucket admitting nothing)."""
        if self.per_minute < 1:
            raise ValueError(f"per_minute must be >= 1, got {self.per_minute}")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst}")


@dataclass(frozen=True, slots=True)
class Decision:
    """Decision is a limiter's answer for one call, with the figures for the response headers.

    ``allowed`` is False only when the call is over the limit and the rule is not shadow.
    ``over_limit`` tells the truth in shadow mode too. ``remaining`` is how many more calls
    would be admitted right now, ``reset_after_s`` the time until the bucket is full again, and
    ``retry_after_s`` the time until one call would be admitted (0 unless ``over_limit``).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after_s: float
    retry_after_s: float
    over_limit: bool


class Limiter(Protocol):
    """Limiter decides whether one call on ``key`` fits ``rule``, and records it if it does."""

    async def check(self, rule: RateLimitRule, key: str) -> Decision:
        """Return the decision for one call on (``rule.bucket``, ``key``) happening now."""
        ...


def emission_interval_us(per_minute: int) -> int:
    """Return ``T``: microseconds between two calls at the sustained rate, rounded up."""
    if per_minute < 1:
        raise ValueError(f"per_minute must be >= 1, got {per_minute}")
    return -(-MICROS_PER_MINUTE // per_minute)


def to_micros(seconds: float) -> int:
    """Convert a clock reading in seconds to whole microseconds (floor)."""
    return int(seconds * MICROS_PER_SECOND)


def step(tat_us: int | None, now_us: int, interval_us: int, burst: int) -> tuple[int, int]:
    """Run one GCRA step for a call at ``now_us`` on a bucket whose stored TAT is ``tat_us``.

    ``tat_us`` is ``None`` for a bucket never seen (or expired), which is a full bucket;
    ``burst`` (>= 1) is how many calls a full bucket admits at once. Returns the TAT to store
    and the *verdict*: ``TAT - now`` after the call if it is admitted (>= ``interval_us`` > 0),
    or ``-(TAT - now)`` if it is rejected (<= -1, since a rejection implies ``TAT > now``).
    One signed integer carries the whole decision; :func:`read_verdict` expands it.
    """
    new_tat, verdict, _ = take(tat_us, now_us, interval_us, burst, 1)
    return new_tat, verdict


def take(
    tat_us: int | None, now_us: int, interval_us: int, burst: int, wanted: int
) -> tuple[int, int, int]:
    """Admit up to ``wanted`` (>= 1) calls at ``now_us`` at once: :func:`step` for many cells.

    Returns the TAT to store, the verdict (as :func:`step`'s, after the last admitted call) and
    how many calls were admitted: as many as fit, so ``take(..., n)`` admits exactly what ``n``
    consecutive :func:`step` calls at the same instant would, in one update of the TAT.
    """
    tolerance = interval_us * burst
    tat = now_us if tat_us is None or tat_us < now_us else tat_us
    fit = (now_us + tolerance - tat) // interval_us
    if fit < 1:
        return tat, -(tat - now_us), 0
    granted = min(fit, wanted)
    new_tat = tat + interval_us * granted
    return new_tat, new_tat - now_us, granted


@dataclass(frozen=True, slots=True)
class Outcome:
    """A GCRA verdict expanded into the figures a decision reports (durations in µs)."""

    conforming: bool
    remaining: int
    reset_after_us: int
    retry_after_us: int


def read_verdict(verdict_us: int, interval_us: int, burst: int) -> Outcome:
    """Expand a verdict of :func:`step` (or of :data:`LUA_SCRIPT`) for a rule's interval/burst.

    Admitted: the bucket is full again in ``verdict`` µs and holds ``(burst * T - verdict) // T``
    more calls. Rejected: it is full again in ``-verdict`` µs, and one call fits once the TAT
    has come within ``(burst - 1) * T`` of now.
    """
    tolerance = interval_us * burst
    if verdict_us > 0:
        return Outcome(
            conforming=True,
            remaining=(tolerance - verdict_us) // interval_us,
            reset_after_us=verdict_us,
            retry_after_us=0,
        )
    reset_after_us = -verdict_us
    return Outcome(
        conforming=False,
        remaining=0,
        reset_after_us=reset_after_us,
        retry_after_us=reset_after_us + interval_us - tolerance,
    )


def to_decision(rule: RateLimitRule, verdict_us: int) -> Decision:
    """Turn a GCRA verdict for ``rule`` into the public :class:`Decision`, applying shadow."""
    outcome = read_verdict(verdict_us, emission_interval_us(rule.per_minute), rule.burst)
    return Decision(
        allowed=outcome.conforming or rule.shadow,
        limit=rule.per_minute,
        remaining=outcome.remaining,
        reset_after_s=outcome.reset_after_us / MICROS_PER_SECOND,
        retry_after_s=outcome.retry_after_us / MICROS_PER_SECOND,
        over_limit=not outcome.conforming,
    )


LUA_SCRIPT = """
-- GCRA for up to ARGV[3] calls at once; mirrors centrum.interceptors.ratelimit._gcra.take.
-- KEYS[1]: the bucket's TAT key. ARGV[1]: emission interval T (us). ARGV[2]: burst.
-- ARGV[3]: calls wanted (>= 1). Returns {verdict, admitted}: the verdict is TAT - now after
-- the last admitted call (> 0) or -(TAT - now) when none fits (< 0, admitted = 0).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local fit = math.floor((now + tolerance - tat) / interval)
if fit < 1 then
  return {-(tat - now), 0}
end
if fit < wanted then wanted = fit end
local new_tat = tat + interval * wanted
-- The key lives until the bucket is full again (PX = reset time), so idle keys cost nothing.
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {new_tat - now, wanted}
"""
"""The Lua twin of :func:`take`, run by Redis with its own ``TIME`` as the clock.

Using the server's clock means replicas with skewed clocks still share one timeline.
"""
