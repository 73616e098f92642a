"""Tracing: OpenTelemetry spans for every call, exported over OTLP when an endpoint is set.

The span itself comes from opentelemetry-instrumentation-grpc's aio server interceptor, which the
server places outside the chain so that the span covers every step and records the final status.
Caller context (`traceparent`) is honoured even with no exporter, so trace ids still reach logs
and audit events.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

__all__ = ["configure_tracing"]

_configured = False


def configure_tracing(otlp_endpoint: str | None) -> None:
    """Installs an SDK tracer provider exporting to `otlp_endpoint`; no-op when it is unset."""
    global _configured
    if otlp_endpoint is None or _configured:
        return
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _configured = True
