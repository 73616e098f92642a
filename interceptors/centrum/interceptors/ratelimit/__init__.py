"""Rate limiting: one algorithm (GCRA), an in-process and a Redis backend.

A :class:`RateLimitRule` names a bucket and its limit; a :class:`Limiter` decides, for one
call on one key of that bucket, whether it fits, returning a :class:`Decision` with the figures
a response reports (limit, remaining, reset, retry-after).

* :class:`InProcessLimiter` keeps the buckets in this process (single replica, tests, and the
  fallback while Redis is unreachable).
* :class:`RedisLimiter` shares the buckets between replicas through atomic Lua calls that
  admit one or many calls at once (busy keys lease calls ahead and admit them locally), with a
  local cache of keys already over their limit and a fail-open or fail-closed mode for Redis
  outages.

Both are exact under concurrency: no window ever grants more than ``burst`` calls plus what
``per_minute`` earns over its length. A call leased from Redis is admitted at most
``lease_ttl_s`` (20 ms) after Redis counted it, so the calls the replicas admit never exceed
what Redis granted.
"""

from ._gcra import Decision, Limiter, RateLimitRule
from ._memory import InProcessLimiter
from ._redis import RedisLimiter
from ._step import RateLimitStep, rate_limit_key

__all__ = [
    "Decision",
    "InProcessLimiter",
    "Limiter",
    "RateLimitRule",
    "RateLimitStep",
    "RedisLimiter",
    "rate_limit_key",
]
