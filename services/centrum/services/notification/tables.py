"""Tables of the notification service: templates, the outbox, attempts, history, preferences.

Times are Unix seconds as floats. Protobuf payloads (content, recipient) are stored serialized;
secrets of a recipient (webhook headers and signing secret) only encrypted under the master key.
"""

from __future__ import annotations

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = [
    "notification_attempts",
    "notification_history",
    "notification_idempotency",
    "notification_preferences",
    "notification_suppressions",
    "notification_templates",
    "notifications",
]

notification_templates = sa.Table(
    "notification_templates",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("template_id", sa.String(63), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("channel", sa.Integer, nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("latest", sa.Boolean, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("create_time", sa.Float, nullable=False),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("channel", sa.Integer, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("status_message", sa.Text, nullable=False, default=""),
    sa.Column("suppressed_by", sa.Integer, nullable=False, default=0),
    sa.Column("recipient", sa.LargeBinary, nullable=False),
    sa.Column("recipient_secrets", sa.LargeBinary, nullable=True),
    sa.Column("recipient_index", sa.Text, nullable=False),
    sa.Column("subscriber_id", sa.String(255), nullable=False),
    sa.Column("template_id", sa.String(63), nullable=False),
    sa.Column("template_version", sa.Integer, nullable=False),
    sa.Column("template_locale", sa.String(35), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("attachments", sa.LargeBinary, nullable=False),
    sa.Column("overrides", sa.LargeBinary, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.String(26), nullable=False),
    sa.Column("schedule_at", sa.Float, nullable=True),
    sa.Column("expire_time", sa.Float, nullable=True),
    sa.Column("attempt_count", sa.Integer, nullable=False),
    sa.Column("attempt_base", sa.Integer, nullable=False),
    sa.Column("due_at", sa.Float, nullable=True),
    sa.Column("lease_token", sa.String(32), nullable=True),
    sa.Column("lease_expires_at", sa.Float, nullable=True),
    sa.Column("sender", sa.String(255), nullable=False),
    sa.Column("create_time", sa.Float, nullable=False),
    sa.Column("update_time", sa.Float, nullable=False),
    sa.Column("send_time", sa.Float, nullable=True),
    sa.Index("ix_notifications_due", "due_at"),
    sa.Index("ix_notifications_tenant_create", "tenant", "create_time"),
    sa.Index("ix_notifications_batch", "batch_id"),
)

notification_idempotency = sa.Table(
    "notification_idempotency",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("notification_id", sa.String(26), nullable=False),
    sa.Column("create_time", sa.Float, nullable=False),
)

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("notification_id", sa.String(26), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("worker", sa.String(128), nullable=False),
    sa.Column("lease_token", sa.String(32), nullable=False),
    sa.Column("start_time", sa.Float, nullable=False),
    sa.Column("end_time", sa.Float, nullable=True),
    sa.Column("outcome", sa.Integer, nullable=False),
    sa.Column("response_code", sa.String(64), nullable=False),
    sa.Column("response_message", sa.Text, nullable=False),
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("next_attempt_time", sa.Float, nullable=True),
)

notification_history = sa.Table(
    "notification_history",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("notification_id", sa.String(26), nullable=False, index=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("time", sa.Float, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("actor", sa.String(255), nullable=False),
)

notification_preferences = sa.Table(
    "notification_preferences",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("subscriber_id", sa.String(255), primary_key=True),
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("channel", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("update_time", sa.Float, nullable=False),
)

notification_suppressions = sa.Table(
    "notification_suppressions",
    metadata,
    sa.Column("id", sa.String(26), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("channel", sa.Integer, nullable=False),
    sa.Column("address", sa.String(512), nullable=False),
    sa.Column("reason", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("notification_id", sa.String(26), nullable=False),
    sa.Column("creator", sa.String(255), nullable=False),
    sa.Column("create_time", sa.Float, nullable=False),
    sa.Column("expire_time", sa.Float, nullable=True),
    sa.UniqueConstraint("tenant", "channel", "address"),
)
