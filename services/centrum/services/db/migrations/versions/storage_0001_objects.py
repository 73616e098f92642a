"""Storage: buckets, object metadata and the service's wrapped keys.

Revision ID: storage_0001
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "storage_0001"
down_revision = "0001"
branch_labels = ("storage",)
depends_on = None

_KEY = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "storage_buckets",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("max_object_size_bytes", sa.BigInteger, nullable=False),
        sa.Column("allowed_content_types", sa.Text, nullable=False),
        sa.Column("default_access", sa.Integer, nullable=False),
        sa.Column("allow_public_read", sa.Boolean, nullable=False),
        sa.Column("create_time", sa.Float, nullable=False),
        sa.Column("update_time", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "name", name="pk_storage_buckets"),
    )
    op.create_table(
        "storage_objects",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("key", _KEY, nullable=False),
        sa.Column("blob_id", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("stored_bytes", sa.BigInteger, nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("user_metadata", sa.Text, nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("access", sa.Integer, nullable=False),
        sa.Column("encryption", sa.Integer, nullable=False),
        sa.Column("key_provider", sa.Integer, nullable=False),
        sa.Column("key_id", sa.String(255), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("nonce_prefix", sa.LargeBinary, nullable=True),
        sa.Column("segment_size", sa.Integer, nullable=False),
        sa.Column("scan_state", sa.Integer, nullable=False),
        sa.Column("scan_signature", sa.String(255), nullable=False),
        sa.Column("scan_time", sa.Float, nullable=True),
        sa.Column("cache_control", sa.String(255), nullable=False),
        sa.Column("content_disposition", sa.String(255), nullable=False),
        sa.Column("create_time", sa.Float, nullable=False),
        sa.Column("update_time", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "bucket", "key", name="pk_storage_objects"),
        sa.UniqueConstraint("blob_id", name="uq_storage_objects_blob_id"),
    )
    op.create_table(
        "storage_keys",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_storage_keys"),
    )


def downgrade() -> None:
    op.drop_table("storage_keys")
    op.drop_table("storage_objects")
    op.drop_table("storage_buckets")
