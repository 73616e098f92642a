"""Outbox rows as Notification messages, in the BASIC or FULL view."""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2

from centrum.notification.v1 import notification_pb2 as pb
from centrum.services.notification.outbox import Record, decode_tags

__all__ = ["notification_proto", "set_time", "time_of"]


def set_time(field: timestamp_pb2.Timestamp, seconds: float | None) -> None:
    """Sets a Timestamp field from Unix seconds (leaves it unset for None)."""
    if seconds is not None:
        field.FromNanoseconds(round(seconds * 1e9))


def time_of(message: Any, name: str) -> float | None:
    """Unix seconds of a Timestamp field, or None when it is unset."""
    if not message.HasField(name):
        return None
    stamp: timestamp_pb2.Timestamp = getattr(message, name)
    return float(stamp.ToNanoseconds()) / 1e9


def notification_proto(record: Record, *, full: bool) -> pb.Notification:
    """The Notification of a stored record; secrets are already absent from stored rows."""
    row = record.row
    n = pb.Notification(
        id=row.id,
        channel=row.channel,
        status=row.status,
        status_message=row.status_message,
        suppressed_by=row.suppressed_by,
        tags=decode_tags(row.tags),
        category=row.category,
        priority=row.priority,
        idempotency_key=row.idempotency_key or "",
        batch_id=row.batch_id,
        attempt_count=row.attempt_count,
        sender=row.sender,
    )
    n.recipient.ParseFromString(row.recipient)
    if row.template_id:
        n.template.template_id = row.template_id
        n.template.version = row.template_version
        n.template.locale = row.template_locale
    set_time(n.schedule_at, row.schedule_at)
    set_time(n.expire_time, row.expire_time)
    if row.status in (pb.NOTIFICATION_STATUS_RETRYING, pb.NOTIFICATION_STATUS_SCHEDULED):
        set_time(n.next_attempt_time, row.due_at)
    set_time(n.create_time, row.create_time)
    set_time(n.update_time, row.update_time)
    if row.status == pb.NOTIFICATION_STATUS_SENT:
        set_time(n.send_time, row.send_time)
    if not full:
        return n
    n.content.ParseFromString(row.content)
    if row.attachments:
        for attachment in pb.Notification.FromString(row.attachments).attachments:
            attachment.ClearField("data")
            n.attachments.append(attachment)
    for a in record.attempts:
        attempt = n.attempts.add(
            number=a.number,
            provider=a.provider,
            worker=a.worker,
            outcome=a.outcome,
            provider_response_code=a.response_code,
            provider_response_message=a.response_message,
            provider_message_id=a.message_id,
        )
        set_time(attempt.start_time, a.start_time)
        set_time(attempt.end_time, a.end_time)
        set_time(attempt.next_attempt_time, a.next_attempt_time)
    for h in record.history:
        change = n.history.add(status=h.status, message=h.message, actor=h.actor)
        set_time(change.time, h.time)
    return n
