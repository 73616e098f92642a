"""The tracing step: an OpenTelemetry span around every call, exported over OTLP when set.

The span is started inside the chain (one interceptor instead of two) with the caller's
`traceparent` honoured, so a caller's trace id reaches logs and audit events even with no
exporter configured; with an OTLP endpoint the SDK tracer provider exports the spans in batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from centrum.interceptors.step import Step

if TYPE_CHECKING:
    from centrum.interceptors.chain import Call

__all__ = ["TracingStep", "configure_tracing"]

_configured = False
_PROPAGATION_HEADERS = ("traceparent", "tracestate", "baggage")


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


class TracingStep(Step):
    """Starts a server span per call, as a child of the caller's trace when it sent one.

    The span is made current for the rest of the call and its trace id put on the call. When
    the tracer records nothing and the caller sent no trace (no SDK tracer provider installed),
    there is nothing to record or propagate, and the step does nothing more.
    """

    def __init__(self, tracer: trace.Tracer | None = None) -> None:
        self._tracer = tracer or trace.get_tracer("centrum.rpc")
        self._names: dict[str, tuple[str, dict[str, str]]] = {}

    async def before(self, call: Call) -> None:
        """Starts the span and makes it current for the rest of the call."""
        metadata = call.metadata
        parent = None
        if any(header in metadata for header in _PROPAGATION_HEADERS):
            parent = propagate.extract(metadata)
        method = call.policy.method
        named = self._names.get(method)
        if named is None:
            named = (method[1:], {"rpc.system": "grpc", "rpc.service": call.policy.service})
            self._names[method] = named
        span = self._tracer.start_span(
            named[0], context=parent, kind=SpanKind.SERVER, attributes=named[1]
        )
        span_context = span.get_span_context()
        if not span_context.is_valid:
            return
        call.trace_id = f"{span_context.trace_id:032x}"
        call.state[self] = (span, otel_context.attach(trace.set_span_in_context(span)))

    async def after(self, call: Call) -> None:
        """Records the status code and ends the span."""
        started = call.state.pop(self, None)
        if started is None:
            return
        span, token = started
        if span.is_recording():
            span.set_attribute("rpc.grpc.status_code", call.code.value[0])
            if not call.ok:
                span.set_status(Status(StatusCode.ERROR, call.code.name))
            span.end()
        otel_context.detach(token)
