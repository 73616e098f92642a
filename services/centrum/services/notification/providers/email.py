"""Building the MIME message of an email notification, shared by SMTP, SES and the maildir."""

from __future__ import annotations

import email.utils
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from centrum.notification.v1 import notification_pb2
from centrum.services.notification.providers.base import Delivery

__all__ = ["build_email", "envelope_recipients", "format_address"]

_RESERVED_HEADERS = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
}


def format_address(address: notification_pb2.EmailAddress) -> str:
    """`"Name" <addr>` (RFC 2047-encoded when needed) or the bare address."""
    return email.utils.formataddr((address.display_name, address.address), charset="utf-8")


def envelope_recipients(recipient: notification_pb2.EmailRecipient) -> list[str]:
    """Every RCPT TO address: to, cc and bcc."""
    return [a.address for a in (*recipient.to, *recipient.cc, *recipient.bcc)]


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def build_email(delivery: Delivery, default_sender: str) -> Message:
    """The MIME message: text and/or HTML alternatives, attachments, headers (no Bcc).

    Built with the compat32 MIME classes, which cost a fraction of `EmailMessage`'s header
    parsing per message.
    """
    target = delivery.recipient.email
    content = delivery.content
    body: Message
    if content.text and content.html:
        body = MIMEMultipart("alternative")
        body.attach(MIMEText(content.text, "plain", "utf-8"))
        body.attach(MIMEText(content.html, "html", "utf-8"))
    elif content.html:
        body = MIMEText(content.html, "html", "utf-8")
    else:
        body = MIMEText(content.text, "plain", "utf-8")
    message = body
    if delivery.attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for attachment in delivery.attachments:
            maintype, _, subtype = (
                attachment.content_type or "application/octet-stream"
            ).partition("/")
            part = MIMEBase(maintype, subtype or "octet-stream")
            part.set_payload(attachment.data)
            encoders.encode_base64(part)
            disposition = "inline" if attachment.content_id else "attachment"
            part.add_header("Content-Disposition", disposition, filename=attachment.filename)
            if attachment.content_id:
                part["Content-ID"] = f"<{attachment.content_id}>"
            message.attach(part)
    message["From"] = format_address(target.sender) if target.sender.address else default_sender
    message["To"] = ", ".join(format_address(a) for a in target.to)
    if target.cc:
        message["Cc"] = ", ".join(format_address(a) for a in target.cc)
    if target.reply_to:
        message["Reply-To"] = ", ".join(format_address(a) for a in target.reply_to)
    message["Subject"] = _header(content.subject)  # type: ignore[assignment]
    message["Date"] = email.utils.formatdate(localtime=False)
    domain = (default_sender.rpartition("@")[2] or "centrum").strip(">")
    message["Message-ID"] = f"<{delivery.notification_id}@{domain}>"
    message["X-Centrum-Notification-Id"] = delivery.notification_id
    for name, value in delivery.headers.items():
        message[name] = value
    for name, value in target.headers.items():
        if name.lower() not in _RESERVED_HEADERS:
            message[name] = _header(value)  # type: ignore[assignment]
    return message
