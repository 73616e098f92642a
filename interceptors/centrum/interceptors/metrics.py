"""The metrics step: Prometheus counters and latency histograms per method and status code.

Metrics live in a registry of their own (not the process-global default), so two servers in one
process (tests) do not collide; the server exposes it on its `/metrics` port.
"""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from centrum.interceptors.chain import Call
from centrum.interceptors.step import Step

__all__ = ["Metrics", "MetricsStep"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Every metric Centrum exports, in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.handled = Counter(
            "centrum_rpc_handled_total",
            "RPCs completed, by method and status code.",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "centrum_rpc_duration_seconds",
            "Time from entering the chain to the status, by method.",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limit_decisions = Counter(
            "centrum_rate_limit_decisions_total",
            "Rate-limit decisions by bucket and result (allowed, rejected, shadow_rejected).",
            ["bucket", "result"],
            registry=self.registry,
        )
        self.backend_errors = Counter(
            "centrum_backend_errors_total",
            "Errors talking to a backend, by backend.",
            ["backend"],
            registry=self.registry,
        )
        self.audit_queue_depth = Gauge(
            "centrum_audit_queue_depth",
            "Audit events not yet in the audit store (queued or spooled).",
            registry=self.registry,
        )


class MetricsStep(Step):
    """Counts every call and observes its latency."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._counters: dict[tuple[str, grpc.StatusCode], Counter] = {}
        self._histograms: dict[str, Histogram] = {}

    async def after(self, call: Call) -> None:
        """Counts the call under its code and records how long it took."""
        method = call.policy.method
        key = (method, call.code)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._metrics.handled.labels(method=method, code=call.code.name)
            self._counters[key] = counter
        counter.inc()
        histogram = self._histograms.get(method)
        if histogram is None:
            histogram = self._metrics.latency.labels(method=method)
            self._histograms[method] = histogram
        histogram.observe(call.duration_s)
