"""The embedded provider: a local maildir outbox that stands in for every channel.

Emails are written as RFC 5322 files, other channels as JSON documents, each created 0600 in
`tmp/` and renamed into `new/`, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path

from google.protobuf import json_format

from centrum.notification.v1 import notification_pb2
from centrum.services.notification.providers.base import Delivery, ProviderError, ProviderResult
from centrum.services.notification.providers.email import build_email

__all__ = ["MaildirProvider"]


class MaildirProvider:
    """Writes each notification as one file into a maildir."""

    name = "maildir"

    def __init__(self, path: Path, *, default_sender: str) -> None:
        self.path = path
        self._default_sender = default_sender

    def _write(self, name: str, data: bytes) -> Path:
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path / "tmp" / name
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        final = self.path / "new" / name
        os.replace(temporary, final)
        return final

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Writes the message file; a full or unwritable disk is retryable."""
        if delivery.channel == notification_pb2.CHANNEL_EMAIL:
            data = build_email(delivery, self._default_sender).as_bytes()
            suffix = ".eml"
        else:
            document = {
                "notification_id": delivery.notification_id,
                "tenant": delivery.tenant,
                "recipient": json_format.MessageToDict(delivery.recipient),
                "content": json_format.MessageToDict(delivery.content),
            }
            data = json.dumps(document, sort_keys=True).encode()
            suffix = ".json"
        name = f"{int(time.time())}.{delivery.notification_id}.{socket.gethostname()}{suffix}"
        try:
            final = await asyncio.to_thread(self._write, name, data)
        except OSError as exc:
            raise ProviderError(f"writing the outbox failed: {exc}", code="io") from None
        return ProviderResult(message_id=final.name, response_code="stored")

    async def close(self) -> None:
        """Nothing to release."""
