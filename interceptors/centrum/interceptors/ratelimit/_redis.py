"""RedisLimiter: GCRA shared by every replica through atomic Lua calls, with short leases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.asyncio
import redis.exceptions
import structlog

from ._gcra import (
    LUA_SCRIPT,
    MICROS_PER_SECOND,
    Decision,
    Limiter,
    RateLimitRule,
    emission_interval_us,
    read_verdict,
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
"""Fewest checks between two sweeps of the over-limit cache and the per-key state."""

MAX_PIPELINE = 256
"""Most script calls sent to Redis in one pipelined write."""

LEASE_TTL_S = 0.02
"""How long a replica may spend the calls it leased from Redis before they are void."""

MAX_LEASE = 1024
"""Most calls leased at once for one key, beyond those already waiting."""

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
    wanted: bytes
    reply: asyncio.Future[tuple[int, int]]


@dataclass(slots=True)
class _Lease:
    """Calls Redis admitted ahead of time for one key: spendable here until ``expires_at``."""

    cells: int
    expires_at: float


@dataclass(slots=True)
class _Slot:
    """This replica's state for one (bucket, key): leases, waiting calls, recent demand."""

    window_start: float
    window_calls: int = 0
    demand: int = 0
    """Calls seen in the last complete lease window: the size of the next lease."""
    leases: list[_Lease] = field(default_factory=list)
    waiters: list[asyncio.Future[Decision]] = field(default_factory=list)
    granting: bool = False
    remaining: int = 0
    """What Redis reported left in the bucket after the last grant."""
    reset_at: float = 0.0


class RedisLimiter:
    """RedisLimiter runs the GCRA step in Redis, so that all replicas share one limit.

    Every admission is counted in Redis by an ``EVALSHA`` of :data:`~._gcra.LUA_SCRIPT`
    (registered with ``register_script``, loaded again when Redis answers ``NOSCRIPT``, e.g.
    after a restart), which admits up to N calls at once, as many as fit, on the server's
    ``TIME`` (client clock skew does not matter). Three things keep that call off most
    decisions:

    * Coalescing: calls on one key that wait for Redis at the same time share one script call
      asking for all of them. Script calls of different keys made in the same event-loop
      iteration share one pipelined write; a lone call goes out directly.
    * Leases: a key that saw at least two calls in the last ``lease_ttl_s`` asks for that many
      more calls than are waiting. Redis counts them at once (so the replicas together never
      admit more than the bucket grants: ``burst`` plus what ``per_minute`` earns), and this
      replica admits later calls from the lease without a round trip, asking for the next lease
      in the background when this one is three-quarters spent or about to expire. A leased call
      is void ``lease_ttl_s`` after the request for it went out, so a call is admitted at most
      that long after Redis counted it; unspent calls are lost (the limit only gets stricter).
      ``lease_ttl_s=0`` turns leases off. A key called rarely never leases: each of its calls
      is one script call, exactly as Redis decides it.
    * Over-limit cache: when Redis rejects (bucket, key), the limiter remembers it until the
      announced ``retry_after`` and rejects further calls locally (as envoy's ratelimit does).
      This is exact, not an approximation: GCRA does not change a bucket on a rejected call, so
      Redis would have answered the same. Shadow rules use the cache too; their decisions stay
      ``allowed``.

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
        lease_ttl_s: float = LEASE_TTL_S,
    ) -> None:
        """Create a limiter storing one key per (bucket, key) under ``key_prefix`` in ``redis``.

        ``clock`` (seconds) times the local over-limit cache and leases; the algorithm uses
        Redis' clock. ``fallback`` decides while Redis is unreachable if ``fail_open``.
        ``lease_ttl_s`` bounds how long leased calls stay spendable (0: no leases).
        """
        if lease_ttl_s < 0:
            raise ValueError(f"lease_ttl_s must be >= 0, got {lease_ttl_s}")
        self._redis = redis
        self._script = redis.register_script(LUA_SCRIPT)
        self._fallback = fallback
        self._fail_open = fail_open
        self._key_prefix = key_prefix
        self._clock = clock
        self._on_backend_error = on_backend_error
        self._lease_ttl_s = lease_ttl_s
        self._over_limit: dict[tuple[str, str], _OverLimit] = {}
        self._slots: dict[tuple[str, str], _Slot] = {}
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
        slot_key = (rule.bucket, key)
        self._checks_since_sweep += 1
        if self._checks_since_sweep >= max(
            MIN_SWEEP_INTERVAL, len(self._over_limit) + len(self._slots)
        ):
            self._sweep(now)
        cached = self._over_limit.get(slot_key)
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
            del self._over_limit[slot_key]
        slot = self._slots.get(slot_key)
        if slot is None:
            slot = self._slots[slot_key] = _Slot(window_start=now)
        ttl = self._lease_ttl_s
        elapsed = now - slot.window_start
        if elapsed >= ttl:
            slot.demand = slot.window_calls if elapsed < 2 * ttl else 0
            slot.window_start = now
            slot.window_calls = 0
        slot.window_calls += 1
        if slot.leases:
            left = self._spend_leased(slot, now)
            if left is not None:
                if not slot.granting and (
                    left <= slot.demand // 4 or slot.leases[-1].expires_at - now < ttl / 4
                ):
                    self._start_grant(rule, slot_key, slot)
                return Decision(
                    allowed=True,
                    limit=rule.per_minute,
                    remaining=slot.remaining + left,
                    reset_after_s=max(slot.reset_at - now, 0.0),
                    retry_after_s=0.0,
                    over_limit=False,
                )
        waiter: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        slot.waiters.append(waiter)
        if not slot.granting:
            self._start_grant(rule, slot_key, slot)
        return await waiter

    @staticmethod
    def _spend_leased(slot: _Slot, now: float) -> int | None:
        """Take one leased call if a lease is still valid; return how many are left, or None."""
        leases = slot.leases
        while leases:
            lease = leases[0]
            if lease.cells > 0 and now < lease.expires_at:
                lease.cells -= 1
                return sum(lease.cells for lease in leases)
            del leases[0]
        return None

    def _start_grant(self, rule: RateLimitRule, slot_key: tuple[str, str], slot: _Slot) -> None:
        """Ask Redis, in a task of its own, for the calls waiting on ``slot`` and a lease."""
        slot.granting = True
        task = asyncio.get_running_loop().create_task(self._grant(rule, slot_key, slot))
        self._senders.add(task)
        task.add_done_callback(self._senders.discard)

    async def _grant(self, rule: RateLimitRule, slot_key: tuple[str, str], slot: _Slot) -> None:
        """Get calls from Redis until every waiting call of ``slot`` has its decision."""
        try:
            redis_key = self.redis_key(*slot_key)
            interval_us = emission_interval_us(rule.per_minute)
            leasing = self._lease_ttl_s > 0
            while True:
                slot.waiters = [waiter for waiter in slot.waiters if not waiter.done()]
                waiting = len(slot.waiters)
                lease = min(slot.demand, MAX_LEASE) if leasing and slot.demand > 1 else 0
                if waiting + lease == 0:
                    return
                sent_at = self._clock()
                try:
                    verdict, granted = await self._evaluate(
                        redis_key, interval_us, rule.burst, waiting + lease
                    )
                except BACKEND_ERRORS as exc:
                    waiters, slot.waiters = slot.waiters, []
                    for waiter in waiters:
                        decision = await self._backend_failed(rule, slot_key[1], exc)
                        if not waiter.done():
                            waiter.set_result(decision)
                    leasing = False  # no lease from a Redis that just failed
                    continue  # but calls that came meanwhile try it in turn
                if self._down_since is not None:
                    self._recovered()
                reply = (verdict, granted, waiting + lease)
                if not self._hand_out(rule, slot_key, slot, reply, sent_at):
                    return
        except BaseException as exc:
            waiters, slot.waiters = slot.waiters, []
            for waiter in waiters:
                if not waiter.done():
                    if isinstance(exc, asyncio.CancelledError):
                        waiter.cancel()
                    else:
                        waiter.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            slot.granting = False

    def _hand_out(
        self,
        rule: RateLimitRule,
        slot_key: tuple[str, str],
        slot: _Slot,
        reply: tuple[int, int, int],
        sent_at: float,
    ) -> bool:
        """Give the calls Redis admitted to the waiters in order; keep the rest as a lease.

        ``reply`` is (verdict, calls admitted, calls asked for). When Redis admitted fewer than
        asked, the bucket is empty and waiters left without a call are rejected (and cached as
        over the limit). When it admitted all and waiters are left (they came after the request
        went out), they stay waiting and the return value True says to ask again.
        """
        verdict, granted, wanted = reply
        if granted:
            outcome = read_verdict(verdict, emission_interval_us(rule.per_minute), rule.burst)
            slot.remaining = outcome.remaining
            slot.reset_at = sent_at + verdict / MICROS_PER_SECOND
        cells = granted
        waiters, slot.waiters = slot.waiters, []
        rejection: Decision | None = None
        for index, waiter in enumerate(waiters):
            if waiter.done():
                continue
            if cells:
                cells -= 1
                waiter.set_result(
                    Decision(
                        allowed=True,
                        limit=rule.per_minute,
                        remaining=slot.remaining + cells,
                        reset_after_s=verdict / MICROS_PER_SECOND,
                        retry_after_s=0.0,
                        over_limit=False,
                    )
                )
                continue
            if granted == wanted:
                slot.waiters = waiters[index:]
                return True
            if rejection is None:
                # After the last admitted call the TAT is where Redis left it: reject from it.
                rejection = to_decision(rule, -verdict if granted else verdict)
                self._over_limit[slot_key] = _OverLimit(
                    retry_at=sent_at + rejection.retry_after_s,
                    reset_at=sent_at + rejection.reset_after_s,
                )
            waiter.set_result(rejection)
        if cells and self._lease_ttl_s:
            slot.leases.append(_Lease(cells, sent_at + self._lease_ttl_s))
        return False

    async def _evaluate(
        self, redis_key: str, interval_us: int, burst: int, wanted: int
    ) -> tuple[int, int]:
        """Run the script for ``wanted`` calls in the next write; return (verdict, admitted)."""
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[tuple[int, int]] = loop.create_future()
        self._pending.append(
            _Pending(redis_key, b"%d" % interval_us, b"%d" % burst, b"%d" % wanted, reply)
        )
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
        """Run ``batch`` in one write and hand each caller its reply or the write's error."""
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
            elif (
                isinstance(reply, list)
                and len(reply) == 2
                and all(isinstance(part, int) for part in reply)
                and reply[0] != 0
            ):
                pending.reply.set_result((reply[0], reply[1]))
            else:
                pending.reply.set_exception(
                    redis.exceptions.ResponseError(f"unexpected rate limit reply {reply!r}")
                )

    async def _pipeline(self, batch: list[_Pending]) -> list[object]:
        """Send one ``EVALSHA`` per entry of ``batch`` in one write; errors come back as values."""
        sha = self._script.sha.encode()
        if len(batch) == 1:
            # A lone call skips the pipeline object; its error comes back as a value all the
            # same (connection errors propagate, as from a pipeline).
            one = batch[0]
            try:
                reply = await self._redis.execute_command(  # type: ignore[no-untyped-call]
                    b"EVALSHA", sha, b"1", one.redis_key, one.interval_us, one.burst, one.wanted
                )
            except redis.exceptions.ResponseError as exc:
                return [exc]
            return [reply]
        pipe = self._redis.pipeline(transaction=False)
        for pending in batch:
            # Pre-encoded arguments: redis-py's packing costs more than the script's run.
            pipe.execute_command(
                b"EVALSHA",
                sha,
                b"1",
                pending.redis_key,
                pending.interval_us,
                pending.burst,
                pending.wanted,
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
        """Drop over-limit entries whose retry time has passed, and idle keys' state."""
        self._checks_since_sweep = 0
        self._over_limit = {s: e for s, e in self._over_limit.items() if e.retry_at > now}
        idle_after = 2 * self._lease_ttl_s
        self._slots = {
            s: slot
            for s, slot in self._slots.items()
            if slot.granting
            or slot.waiters
            or now - slot.window_start < idle_after
            or any(lease.expires_at > now for lease in slot.leases)
        }
