"""Sending email through a stored template in one call: `send_email`.

    from centrum import sdk
    from centrum.sdk.notify import send_email

    with sdk.connect(target, client_credentials=credentials) as client:
        notification_id = send_email(
            client,
            to="ada@example.com",
            template="order-confirmation",
            context={"order": {"id": "o-42", "total": Decimal("19.90")}},
            tags=["orders"],
            idempotency_key="order-o-42-confirmation",
        )

The helper is a thin layer over NotificationService.Send: it builds the request, checks the
arguments that can be checked locally (raising `InvalidInput`), and returns the notification id.
`send_email_async` is the twin for `centrum.sdk.aio` clients.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, Unpack

from centrum.notification.v1 import notification_pb2, notification_service_pb2
from centrum.sdk._inputs import invalid, plain_struct, timestamp
from centrum.sdk.errors import FieldViolation

if TYPE_CHECKING:
    from centrum.sdk._client import Client
    from centrum.sdk.aio import AsyncClient

__all__ = ["Email", "email_attachment", "send_email", "send_email_async", "send_email_request"]


def email_attachment(
    filename: str, data: bytes, content_type: str | None = None
) -> notification_pb2.Attachment:
    """An attachment carrying `data`; the content type is guessed from `filename` when not given."""
    guessed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return notification_pb2.Attachment(filename=filename, content_type=guessed, data=data)


class Email(TypedDict):
    """The arguments of `send_email`: recipients, template, context and delivery options."""

    to: str | Sequence[str]
    """One address or several, each like ada@example.com."""
    template: str
    """The id of the stored template to render."""
    context: Mapping[str, Any]
    """The template variables, plain values (Decimals and dates become strings)."""
    tags: NotRequired[Sequence[str]]
    schedule_at: NotRequired[dt.datetime | None]
    """An aware datetime to send at; unset or past means at once."""
    idempotency_key: NotRequired[str | None]
    """The same key within 24 hours returns the first notification instead of sending again."""
    locale: NotRequired[str]
    category: NotRequired[str]
    """The preference category; empty means the template's."""
    attachments: NotRequired[Sequence[notification_pb2.Attachment]]
    """Files to attach (see `email_attachment`)."""


def send_email_request(**email: Unpack[Email]) -> notification_service_pb2.SendRequest:
    """The SendRequest `send_email` sends (for batching or inspection); raises `InvalidInput`."""
    to, template = email["to"], email["template"]
    addresses = [to] if isinstance(to, str) else list(to)
    violations = [
        FieldViolation(f"to[{i}]", "must be an email address like ada@example.com")
        for i, address in enumerate(addresses)
        if "@" not in address.strip(" @")
    ]
    if not addresses:
        violations.append(FieldViolation("to", "needs at least one address"))
    if not template:
        violations.append(FieldViolation("template", "must name a stored template"))
    if violations:
        raise invalid(violations)
    request = notification_service_pb2.SendRequest(
        recipient=notification_pb2.Recipient(
            email=notification_pb2.EmailRecipient(
                to=[notification_pb2.EmailAddress(address=a.strip()) for a in addresses]
            )
        ),
        template=notification_pb2.TemplateRef(template_id=template, locale=email.get("locale", "")),
        context=plain_struct("context", email["context"]),
        tags=list(email.get("tags", ())),
        category=email.get("category", ""),
        idempotency_key=email.get("idempotency_key") or "",
        attachments=list(email.get("attachments", ())),
    )
    schedule_at = email.get("schedule_at")
    if schedule_at is not None:
        request.schedule_at.CopyFrom(timestamp("schedule_at", schedule_at))
    return request


def send_email(client: Client, **email: Unpack[Email]) -> str:
    """Sends an email rendered from the stored `template` with `context`; returns its id.

    `client` is a `centrum.sdk.Client`; the arguments are those of `Email` (`to`, `template`,
    `context`, and optionally `tags`, `schedule_at`, `idempotency_key`, `locale`, `category`,
    `attachments`). Bad arguments raise `InvalidInput` before any call. Needs `notify.send`.
    """
    response: notification_service_pb2.SendResponse = client.notifications.Send(
        send_email_request(**email)
    )
    return response.notification.id


async def send_email_async(client: AsyncClient, **email: Unpack[Email]) -> str:
    """`send_email` for a `centrum.sdk.aio.AsyncClient`."""
    response: notification_service_pb2.SendResponse = await client.notifications.Send(
        send_email_request(**email)
    )
    return response.notification.id
