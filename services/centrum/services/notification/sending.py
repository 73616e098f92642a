"""Accepting sends: render, check recipients against preferences and suppressions, store.

Content is rendered at Send, so a later template change never alters an accepted notification.
A missing template variable is INVALID_ARGUMENT naming it. The idempotency key deduplicates
within the configured window; the same key with a different request is ALREADY_EXISTS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from google.protobuf import struct_pb2

from centrum.interceptors.errors import (
    AlreadyExists,
    CentrumError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
)
from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import template_pb2
from centrum.services.keys import MasterKey
from centrum.services.notification.ids import new_id
from centrum.services.notification.outbox import IdempotencyConflict, NewNotification, Outbox
from centrum.services.notification.preferences import CRITICAL, PreferenceStore, allowed_by
from centrum.services.notification.rendering import (
    RenderFailure,
    pick_locale,
    render_variant,
    struct_to_dict,
)
from centrum.services.notification.secrets import RecipientSecrets
from centrum.services.notification.templates import TemplateStore

__all__ = ["SendOptions", "Sender", "UnsubscribeTokens", "channel_of"]

_CHANNELS = {
    "email": pb.CHANNEL_EMAIL,
    "sms": pb.CHANNEL_SMS,
    "push": pb.CHANNEL_PUSH,
    "webhook": pb.CHANNEL_WEBHOOK,
}
_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


def channel_of(recipient: pb.Recipient) -> int:
    """The channel selected by the recipient's kind; 0 when none is set."""
    return _CHANNELS.get(recipient.WhichOneof("target") or "", pb.CHANNEL_UNSPECIFIED)


def recipient_addresses(recipient: pb.Recipient) -> list[str]:
    """Every address of a recipient, as the suppression list and filters see them."""
    kind = recipient.WhichOneof("target")
    if kind == "email":
        e = recipient.email
        return [a.address.lower() for a in (*e.to, *e.cc, *e.bcc)]
    if kind == "sms":
        return [recipient.sms.phone_number]
    if kind == "push":
        return [recipient.push.device_token]
    if kind == "webhook":
        return [recipient.webhook.url]
    return []


class UnsubscribeTokens:
    """Self-verifying unsubscribe tokens: the claims sealed with the master key (AES-GCM)."""

    _PURPOSE = b"notification-unsubscribe"

    def __init__(self, master_key: MasterKey) -> None:
        self._key = master_key

    def issue(self, claims: Mapping[str, Any]) -> str:
        """A URL-safe token carrying `claims`."""
        blob = self._key.encrypt(json.dumps(dict(claims), sort_keys=True).encode(), self._PURPOSE)
        return base64.urlsafe_b64encode(blob).decode().rstrip("=")

    def read(self, token: str) -> dict[str, Any]:
        """The claims of a token; raises ValueError when it is malformed or tampered."""
        try:
            blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            claims = json.loads(self._key.decrypt(blob, self._PURPOSE))
        except (ValueError, InvalidTag, TypeError) as exc:
            raise ValueError("the token is invalid") from exc
        if not isinstance(claims, dict):
            raise ValueError("the token is invalid")
        return claims


@dataclass(frozen=True)
class SendOptions:
    """The shared parts of one send or of a whole batch."""

    tags: Sequence[str] = ()
    category: str = ""
    schedule_at: float | None = None
    priority: int = pb.PRIORITY_NORMAL
    expire_time: float | None = None
    attachments: Sequence[pb.Attachment] = ()
    overrides: struct_pb2.Struct | None = None
    batch_id: str = ""


class Sender:
    """Turns send requests into outbox rows."""

    def __init__(
        self,
        outbox: Outbox,
        templates: TemplateStore,
        preferences: PreferenceStore,
        secrets: RecipientSecrets,
        unsubscribe: UnsubscribeTokens,
        *,
        unsubscribe_base_url: str,
        webhook_secret_configured: bool,
        on_accept: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._templates = templates
        self._preferences = preferences
        self._secrets = secrets
        self._unsubscribe = unsubscribe
        self._unsubscribe_base = unsubscribe_base_url
        self._webhook_secret = webhook_secret_configured
        self._on_accept = on_accept
        self._clock = clock

    def wake(self) -> None:
        """Tells the local dispatcher that something became due."""
        self._on_accept()

    async def template_for(self, tenant: str, ref: pb.TemplateRef) -> template_pb2.Template:
        """The template version a send names (NOT_FOUND when missing)."""
        return await self._templates.get(tenant, ref.template_id, ref.version)

    async def prepare(
        self,
        *,
        tenant: str,
        sender: str,
        recipient: pb.Recipient,
        template: template_pb2.Template | None,
        locale: str,
        inline: pb.Content | None,
        context: Mapping[str, Any],
        options: SendOptions,
        idempotency_key: str,
        request_hash: str,
        known_suppressions: Mapping[str, int] | None = None,
    ) -> NewNotification:
        """Renders and checks one notification; raises a CentrumError for the caller's mistakes."""
        channel = channel_of(recipient)
        if template is not None and template.channel != channel:
            raise InvalidArgument(
                "the template is for another channel than the recipient",
                reason="CHANNEL_MISMATCH",
                field_violations=[FieldViolation("recipient", "does not match the template")],
            )
        if channel == pb.CHANNEL_WEBHOOK and not (
            recipient.webhook.signing_secret or self._webhook_secret
        ):
            raise FailedPrecondition(
                "no webhook signing secret: give recipient.webhook.signing_secret or configure "
                "notification.webhook_secret",
                reason="WEBHOOK_SECRET_MISSING",
            )
        notification_id = new_id(self._clock())
        category = options.category or (template.category if template else "")
        now = self._clock()
        schedule_at = (
            options.schedule_at if options.schedule_at and options.schedule_at > now else None
        )
        status = pb.NOTIFICATION_STATUS_SCHEDULED if schedule_at else pb.NOTIFICATION_STATUS_QUEUED
        status_message = ""
        suppressed_by = pb.SUPPRESSED_BY_UNSPECIFIED
        recipient = _copy(recipient)

        suppressed_reason = await self._apply_suppressions(
            tenant, channel, recipient, category, known_suppressions
        )
        if suppressed_reason:
            status, suppressed_by = (
                pb.NOTIFICATION_STATUS_SUPPRESSED,
                pb.SUPPRESSED_BY_SUPPRESSION_LIST,
            )
            status_message = suppressed_reason
        elif recipient.subscriber_id and category != CRITICAL:
            rules, _ = await self._preferences.rules(tenant, recipient.subscriber_id)
            if not allowed_by(rules, category, channel):
                status, suppressed_by = (
                    pb.NOTIFICATION_STATUS_SUPPRESSED,
                    pb.SUPPRESSED_BY_PREFERENCE,
                )
                status_message = "the subscriber opted out of this category or channel"

        locale_used = ""
        if template is not None:
            unsubscribe_url = self._unsubscribe_url(tenant, recipient, channel, category)
            full_context = {
                **context,
                "centrum": {"notification_id": notification_id, "unsubscribe_url": unsubscribe_url},
            }
            missing = [path for path in template.required_variables if not _has_path(context, path)]
            if missing:
                raise InvalidArgument(
                    f"the context lacks the variable {missing[0]!r}",
                    reason="MISSING_VARIABLE",
                    info={"variable": missing[0]},
                    field_violations=[
                        FieldViolation(f"context.{m}", "is required") for m in missing
                    ],
                )
            try:
                locale_used = pick_locale(template.locales, locale, template.default_locale)
                content = render_variant(template.locales[locale_used], full_context)
            except RenderFailure as failure:
                if failure.missing:
                    raise InvalidArgument(
                        f"the template {failure.part} uses the undefined variable "
                        f"{failure.missing!r}",
                        reason="MISSING_VARIABLE",
                        info={"variable": failure.missing, "part": failure.part},
                        field_violations=[
                            FieldViolation(f"context.{failure.missing}", "is undefined")
                        ],
                    ) from None
                raise InvalidArgument(
                    f"the template did not render: {failure.message}",
                    reason="TEMPLATE_RENDER_FAILED",
                    info={"part": failure.part},
                    field_violations=[FieldViolation("template", failure.message)],
                ) from None
        else:
            assert inline is not None
            content = inline
        _check_content(channel, content)
        attachments = _attachments(channel, options.attachments)

        secrets_blob = self._secrets.seal(tenant, notification_id, recipient)
        return NewNotification(
            id=notification_id,
            tenant=tenant,
            channel=channel,
            status=status,
            status_message=status_message,
            suppressed_by=suppressed_by,
            recipient=recipient.SerializeToString(deterministic=True),
            recipient_secrets=secrets_blob,
            recipient_index="|" + "|".join(recipient_addresses(recipient)) + "|",
            subscriber_id=recipient.subscriber_id,
            content=content.SerializeToString(deterministic=True),
            sender=sender,
            request_hash=request_hash,
            template_id=template.id if template else "",
            template_version=template.version if template else 0,
            template_locale=locale_used,
            attachments=attachments,
            overrides=options.overrides.SerializeToString(deterministic=True)
            if options.overrides
            else b"",
            tags=list(options.tags),
            category=category,
            priority=options.priority or pb.PRIORITY_NORMAL,
            idempotency_key=idempotency_key,
            batch_id=options.batch_id,
            schedule_at=schedule_at,
            expire_time=options.expire_time,
        )

    async def store(self, new: NewNotification) -> tuple[Any, bool]:
        """Accepts one prepared notification; the idempotency key may make it a replay."""
        try:
            row, replayed = await self._outbox.accept(new)
        except IdempotencyConflict as conflict:
            raise AlreadyExists(
                "the idempotency key was used for a different request",
                reason="IDEMPOTENCY_KEY_REUSED",
                resource=("notification", conflict.notification_id),
            ) from None
        if not replayed:
            self._on_accept()
        return row, replayed

    async def store_many(
        self, items: Sequence[NewNotification]
    ) -> list[tuple[Any, bool] | CentrumError]:
        """Accepts many; an item whose key was reused gets its error instead of a row."""
        keyed = [i for i in items if i.idempotency_key]
        plain = [i for i in items if not i.idempotency_key]
        results: dict[str, tuple[Any, bool] | CentrumError] = {}
        if plain:
            for item, outcome in zip(plain, await self._outbox.accept_many(plain), strict=True):
                results[item.id] = outcome
        for item in keyed:
            try:
                results[item.id] = await self.store(item)
            except AlreadyExists as exc:
                results[item.id] = exc
        if plain:
            self._on_accept()
        return [results[i.id] for i in items]

    async def suppressions_of(
        self, tenant: str, recipients: Sequence[pb.Recipient]
    ) -> dict[str, int]:
        """The suppressed addresses among many recipients, in one query per channel (batches)."""
        by_channel: dict[int, list[str]] = {}
        for recipient in recipients:
            by_channel.setdefault(channel_of(recipient), []).extend(recipient_addresses(recipient))
        found: dict[str, int] = {}
        for channel, addresses in by_channel.items():
            if channel != pb.CHANNEL_WEBHOOK:
                found.update(await self._preferences.suppressed(tenant, channel, addresses))
        return found

    async def _apply_suppressions(
        self,
        tenant: str,
        channel: int,
        recipient: pb.Recipient,
        category: str,
        known: Mapping[str, int] | None,
    ) -> str:
        """Drops suppressed addresses; returns why the whole notification is suppressed."""
        if channel == pb.CHANNEL_WEBHOOK:
            return ""
        addresses = recipient_addresses(recipient)
        if known is None:
            found = await self._preferences.suppressed(tenant, channel, addresses)
        else:
            found = {a: known[a] for a in addresses if a in known}
        if category == CRITICAL:
            found = {a: r for a, r in found.items() if r != 4}  # unsubscribes do not stop critical
        if not found:
            return ""
        if channel == pb.CHANNEL_EMAIL:
            for field_name in ("to", "cc", "bcc"):
                kept = [
                    a
                    for a in getattr(recipient.email, field_name)
                    if a.address.lower() not in found
                ]
                del getattr(recipient.email, field_name)[:]
                getattr(recipient.email, field_name).extend(kept)
            if recipient.email.to:
                return ""
        return "every address of the recipient is on the suppression list"

    def _unsubscribe_url(
        self, tenant: str, recipient: pb.Recipient, channel: int, category: str
    ) -> str:
        if not self._unsubscribe_base or category == CRITICAL:
            return ""
        claims: dict[str, Any] = {"tenant": tenant, "channel": channel, "category": category}
        if recipient.subscriber_id:
            claims["subscriber_id"] = recipient.subscriber_id
        else:
            addresses = recipient_addresses(recipient)
            claims["address"] = addresses[0] if addresses else ""
        token = self._unsubscribe.issue(claims)
        separator = "&" if "?" in self._unsubscribe_base else "?"
        return f"{self._unsubscribe_base}{separator}token={quote(token)}"


def request_hash(message: Any) -> str:
    """A digest of a request, to tell a replay from a different request under the same key."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()


def context_of(*structs: struct_pb2.Struct | None) -> dict[str, Any]:
    """Merges contexts: later top-level keys win."""
    merged: dict[str, Any] = {}
    for struct in structs:
        merged.update(struct_to_dict(struct))
    return merged


def _copy(recipient: pb.Recipient) -> pb.Recipient:
    copy = pb.Recipient()
    copy.CopyFrom(recipient)
    return copy


def _has_path(context: Mapping[str, Any], path: str) -> bool:
    node: Any = context
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _check_content(channel: int, content: pb.Content) -> None:
    problems = []
    if channel == pb.CHANNEL_EMAIL:
        if not content.subject:
            problems.append(FieldViolation("content.subject", "an email needs a subject"))
        if not (content.text or content.html):
            problems.append(FieldViolation("content.text", "an email needs text or html"))
    elif channel == pb.CHANNEL_SMS and not content.text:
        problems.append(FieldViolation("content.text", "an SMS needs text"))
    elif channel == pb.CHANNEL_PUSH and not (
        content.subject or content.text or content.HasField("data")
    ):
        problems.append(FieldViolation("content.text", "a push needs a title, text or data"))
    elif channel == pb.CHANNEL_WEBHOOK and not content.HasField("data"):
        problems.append(FieldViolation("content.data", "a webhook needs data"))
    if problems:
        raise InvalidArgument(
            "the content does not suit the channel",
            reason="INVALID_CONTENT",
            field_violations=problems,
        )


def _attachments(channel: int, attachments: Sequence[pb.Attachment]) -> bytes:
    if not attachments:
        return b""
    if channel != pb.CHANNEL_EMAIL:
        raise InvalidArgument(
            "attachments are only for email",
            reason="INVALID_REQUEST",
            field_violations=[FieldViolation("attachments", "only email carries attachments")],
        )
    wrapper = pb.Notification()
    total = 0
    for index, attachment in enumerate(attachments):
        if attachment.WhichOneof("source") != "data":
            raise FailedPrecondition(
                "attachments by storage object reference are not supported by this server yet",
                reason="ATTACHMENT_SOURCE_UNSUPPORTED",
                info={"index": str(index)},
            )
        total += len(attachment.data)
        stored = wrapper.attachments.add()
        stored.CopyFrom(attachment)
        stored.size_bytes = len(attachment.data)
    if total > _MAX_ATTACHMENT_BYTES:
        raise InvalidArgument(
            "attachments exceed 25 MiB in total",
            reason="INVALID_REQUEST",
            field_violations=[FieldViolation("attachments", "at most 25 MiB in total")],
        )
    return wrapper.SerializeToString(deterministic=True)
