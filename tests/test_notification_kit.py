"""Shared helpers of the notification tests (no tests here): clients, polling, an SMTP server
that can be stopped and restarted on one port, and a loopback HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from google.protobuf import struct_pb2

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.sdk.aio import AsyncClient, connect
from centrum.server import CentrumApp
from harness._postgres import (
    create_database,
    drop_database,
    new_database_name,
    sqlalchemy_url,
    working_role,
)
from harness.backends import CapturedMessage, MessageCapture, free_port
from harness.tokens import TokenMint

__all__ = [
    "FAST_DISPATCH",
    "DedicatedSmtp",
    "HttpReceiver",
    "email_send",
    "fresh_postgres",
    "notify_client",
    "poll",
    "struct",
]

FAST_DISPATCH: dict[str, Any] = {
    "poll_interval_s": 0.05,
    "backoff_base_s": 0.05,
    "backoff_max_s": 0.2,
    "provider_timeout_s": 5.0,
}
"""Notification settings that keep dispatch and retries quick in tests."""


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test alone, so no other test's server claims its outbox."""
    role = working_role()
    assert role is not None, postgres_url
    name = new_database_name()
    create_database(role, name)
    try:
        yield sqlalchemy_url(role, name)
    finally:
        drop_database(role, name)


def notify_client(app: CentrumApp, mint: TokenMint, tenant: str = "acme") -> AsyncClient:
    """An SDK client whose token holds every notify scope in `tenant`."""
    return connect(
        f"127.0.0.1:{app.port}",
        token=mint.token(subject="svc-notify", tenant=tenant, scopes=["notify.admin"]),
    )


async def poll(probe: Callable[[], Awaitable[Any]], what: str, within: float = 15.0) -> Any:
    """Awaits `probe` until it returns something truthy, which is returned; fails after
    `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.05)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    """A Struct of plain values."""
    message = struct_pb2.Struct()
    message.update(values)
    return message


def email_send(to: str = "ada@example.com", **fields: Any) -> ns.SendRequest:
    """A Send of inline email content to `to`."""
    request = ns.SendRequest(
        recipient=pb.Recipient(email=pb.EmailRecipient(to=[pb.EmailAddress(address=to)])),
        content=pb.Content(subject="Hello", text="Hello there"),
    )
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(request, name).extend(value)
        elif hasattr(value, "CopyFrom"):
            getattr(request, name).CopyFrom(value)
        else:
            setattr(request, name, value)
    return request


class _Handler:
    def __init__(self, server: DedicatedSmtp) -> None:
        self.server = server

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        owner = self.server
        owner.data_started.set()
        if owner.hold is not None:
            await asyncio.get_running_loop().run_in_executor(None, owner.hold.wait)
            return "451 4.3.0 held and dropped by the test"
        raw = envelope.original_content or envelope.content or b""
        content = raw if isinstance(raw, bytes) else raw.encode()
        owner.capture.add(
            CapturedMessage(envelope.mail_from or "", tuple(envelope.rcpt_tos), content)
        )
        return "250 OK"


class DedicatedSmtp:
    """An aiosmtpd server on a fixed loopback port that a test can stop and start again.

    With `hold` set, the first DATA blocks until the event is set and is then refused, so a
    client can be killed in the middle of a send.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.capture = MessageCapture()
        self.data_started = threading.Event()
        self.hold: threading.Event | None = None
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The smtp:// URL of the server (no TLS)."""
        return f"smtp://127.0.0.1:{self.port}?starttls=false"

    def start(self) -> None:
        """Listens on the port."""
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stops listening (connections are refused)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class HttpReceiver:
    """A loopback HTTP server recording every POST; answers `status` (default 200)."""

    status: int = 200
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    def start(self) -> HttpReceiver:
        """Starts serving in a thread on a free loopback port."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append((self.path, dict(self.headers.items()), body))
                payload = json.dumps({"name": f"projects/test/messages/{len(receiver.requests)}"})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def url(self, path: str = "/hook") -> str:
        """A URL on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        """Stops the server."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
