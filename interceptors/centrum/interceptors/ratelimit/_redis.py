"""RedisLimiter: GCRA shared by every replica through one atomic Lua call per decision."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio
import redis.exceptions
import structlog

from ._gcra import (
    LUA_SCRIPT,
    Decision,
    Limiter,
    RateLimitRule,
    emission_interval_us,
    to_decision,
)

BACKEND_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)
"""Errors that mean Redis cannot be reached (as opposed to a bad command or script)."""

FAIL_CLOSED_RETRY_AFTER_S = 1.0
"""The retry delay a fail-closed rejection announces while Redis is unreachable."""

MIN_SWEEP_INTERVAL = 1024
"""Fewest checks between two sweeps of the over-limit cache."""

MAX_PIPELINE = 256
"""Most script calls sent to Redis in one pipelined write."""

_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _OverLimit:
    """A (bucket, key) Redis rejected: it stays rejected until ``retry_at`` (local clock)."""

    retry_at: float
    reset_at: float


@dataclass(frozen=True, slots=True)
class _Pending:
    """One script call waiting for the next pipelined write, and where its reply goes."""

    redis_key: str
    interval_us: bytes
    burst: bytes
    reply: asyncio.Future[int]


class RedisLimiter:
    """RedisLimiter runs the GCRA step in Redis, so that all replicas share one limit.

    Each decision is one ``EVALSHA`` of :data:`~._gcra.LUA_SCRIPT` (registered with
    ``register_script``, loaded again when Redis answers ``NOSCRIPT``, e.g. after a restart).
    The script reads the server's ``TIME``, so client clock skew does not matter. Script calls
    made in the same event-loop iteration share one pipelined write (auto-pipelining): each
    stays its own atomic call, but concurrent checks cost one round trip instead of one each.

    Over-limit cache: when Redis rejects (bucket, key), the limiter remembers it until the
    announced ``retry_after`` and rejects further calls locally, without a round trip (as envoy's
    ratelimit does). This is exact, not an approximation: GCRA does not change a bucket on a
    rejected call, so Redis would have answered the same. Shadow rules use the cache too; their
    decisions stay ``allowed``.

    Redis unreachable (:data:`BACKEND_ERRORS`): ``on_backend_error`` is called for every failed
    call, and the decision comes from ``fallback`` (``fail_open=True``) or is a rejection with a
    one-second ``retry_after`` (``fail_open=False``). One log line marks the start of an outage
    and one its end; the first call that reaches Redis again ends it, with no restart. Other
    Redis errors (a script failing on a foreign value under the key, say) propagate.

    Build the Redis client with short socket timeouts and few retries: redis-py's defaults retry
    for seconds, and every one of those seconds is spent inside an RPC before the fallback runs.
    Like its ``redis.asyncio`` client, a limiter belongs to one event loop.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        fallback: Limiter,
        fail_open: bool = True,
        key_prefix: str = "centrum:rl:",
        clock: Callable[[], float] = time.time,
        on_backend_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Create a limiter storing one key per (bucket, key) under ``key_prefix`` in ``redis``.

        ``clock`` (seconds) only times the local over-limit cache; the algorithm uses Redis'
        clock. ``fallback`` decides while Redis is unreachable if ``fail_open``.
        """
        self._redis = redis
        self._script = redis.register_script(LUA_SCRIPT)
        self._fallback = fallback
        self._fail_open = fail_open
        self._key_prefix = key_prefix
        self._clock = clock
        self._on_backend_error = on_backend_error
        self._over_limit: dict[tuple[str, str], _OverLimit] = {}
        self._checks_since_sweep = 0
        self._down_since: float | None = None
        self._pending: list[_Pending] = []
        self._flush_scheduled = False
        self._senders: set[asyncio.Task[None]] = set()

    @property
    def backend_available(self) -> bool:
        """Whether the last call that tried Redis reached it."""
        return self._down_since is None

    def redis_key(self, bucket: str, key: str) -> str:
        """Return the Redis key holding the TAT of (``bucket``, ``key``).

        ``:`` and ``%`` in the bucket are percent-encoded, so the first ``:`` after the prefix
        always separates bucket from key and two pairs never share a Redis key.
        """
        safe_bucket = bucket.replace("%", "%25").replace(":", "%3A")
        return f"{self._key_prefix}{safe_bucket}:{key}"

    async def check(self, rule: RateLimitRule, key: str) -> Decision:
        """Return the decision for one call on (``rule.bucket``, ``key``) happening now."""
        now = self._clock()
        slot = (rule.bucket, key)
        self._checks_since_sweep += 1
        if self._checks_since_sweep >= max(MIN_SWEEP_INTERVAL, len(self._over_limit)):
            self._sweep(now)
        cached = self._over_limit.get(slot)
        if cached is not None:
            if now < cached.retry_at:
                return Decision(
                    allowed=rule.shadow,
                    limit=rule.per_minute,
                    remaining=0,
                    reset_after_s=max(cached.reset_at - now, 0.0),
                    retry_after_s=cached.retry_at - now,
                    over_limit=True,
                )
            del self._over_limit[slot]
        try:
            verdict = await self._evaluate(
                self.redis_key(rule.bucket, key), emission_interval_us(rule.per_minute), rule.burst
            )
        except BACKEND_ERRORS as exc:
            return await self._backend_failed(rule, key, exc)
        if self._down_since is not None:
            self._recovered()
        decision = to_decision(rule, verdict)
        if decision.over_limit:
            self._over_limit[slot] = _OverLimit(
                retry_at=now + decision.retry_after_s, reset_at=now + decision.reset_after_s
            )
        return decision

    async def _evaluate(self, redis_key: str, interval_us: int, burst: int) -> int:
        """Run the script for one bucket in the next pipelined write; return its verdict."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[int] = loop.create_future()
        self._pending.append(_Pending(redis_key, b"%d" % interval_us, b"%d" % burst, reply))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await reply

    def _flush(self) -> None:
        """Send the script calls queued during this loop iteration, in pipelines of bounded size."""
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), MAX_PIPELINE):
            sender = asyncio.get_running_loop().create_task(
                self._send(pending[start : start + MAX_PIPELINE])
            )
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        """Run ``batch`` in one pipeline and hand each caller its reply or the pipeline's error."""
        try:
            replies = await self._pipeline(batch)
            if any(isinstance(r, redis.exceptions.NoScriptError) for r in replies):
                # Redis lost its script cache (restart, SCRIPT FLUSH, failover): load and redo.
                self._script.sha = await self._redis.script_load(self._script.script)
                replies = await self._pipeline(batch)
        except asyncio.CancelledError:
            for pending in batch:
                pending.reply.cancel()
            raise
        except Exception as exc:
            for pending in batch:
                if not pending.reply.done():
                    pending.reply.set_exception(exc)
            return
        for pending, reply in zip(batch, replies, strict=True):
            if pending.reply.done():
                continue
            if isinstance(reply, BaseException):
                pending.reply.set_exception(reply)
            elif isinstance(reply, int) and reply != 0:
                pending.reply.set_result(reply)
            else:
                pending.reply.set_exception(
                    redis.exceptions.ResponseError(f"unexpected rate limit reply {reply!r}")
                )

    async def _pipeline(self, batch: list[_Pending]) -> list[object]:
        """Send one ``EVALSHA`` per entry of ``batch`` in one write; errors come back as values."""
        pipe = self._redis.pipeline(transaction=False)
        sha = self._script.sha.encode()
        for pending in batch:
            # Pre-encoded arguments: redis-py's packing costs more than the script's run.
            pipe.execute_command(
                b"EVALSHA", sha, b"1", pending.redis_key, pending.interval_us, pending.burst
            )
        replies: list[object] = await pipe.execute(raise_on_error=False)
        return replies

    async def _backend_failed(self, rule: RateLimitRule, key: str, exc: BaseException) -> Decision:
        """Note an unreachable Redis and decide without it, per ``fail_open``."""
        if self._down_since is None:
            self._down_since = self._clock()
            _log.warning(
                "rate_limit_backend_down",
                error=repr(exc),
                fail_open=self._fail_open,
            )
        if self._on_backend_error is not None:
            self._on_backend_error(exc)
        if self._fail_open:
            return await self._fallback.check(rule, key)
        return Decision(
            allowed=rule.shadow,
            limit=rule.per_minute,
            remaining=0,
            reset_after_s=FAIL_CLOSED_RETRY_AFTER_S,
            retry_after_s=FAIL_CLOSED_RETRY_AFTER_S,
            over_limit=True,
        )

    def _recovered(self) -> None:
        """Note that Redis answers again after an outage (logged once)."""
        down_since, self._down_since = self._down_since, None
        if down_since is not None:
            down_for_s = round(self._clock() - down_since, 3)
            _log.info("rate_limit_backend_recovered", down_for_s=down_for_s)

    def _sweep(self, now: float) -> None:
        """Drop over-limit entries whose retry time has passed."""
        self._checks_since_sweep = 0
        self._over_limit = {s: e for s, e in self._over_limit.items() if e.retry_at > now}
