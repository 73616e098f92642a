"""The chain's log lines and spans: the JSON line renderer, batched line output, server spans."""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from centrum.interceptors.chain import Call
from centrum.interceptors.errors import NotFound
from centrum.interceptors.logging import LineWriter, render_json
from centrum.interceptors.policy import PolicyRegistry
from centrum.interceptors.request_context import RequestContextStep
from centrum.interceptors.tracing import TracingStep
from support import echo

METHOD = "/centrum_test.v1.EchoService/Echo"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


class CountingStream(io.StringIO):
    """A text stream that counts the writes it receives."""

    def __init__(self) -> None:
        """Start empty."""
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        """Count, then write."""
        self.writes += 1
        return super().write(text)


class Context:
    """The parts of a grpc.aio ServicerContext the tracing and request-context steps read."""

    def __init__(self, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        """Invocation metadata as the caller sent it."""
        self._metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        """The caller's metadata."""
        return self._metadata

    def peer(self) -> str:
        """A loopback peer."""
        return "ipv4:127.0.0.1:5555"

    def time_remaining(self) -> float | None:
        """No deadline."""
        return None


def echo_call(metadata: tuple[tuple[str, str], ...] = ()) -> Call:
    """A Call of EchoService/Echo as the chain creates it."""
    policy = PolicyRegistry.from_services([echo.descriptor()]).get(METHOD)
    assert policy is not None
    context: Any = Context(metadata)
    return Call(policy, context, None)


def test_json_lines_carry_level_iso_utc_timestamp_and_formatted_exception() -> None:
    """A rendered line is one JSON object with the event's keys, the level (`warn` spelled
    `warning`), an ISO-8601 UTC timestamp with microseconds, and exc_info as a traceback."""
    line = json.loads(render_json(None, "info", {"event": "rpc", "code": "OK", "n": 1.5}))
    assert line["event"] == "rpc" and line["code"] == "OK" and line["n"] == 1.5
    assert line["level"] == "info"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", line["timestamp"])
    assert json.loads(render_json(None, "warn", {"event": "x"}))["level"] == "warning"
    try:
        raise ValueError("boom")
    except ValueError as exc:
        failed = json.loads(render_json(None, "error", {"event": "x", "exc_info": exc}))
    assert "exc_info" not in failed
    assert "ValueError: boom" in failed["exception"]
    assert json.loads(render_json(None, "info", {"event": "x", "obj": object()}))["obj"]


async def test_lines_of_one_loop_iteration_go_out_in_one_write() -> None:
    """Inside an event loop, lines wait for the end of the iteration and are written together,
    in order; an error line is written at once, after the lines waiting before it."""
    stream = CountingStream()
    writer = LineWriter(stream)
    writer.info("one")
    writer.info("two")
    assert stream.writes == 0
    await asyncio.sleep(0)
    assert (stream.getvalue(), stream.writes) == ("one\ntwo\n", 1)
    writer.info("three")
    writer.error("four")
    assert stream.getvalue() == "one\ntwo\nthree\nfour\n"
    await asyncio.sleep(0)
    assert stream.getvalue() == "one\ntwo\nthree\nfour\n"


def test_lines_outside_an_event_loop_are_written_at_once() -> None:
    """Synchronous code (the CLI, worker threads) gets each line written when it is logged."""
    stream = CountingStream()
    writer = LineWriter(stream)
    writer.info("one")
    assert stream.getvalue() == "one\n"
    writer.warning("two")
    assert (stream.getvalue(), stream.writes) == ("one\ntwo\n", 2)


@pytest.fixture
def spans() -> tuple[trace.Tracer, InMemorySpanExporter]:
    """A recording SDK tracer of its own (the process-wide provider stays untouched)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


async def test_recorded_server_span_continues_the_callers_trace(
    spans: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    """With a recording tracer each call gets one SERVER span, child of the caller's
    traceparent, current during the call, named by the method, with the status code; the
    trace id reaches the call and the request context."""
    tracer, exporter = spans
    step = TracingStep(tracer)
    call = echo_call((("traceparent", TRACEPARENT),))
    await step.before(call)
    await RequestContextStep().before(call)
    current = trace.get_current_span().get_span_context()
    call.code = NotFound("gone").code
    await step.after(call)
    (span,) = exporter.get_finished_spans()
    assert call.trace_id == TRACE_ID
    assert f"{current.trace_id:032x}" == TRACE_ID and current.span_id == span.context.span_id
    assert span.name == METHOD[1:] and span.kind is SpanKind.SERVER
    assert span.parent is not None and f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    assert span.attributes == {
        "rpc.system": "grpc",
        "rpc.service": "centrum_test.v1.EchoService",
        "rpc.grpc.status_code": 5,
    }
    assert span.status.status_code is StatusCode.ERROR
    assert not trace.get_current_span().get_span_context().is_valid


async def test_without_a_recording_tracer_only_the_callers_trace_is_carried() -> None:
    """With the no-op tracer (no SDK provider), a call without traceparent has no trace id and
    changes no context; one with traceparent carries the caller's trace id while it runs."""
    step = TracingStep(trace.NoOpTracer())
    plain = echo_call()
    await step.before(plain)
    assert plain.trace_id == "" and plain.state == {}
    assert not trace.get_current_span().get_span_context().is_valid
    await step.after(plain)

    traced = echo_call((("traceparent", TRACEPARENT),))
    await step.before(traced)
    assert traced.trace_id == TRACE_ID
    assert f"{trace.get_current_span().get_span_context().trace_id:032x}" == TRACE_ID
    await step.after(traced)
    assert not trace.get_current_span().get_span_context().is_valid
