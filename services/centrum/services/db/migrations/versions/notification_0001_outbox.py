"""Notification service: templates, the outbox with attempts and history, idempotency keys,
preferences and suppressions.

Revision ID: notification_0001
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "notification_0001"
down_revision = "0001"
branch_labels = ("notification",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_attempts",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=26), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=False),
        sa.Column("start_time", sa.Float(), nullable=False),
        sa.Column("end_time", sa.Float(), nullable=True),
        sa.Column("outcome", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.String(length=64), nullable=False),
        sa.Column("response_message", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("next_attempt_time", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_notification_attempts")),
    )
    op.create_index(
        op.f("ix_notification_attempts_notification_id"),
        "notification_attempts",
        ["notification_id"],
        unique=False,
    )
    op.create_table(
        "notification_history",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_notification_history")),
    )
    op.create_index(
        op.f("ix_notification_history_notification_id"),
        "notification_history",
        ["notification_id"],
        unique=False,
    )
    op.create_table(
        "notification_idempotency",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("notification_id", sa.String(length=26), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "idempotency_key", name=op.f("pk_notification_idempotency")
        ),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("subscriber_id", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("update_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant",
            "subscriber_id",
            "category",
            "channel",
            name=op.f("pk_notification_preferences"),
        ),
    )
    op.create_table(
        "notification_suppressions",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=512), nullable=False),
        sa.Column("reason", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("notification_id", sa.String(length=26), nullable=False),
        sa.Column("creator", sa.String(length=255), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.Column("expire_time", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_suppressions")),
        sa.UniqueConstraint(
            "tenant",
            "channel",
            "address",
            name=op.f("uq_notification_suppressions_tenant_channel_address"),
        ),
    )
    op.create_table(
        "notification_templates",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("template_id", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "template_id", "version", name=op.f("pk_notification_templates")
        ),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("suppressed_by", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.LargeBinary(), nullable=False),
        sa.Column("recipient_secrets", sa.LargeBinary(), nullable=True),
        sa.Column("recipient_index", sa.Text(), nullable=False),
        sa.Column("subscriber_id", sa.String(length=255), nullable=False),
        sa.Column("template_id", sa.String(length=63), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("template_locale", sa.String(length=35), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("attachments", sa.LargeBinary(), nullable=False),
        sa.Column("overrides", sa.LargeBinary(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=26), nullable=False),
        sa.Column("schedule_at", sa.Float(), nullable=True),
        sa.Column("expire_time", sa.Float(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("attempt_base", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.Float(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("create_time", sa.Float(), nullable=False),
        sa.Column("update_time", sa.Float(), nullable=False),
        sa.Column("send_time", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_batch", "notifications", ["batch_id"], unique=False)
    op.create_index("ix_notifications_due", "notifications", ["due_at"], unique=False)
    op.create_index(
        "ix_notifications_tenant_create", "notifications", ["tenant", "create_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_tenant_create", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_index("ix_notifications_batch", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("notification_templates")
    op.drop_table("notification_suppressions")
    op.drop_table("notification_preferences")
    op.drop_table("notification_idempotency")
    op.drop_index(
        op.f("ix_notification_history_notification_id"), table_name="notification_history"
    )
    op.drop_table("notification_history")
    op.drop_index(
        op.f("ix_notification_attempts_notification_id"), table_name="notification_attempts"
    )
    op.drop_table("notification_attempts")
