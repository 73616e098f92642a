"""The logging step: one structured line per call, and the process-wide structlog setup.

The line carries method, code, duration, principal, request id and trace id; never a request
field, so nothing sensitive can reach a log through this step.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

from centrum.interceptors.chain import Call
from centrum.interceptors.step import Step

__all__ = ["LoggingStep", "configure_logging"]

LogFormat = Literal["auto", "console", "json"]


def configure_logging(level: str = "info", fmt: LogFormat = "auto") -> None:
    """Configures structlog: readable in a terminal, JSON lines otherwise (or as asked)."""
    use_console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer() if use_console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


class LoggingStep(Step):
    """Writes one line per completed call."""

    def __init__(self, logger: structlog.typing.FilteringBoundLogger | None = None) -> None:
        self._log = logger or structlog.get_logger("centrum.rpc")

    async def after(self, call: Call) -> None:
        """Logs the call's outcome; failures of the server's own making at error level."""
        principal = call.principal
        fields = {
            "method": call.policy.method,
            "code": call.code.name,
            "duration_ms": round(call.duration_s * 1000, 3),
            "principal": principal.subject if principal else "",
            "tenant": principal.tenant if principal else "",
            "peer": call.peer,
            "request_id": call.request_id,
            "trace_id": call.trace_id,
        }
        if call.code.name in ("INTERNAL", "DATA_LOSS", "UNKNOWN"):
            self._log.error("rpc", **fields)
        else:
            self._log.info("rpc", **fields)
