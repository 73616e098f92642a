"""What a provider is handed, what it answers, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from centrum.notification.v1 import notification_pb2

__all__ = ["Delivery", "Provider", "ProviderError", "ProviderResult"]


@dataclass(frozen=True)
class Delivery:
    """One notification as a provider sends it (recipient secrets already decrypted)."""

    notification_id: str
    tenant: str
    channel: int
    recipient: notification_pb2.Recipient
    content: notification_pb2.Content
    attachments: tuple[notification_pb2.Attachment, ...] = ()
    priority: int = notification_pb2.PRIORITY_NORMAL
    overrides: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    """Extra email headers set by the server (List-Unsubscribe)."""


@dataclass(frozen=True)
class ProviderResult:
    """A provider's acceptance: its message id and response."""

    message_id: str = ""
    response_code: str = ""
    response_message: str = ""


class ProviderError(Exception):
    """A provider call failed; `permanent` when no retry can fix it."""

    def __init__(self, message: str, *, code: str = "", permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.permanent = permanent


class Provider(Protocol):
    """Hands one notification to a transport."""

    name: str
    """The configured name of the provider ("smtp", "ses", ...)."""

    async def send(self, delivery: Delivery) -> ProviderResult:
        """Sends `delivery`; raises ProviderError on failure."""
        ...

    async def close(self) -> None:
        """Releases connections and clients."""
        ...
