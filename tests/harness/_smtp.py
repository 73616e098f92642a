"""SMTP: an in-process aiosmtpd server that records every message it receives."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aiosmtpd.smtp import SMTP, Envelope, Session

from ._util import wait_for


@dataclass(frozen=True)
class CapturedMessage:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes


class MessageCapture:
    """Thread-safe store of received messages (the SMTP server runs in its own thread)."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._messages: list[CapturedMessage] = []

    def add(self, message: CapturedMessage) -> None:
        """Record ``message``."""
        with self._lock:
            self._messages.append(message)

    def messages(self) -> list[CapturedMessage]:
        """Return a snapshot of the messages received so far."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget all recorded messages."""
        with self._lock:
            self._messages.clear()

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[CapturedMessage]:
        """Poll until at least ``n`` messages arrived and return them; raise at the deadline."""
        wait_for(lambda: len(self.messages()) >= n, timeout, f"{n} SMTP message(s)")
        return self.messages()


class CaptureHandler:
    """aiosmtpd handler that accepts every message and hands it to a :class:`MessageCapture`."""

    def __init__(self, capture: MessageCapture) -> None:
        """Deliver into ``capture``."""
        self.capture = capture

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Record the envelope and accept the message."""
        raw = envelope.original_content or envelope.content or b""
        content = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        self.capture.add(
            CapturedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=content,
            )
        )
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class SmtpServer:
    """Where the capturing SMTP server listens, and its capture."""

    host: str
    port: int
    capture: MessageCapture
