"""Auth service: TLS client certificate identities bound to service accounts.

Revision ID: auth_0002
Revises: auth_0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0002"
down_revision = "auth_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_certificate_identities",
        sa.Column("identity", sa.String(512), primary_key=True),
        sa.Column("service_account_id", sa.String(64), nullable=False, index=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float(precision=53), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("auth_certificate_identities")
