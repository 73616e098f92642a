"""The rate-limit step: charges each call to the bucket and key its policy names."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from centrum.interceptors.errors import ResourceExhausted
from centrum.interceptors.ratelimit._gcra import Decision, Limiter, RateLimitRule
from centrum.interceptors.step import Step
from centrum.policy.v1.policy_pb2 import RateLimitKey

if TYPE_CHECKING:  # the chain imports the policy registry, which imports this package
    from prometheus_client import Counter

    from centrum.interceptors.chain import Call
    from centrum.interceptors.metrics import Metrics

__all__ = ["RateLimitStep", "rate_limit_key"]


def rate_limit_key(call: Call) -> str:
    """Whose budget the call is charged to, as its policy says."""
    principal = call.principal
    kind = call.policy.rate_limit_key
    if kind == RateLimitKey.RATE_LIMIT_KEY_PEER or principal is None:
        return "peer:" + _peer_host(call.peer)
    if kind == RateLimitKey.RATE_LIMIT_KEY_TENANT:
        return "tenant:" + principal.tenant
    if kind == RateLimitKey.RATE_LIMIT_KEY_API_KEY:
        return "credential:" + (principal.credential_id or principal.subject)
    return f"principal:{principal.tenant}/{principal.subject}"


def _peer_host(peer: str) -> str:
    """`ipv4:10.1.2.3:5555` -> `ipv4:10.1.2.3`; `ipv6:[::1]:5555` -> `ipv6:[::1]`."""
    host, sep, port = peer.rpartition(":")
    return host if sep and port.isdigit() else peer


class RateLimitStep(Step):
    """Admits or rejects each call through a `Limiter`."""

    def __init__(self, limiter: Limiter, metrics: Metrics | None = None) -> None:
        self._limiter = limiter
        self._metrics = metrics
        self._counters: dict[tuple[str, str], Counter] = {}

    async def before(self, call: Call) -> None:
        """Raises ResourceExhausted with RetryInfo and rate-limit headers when over the limit."""
        rule = call.policy.rate_limit
        if rule is None:
            return
        decision = await self._limiter.check(rule, rate_limit_key(call))
        if self._metrics is not None:
            result = "allowed"
            if decision.over_limit:
                result = "rejected" if not decision.allowed else "shadow_rejected"
            counter = self._counters.get((rule.bucket, result))
            if counter is None:
                counter = self._metrics.rate_limit_decisions.labels(
                    bucket=rule.bucket, result=result
                )
                self._counters[(rule.bucket, result)] = counter
            counter.inc()
        if not decision.allowed:
            raise _rejection(rule, decision)


def _rejection(rule: RateLimitRule, decision: Decision) -> ResourceExhausted:
    retry_after = max(1, math.ceil(decision.retry_after_s))
    return ResourceExhausted(
        f"rate limit of {rule.bucket!r} exceeded; retry in {decision.retry_after_s:.2f}s",
        reason="RATE_LIMITED",
        info={"bucket": rule.bucket, "limit_per_minute": str(rule.per_minute)},
        retry_after_s=decision.retry_after_s,
        trailing_metadata=[
            ("retry-after", str(retry_after)),
            ("ratelimit-limit", str(decision.limit)),
            ("ratelimit-remaining", str(max(0, decision.remaining))),
            ("ratelimit-reset", str(max(0, math.ceil(decision.reset_after_s)))),
        ],
    )
