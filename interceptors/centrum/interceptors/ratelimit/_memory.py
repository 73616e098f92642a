"""InProcessLimiter: GCRA over a dict, for a single process or as Redis' fallback."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._gcra import Decision, RateLimitRule, emission_interval_us, step, to_decision, to_micros

MIN_SWEEP_INTERVAL = 1024
"""Fewest checks between two sweeps of expired buckets, so small tables are not swept often."""


class InProcessLimiter:
    """InProcessLimiter keeps one GCRA bucket per (bucket, key) in this process's memory.

    Decisions are exact under asyncio concurrency: :meth:`check` never awaits, so each decision
    runs to completion on the event loop. It is not meant to be shared across threads.

    Memory stays bounded by the keys seen within their reset time: a bucket whose TAT is in the
    past is full, i.e. indistinguishable from a missing one, and an amortised sweep drops such
    buckets once the number of checks since the last sweep reaches the table size.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Create an empty limiter reading time, in seconds, from ``clock``."""
        self._clock = clock
        self._tats: dict[tuple[str, str], int] = {}
        self._checks_since_sweep = 0

    def __len__(self) -> int:
        """Return how many buckets are held (full ones may linger until the next sweep)."""
        return len(self._tats)

    async def check(self, rule: RateLimitRule, key: str) -> Decision:
        """Return the decision for one call on (``rule.bucket``, ``key``) at ``clock()``."""
        return self.check_now(rule, key)

    def check_now(self, rule: RateLimitRule, key: str) -> Decision:
        """Synchronous :meth:`check`, for callers that are not coroutines."""
        now_us = to_micros(self._clock())
        self._checks_since_sweep += 1
        if self._checks_since_sweep >= max(MIN_SWEEP_INTERVAL, len(self._tats)):
            self._sweep(now_us)
        slot = (rule.bucket, key)
        tat, verdict = step(
            self._tats.get(slot), now_us, emission_interval_us(rule.per_minute), rule.burst
        )
        if verdict > 0:
            self._tats[slot] = tat
        return to_decision(rule, verdict)

    def _sweep(self, now_us: int) -> None:
        """Drop every bucket that is full again at ``now_us``."""
        self._checks_since_sweep = 0
        self._tats = {slot: tat for slot, tat in self._tats.items() if tat > now_us}
