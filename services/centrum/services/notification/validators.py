"""Request validators of the notification services, run by the chain's validation step."""

from __future__ import annotations

import re
from collections.abc import Sequence

from google.protobuf import message

from centrum.interceptors.errors import FieldViolation
from centrum.interceptors.validation import Validator
from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.notification.v1 import preference_service_pb2 as ps
from centrum.notification.v1 import template_service_pb2 as ts
from centrum.services.notification.preferences import CRITICAL
from centrum.services.notification.templates import TEMPLATE_ID, template_violations

__all__ = ["VALIDATORS", "recipient_violations"]

_TAG = re.compile(r"^[a-z0-9_.:-]{1,64}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_MAX_TAGS = 20


def recipient_violations(recipient: pb.Recipient, where: str = "recipient") -> list[FieldViolation]:
    """What is wrong with a recipient (no target, bad addresses, non-HTTP webhook URL)."""
    kind = recipient.WhichOneof("target")
    if kind is None:
        return [FieldViolation(where, "one of email, sms, push or webhook must be set")]
    problems = []
    if kind == "email":
        e = recipient.email
        if not e.to:
            problems.append(FieldViolation(f"{where}.email.to", "needs at least one address"))
        everyone = [*e.to, *e.cc, *e.bcc]
        if len(everyone) > 50:
            problems.append(FieldViolation(f"{where}.email", "at most 50 addresses in total"))
        for name, group in (("to", e.to), ("cc", e.cc), ("bcc", e.bcc), ("reply_to", e.reply_to)):
            for i, address in enumerate(group):
                if not _EMAIL.match(address.address) or any(
                    c in address.address for c in "\r\n<>,"
                ):
                    problems.append(
                        FieldViolation(
                            f"{where}.email.{name}[{i}].address", "is not an email address"
                        )
                    )
        for header, value in e.headers.items():
            if any(c in header + value for c in "\r\n") or not header:
                problems.append(
                    FieldViolation(f"{where}.email.headers", "line breaks are not allowed")
                )
    elif kind == "sms":
        if not _E164.match(recipient.sms.phone_number):
            problems.append(
                FieldViolation(f"{where}.sms.phone_number", "must be E.164 (+4915112345678)")
            )
    elif kind == "push":
        if not recipient.push.device_token:
            problems.append(FieldViolation(f"{where}.push.device_token", "is required"))
    elif kind == "webhook":
        url = recipient.webhook.url
        if not re.match(r"^https?://", url, re.IGNORECASE):
            problems.append(FieldViolation(f"{where}.webhook.url", "must be an http or https URL"))
    if len(recipient.subscriber_id) > 255:
        problems.append(FieldViolation(f"{where}.subscriber_id", "at most 255 characters"))
    return problems


_MIN_SECONDS = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z


def timestamp_violations(request: message.Message, prefix: str = "") -> list[FieldViolation]:
    """Every Timestamp set anywhere in `request` outside RFC 3339's range, and every string
    with a NUL character (PostgreSQL cannot store one)."""
    problems = []
    for field, value in request.ListFields():
        path = f"{prefix}{field.name}"
        if field.type == field.TYPE_STRING:
            texts = value if field.is_repeated else [value]
            if any("\x00" in text for text in texts):
                problems.append(FieldViolation(path, "must not contain NUL characters"))
            continue
        if field.message_type is None:
            continue
        if field.message_type.full_name == "google.protobuf.Timestamp":
            if not (_MIN_SECONDS <= value.seconds <= _MAX_SECONDS and 0 <= value.nanos < 10**9):
                problems.append(FieldViolation(path, "is not a valid timestamp"))
        elif field.message_type.GetOptions().map_entry:
            continue
        elif field.is_repeated:
            for i, item in enumerate(value):
                problems.extend(timestamp_violations(item, f"{path}[{i}]."))
        else:
            problems.extend(timestamp_violations(value, f"{path}."))
    return problems


def _with_timestamps(validator: Validator | None) -> Validator:
    def check(request: message.Message) -> Sequence[FieldViolation]:
        return [*timestamp_violations(request), *(validator(request) if validator else [])]

    return check


def _tags(tags: Sequence[str], where: str) -> list[FieldViolation]:
    problems = []
    if len(tags) > _MAX_TAGS:
        problems.append(FieldViolation(where, f"at most {_MAX_TAGS} tags"))
    for i, tag in enumerate(tags):
        if not _TAG.match(tag):
            problems.append(
                FieldViolation(f"{where}[{i}]", "1 to 64 of a-z, 0-9, '-', '_', '.' and ':'")
            )
    return problems


def _body(request: ns.SendRequest | ns.SendBatchRequest) -> list[FieldViolation]:
    body = request.WhichOneof("body")
    if body is None:
        return [FieldViolation("body", "one of template or content must be set")]
    if body == "template" and not TEMPLATE_ID.match(request.template.template_id):
        return [FieldViolation("template.template_id", "is not a template id")]
    return []


def _send(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, ns.SendRequest)
    problems = [
        *recipient_violations(request.recipient),
        *_body(request),
        *_tags(request.tags, "tags"),
    ]
    if len(request.idempotency_key) > 255:
        problems.append(FieldViolation("idempotency_key", "at most 255 characters"))
    if len(request.category) > 64:
        problems.append(FieldViolation("category", "at most 64 characters"))
    if len(request.attachments) > 20:
        problems.append(FieldViolation("attachments", "at most 20"))
    return problems


def _send_batch(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, ns.SendBatchRequest)
    problems = [*_body(request), *_tags(request.tags, "tags")]
    if not 1 <= len(request.items) <= 1000:
        problems.append(FieldViolation("items", "1 to 1,000 items"))
    if len(request.attachments) > 20:
        problems.append(FieldViolation("attachments", "at most 20"))
    return problems


def _needs(field: str) -> Validator:
    def check(request: message.Message) -> Sequence[FieldViolation]:
        return [] if getattr(request, field) else [FieldViolation(field, "is required")]

    return check


def _create_template(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, ts.CreateTemplateRequest)
    problems = []
    if not TEMPLATE_ID.match(request.template_id):
        problems.append(
            FieldViolation(
                "template_id", "1 to 63 of a-z, 0-9, '-', '_', '.', starting with a-z or 0-9"
            )
        )
    return [*problems, *template_violations(request.template)]


def _preview(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, ts.PreviewTemplateRequest)
    source = request.WhichOneof("source")
    if source is None:
        return [FieldViolation("source", "one of template_id or draft must be set")]
    if source == "draft":
        return template_violations(request.draft, "draft")
    return []


def _update_preferences(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, ps.UpdatePreferencesRequest)
    problems = [] if request.subscriber_id else [FieldViolation("subscriber_id", "is required")]
    for i, rule in enumerate(request.rules):
        if rule.category == CRITICAL:
            problems.append(
                FieldViolation(f"rules[{i}].category", "critical cannot be opted out of")
            )
        if len(rule.category) > 64:
            problems.append(FieldViolation(f"rules[{i}].category", "at most 64 characters"))
    return problems


def _add_suppression(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, ps.AddSuppressionRequest)
    problems = []
    if request.channel in (pb.CHANNEL_UNSPECIFIED, pb.CHANNEL_WEBHOOK):
        problems.append(FieldViolation("channel", "must be email, sms or push"))
    if not request.address:
        problems.append(FieldViolation("address", "is required"))
    return problems


_N = "/centrum.notification.v1.NotificationService/"
_T = "/centrum.notification.v1.TemplateService/"
_P = "/centrum.notification.v1.PreferenceService/"

_OWN: dict[str, Validator] = {
    _N + "Send": _send,
    _N + "SendBatch": _send_batch,
    _N + "GetNotification": _needs("notification_id"),
    _N + "CancelNotification": _needs("notification_id"),
    _N + "RetryNotification": _needs("notification_id"),
    _T + "CreateTemplate": _create_template,
    _T + "GetTemplate": _needs("template_id"),
    _T + "UpdateTemplate": _needs("template_id"),
    _T + "DeleteTemplate": _needs("template_id"),
    _T + "ListTemplateVersions": _needs("template_id"),
    _T + "PreviewTemplate": _preview,
    _P + "GetPreferences": _needs("subscriber_id"),
    _P + "UpdatePreferences": _update_preferences,
    _P + "Unsubscribe": _needs("token"),
    _P + "AddSuppression": _add_suppression,
    _P + "RemoveSuppression": _needs("suppression_id"),
}

VALIDATORS: dict[str, Validator] = {
    f"/{service.full_name}/{method.name}": _with_timestamps(
        _OWN.get(f"/{service.full_name}/{method.name}")
    )
    for service in (
        ns.DESCRIPTOR.services_by_name["NotificationService"],
        ts.DESCRIPTOR.services_by_name["TemplateService"],
        ps.DESCRIPTOR.services_by_name["PreferenceService"],
    )
    for method in service.methods
}
"""Validator per full method path: timestamps in range everywhere, then each method's rules."""
