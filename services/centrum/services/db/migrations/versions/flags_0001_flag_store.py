"""The flag store: revision heads, flags, segments and the change log.

Revision ID: flags_0001
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "flags_0001"
down_revision = "0001"
branch_labels = ("flags",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_heads",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("retained_from", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "environment", name="pk_flag_heads"),
    )
    for name in ("flags", "flag_segments"):
        op.create_table(
            name,
            sa.Column("tenant", sa.String(128), nullable=False),
            sa.Column("environment", sa.String(128), nullable=False),
            sa.Column("key", sa.String(256), nullable=False),
            sa.Column("version", sa.BigInteger, nullable=False),
            sa.Column("revision", sa.BigInteger, nullable=False),
            sa.Column("definition", sa.LargeBinary, nullable=False),
            sa.PrimaryKeyConstraint("tenant", "environment", "key", name=f"pk_{name}"),
        )
    op.create_table(
        "flag_changes",
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
        sa.Column("change", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "environment", "revision", name="pk_flag_changes"),
    )


def downgrade() -> None:
    op.drop_table("flag_changes")
    op.drop_table("flag_segments")
    op.drop_table("flags")
    op.drop_table("flag_heads")
