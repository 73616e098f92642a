"""Config service: revisions, key states, and the local secret store.

Revision ID: config_0001
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "config_0001"
down_revision = "0001"
branch_labels = ("config",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO config_head (id, revision) VALUES (1, 0)")
    op.create_table(
        "config_changes",
        sa.Column("revision", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("previous_revision", sa.BigInteger, nullable=False),
        sa.Column("create_revision", sa.BigInteger, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("time_ns", sa.BigInteger, nullable=False),
        sa.Column("create_ns", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rollback_revision", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_config_changes_tenant_environment_key_revision",
        "config_changes",
        ["tenant", "environment", "key", "revision"],
    )
    op.create_table(
        "config_keys",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("environment", sa.String(128), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
    )
    op.create_table(
        "config_secrets",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("path", sa.String(512), primary_key=True),
        sa.Column("current_version", sa.BigInteger, nullable=False),
        sa.Column("oldest_version", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("updated_by", sa.String(256), nullable=False),
        sa.Column("create_ns", sa.BigInteger, nullable=False),
        sa.Column("update_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "config_secret_versions",
        sa.Column("tenant", sa.String(128), primary_key=True),
        sa.Column("path", sa.String(512), primary_key=True),
        sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("create_ns", sa.BigInteger, nullable=False),
        sa.Column("deletion_ns", sa.BigInteger, nullable=True),
        sa.Column("destroyed", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("config_secret_versions")
    op.drop_table("config_secrets")
    op.drop_table("config_keys")
    op.drop_index("ix_config_changes_tenant_environment_key_revision", "config_changes")
    op.drop_table("config_changes")
    op.drop_table("config_head")
