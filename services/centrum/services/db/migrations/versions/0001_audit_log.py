"""The audit log: append-only entries and the head row that serialises appends.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("integrated_ns", sa.BigInteger, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=True),
        sa.UniqueConstraint("tenant", "event_id", name="uq_audit_entries_tenant_event_id"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO audit_head (id, tree_size) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_entries")
