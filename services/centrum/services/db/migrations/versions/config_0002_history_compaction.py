"""Config service: history compaction watermarks, per key and for the whole change log.

Revision ID: config_0002
Revises: config_0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "config_0002"
down_revision = "config_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "config_head",
        sa.Column("compacted_revision", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.add_column(
        "config_keys",
        sa.Column("compacted_revision", sa.BigInteger, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for table in ("config_keys", "config_head"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("compacted_revision")
