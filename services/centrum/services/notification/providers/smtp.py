"""SMTP delivery through aiosmtplib: STARTTLS or implicit TLS, and AUTH from the URL.

`smtp://user:pass@host:587?starttls=true` (or `smtps://host:465`). A 5xx reply is permanent, a
4xx reply or a connection problem is retryable.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from centrum.services.notification.providers.base import Delivery, ProviderError, ProviderResult
from centrum.services.notification.providers.email import build_email, envelope_recipients

__all__ = ["SmtpProvider"]

_MAX_IDLE = 32
"""Connections kept open between messages (one per concurrent send is enough)."""


class SmtpProvider:
    """Sends email to one SMTP relay over a pool of reused connections."""

    name = "smtp"

    def __init__(self, url: str, *, default_sender: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self._host = parts.hostname or "127.0.0.1"
        self._implicit_tls = parts.scheme == "smtps"
        self._port = parts.port or (465 if self._implicit_tls else 25)
        flag = (query.get("starttls") or ["auto"])[0].lower()
        self._starttls: bool | None = {"true": True, "1": True, "false": False, "0": False}.get(
            flag
        )
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._default_sender = default_sender
        self._timeout = timeout_s
        self._idle: list[aiosmtplib.SMTP] = []

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._implicit_tls,
            start_tls=self._starttls,
            timeout=self._timeout,
        )
        await client.connect()
        return client

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Sends one message on a pooled connection; maps SMTP replies to permanent or retryable
        failures. A connection that failed is dropped, a good one goes back to the pool."""
        message = build_email(delivery, self._default_sender)
        target = delivery.recipient.email
        sender = target.sender.address or self._default_sender
        client: aiosmtplib.SMTP | None = None
        try:
            client = self._idle.pop() if self._idle else await self._connect()
            try:
                _, reply = await client.send_message(
                    message, sender=sender, recipients=envelope_recipients(target)
                )
            except aiosmtplib.SMTPServerDisconnected:
                # A pooled connection the server closed while idle: one fresh try.
                client.close()
                client = await self._connect()
                _, reply = await client.send_message(
                    message, sender=sender, recipients=envelope_recipients(target)
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            self._discard(client)
            first = exc.recipients[0]
            raise ProviderError(
                first.message, code=str(first.code), permanent=first.code >= 500
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            self._discard(client)
            raise ProviderError(
                exc.message, code=str(exc.code), permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            self._discard(client)
            raise ProviderError(f"{type(exc).__name__}: {exc}", code="connection") from None
        if len(self._idle) < _MAX_IDLE:
            self._idle.append(client)
        else:
            self._discard(client)
        return ProviderResult(
            message_id=str(message["Message-ID"]), response_code="250", response_message=reply
        )

    def _discard(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None:
            client.close()

    async def close(self) -> None:
        """Closes the pooled connections."""
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
