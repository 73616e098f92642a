"""The logging step: one structured line per call, and the process-wide structlog setup.

The line carries method, code, duration, principal, request id and trace id; never a request
field, so nothing sensitive can reach a log through this step.

JSON lines cost little per call: one processor renders level, timestamp and the line together
(the timestamp's date and time of day are formatted once per second), through a JSON encoder
built once, and lines logged during one event-loop iteration reach the stream in one write at
its end instead of one write each.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import sys
import threading
import time
from typing import Any, Literal, TextIO

import structlog

from centrum.interceptors.chain import Call
from centrum.interceptors.step import Step

__all__ = ["LineWriter", "LoggingStep", "configure_logging", "render_json"]

LogFormat = Literal["auto", "console", "json"]

_SERVER_FAULTS = frozenset({"INTERNAL", "DATA_LOSS", "UNKNOWN"})


def configure_logging(level: str = "info", fmt: LogFormat = "auto") -> None:
    """Configures structlog: readable in a terminal, JSON lines otherwise (or as asked)."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    processors: list[structlog.typing.Processor]
    factory: Any
    if use_console:
        processors = [
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(),
        ]
        factory = structlog.PrintLoggerFactory(sys.stderr)
    else:
        processors = [structlog.contextvars.merge_contextvars, render_json]
        writer = LineWriter(sys.stderr)
        atexit.register(writer.flush)

        def factory(*_: Any) -> LineWriter:
            return writer

    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )


class _Clock:
    """ISO-8601 UTC timestamps; the part up to the second is formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        """The current time, `2026-01-31T12:34:56.789012Z`."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"


_clock = _Clock()
_encoder = json.JSONEncoder(default=repr)


def render_json(_: Any, method_name: str, event_dict: structlog.typing.EventDict) -> str:
    """The final processor of JSON lines: adds level and timestamp, formats exc_info, renders.

    Equivalent to structlog's add_log_level, TimeStamper(fmt="iso", utc=True),
    format_exc_info and JSONRenderer in a row, at the cost of one of them.
    """
    if "exc_info" in event_dict:
        event_dict = structlog.processors.format_exc_info(_, method_name, event_dict)
    event_dict["level"] = "warning" if method_name == "warn" else method_name
    event_dict["timestamp"] = _clock.now()
    return _encoder.encode(event_dict)


class LineWriter:
    """A structlog logger writing rendered lines to a stream, batched per event-loop iteration.

    In a thread with a running event loop, lines wait for the end of the loop iteration and go
    out in one write; elsewhere (threads, synchronous code) and at error level and above each
    line is written at once, with everything still waiting before it.
    """

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._lines: list[str] = []
        self._scheduled = False
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        """Queues one line (or writes it, outside an event loop)."""
        with self._lock:
            self._lines.append(message)
            if self._scheduled:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                self._scheduled = True
                loop.call_soon(self.flush)
                return
        self.flush()

    def urgent(self, message: str) -> None:
        """Writes one line now, after the lines waiting before it."""
        with self._lock:
            self._lines.append(message)
        self.flush()

    def flush(self) -> None:
        """Writes every waiting line."""
        with self._lock:
            self._scheduled = False
            lines, self._lines = self._lines, []
            if not lines:
                return
            try:
                self._file.write("\n".join(lines) + "\n")
                self._file.flush()
            except (OSError, ValueError):
                pass  # a closed or broken stream must not fail the call that logged

    debug = info = warning = warn = log = msg
    error = err = critical = fatal = exception = failure = urgent


class LoggingStep(Step):
    """Writes one line per completed call."""

    def __init__(self, logger: structlog.typing.FilteringBoundLogger | None = None) -> None:
        self._log = logger or structlog.get_logger("centrum.rpc")

    async def after(self, call: Call) -> None:
        """Logs the call's outcome; failures of the server's own making at error level."""
        principal = call.principal
        code = call.code.name
        log = self._log.error if code in _SERVER_FAULTS else self._log.info
        log(
            "rpc",
            method=call.policy.method,
            code=code,
            duration_ms=round(call.duration_s * 1000, 3),
            principal=principal.subject if principal else "",
            tenant=principal.tenant if principal else "",
            peer=call.peer,
            request_id=call.request_id,
            trace_id=call.trace_id,
        )
