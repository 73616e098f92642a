"""Rate limiting: one algorithm (GCRA), an in-process and a Redis backend.

A :class:`RateLimitRule` names a bucket and its limit; a :class:`Limiter` decides, for one
call on one key of that bucket, whether it fits, returning a :class:`Decision` with the figures
a response reports (limit, remaining, reset, retry-after).

* :class:`InProcessLimiter` keeps the buckets in this process (single replica, tests, and the
  fallback while Redis is unreachable).
* :class:`RedisLimiter` shares the buckets between replicas through one atomic Lua call per
  decision, with a local cache of keys already over their limit and a fail-open or fail-closed
  mode for Redis outages.

Both are exact under concurrency: no window ever admits more than ``burst`` calls plus what
``per_minute`` earns over its length.
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
