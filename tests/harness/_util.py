"""Small, dependency-free helpers shared by the backend fixtures: ports, polling, HTTP probes."""

from __future__ import annotations

import asyncio
import http.client
import socket
import time
from collections.abc import Callable
from pathlib import Path

POLL_INTERVAL = 0.05
"""Seconds between two evaluations of a polled predicate."""

LOG_TAIL_LINES = 30
"""How many trailing log lines a timeout error quotes."""


class BackendError(RuntimeError):
    """A backend did not become ready (timed out, exited early, or refused to configure)."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free at the time of the call.

    The kernel picks the port; the socket is closed again, so another process could in
    theory take it before the caller binds it. That window is tiny for test backends.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(log: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last ``lines`` lines of ``log`` (or an explanation if it cannot be read)."""
    if log is None:
        return ""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(log {log} unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _timeout_message(what: str, timeout: float, log: Path | None) -> str:
    """Build the error text for a condition that did not become true in time."""
    message = f"timed out after {timeout:.1f}s waiting for {what}"
    if log is not None:
        message += f"; log: {log}\n--- last lines of {log.name} ---\n{log_tail(log)}"
    return message


def wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    log: Path | None = None,
) -> None:
    """Poll ``predicate`` until it returns true, or raise :class:`BackendError` at the deadline.

    ``what`` describes the awaited condition and ``log`` (if given) is the log file of the
    process being waited on; both appear in the error. Exceptions raised by ``predicate``
    propagate unchanged, so a predicate can fail fast (e.g. when its process died).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise BackendError(_timeout_message(what, timeout, log))
        time.sleep(POLL_INTERVAL)


async def async_wait_for(
    predicate: Callable[[], bool],
    timeout: float,  # noqa: ASYNC109 - the deadline error names the condition and the log
    what: str,
    log: Path | None = None,
) -> None:
    """Like :func:`wait_for`, but yields to the event loop between polls (for async tests)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise BackendError(_timeout_message(what, timeout, log))
        await asyncio.sleep(POLL_INTERVAL)


def http_status(host: str, port: int, path: str = "/", timeout: float = 1.0) -> int | None:
    """Return the HTTP status of ``GET path`` on ``host:port``, or ``None`` if nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
