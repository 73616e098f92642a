"""Tables of the audit log (created by migration 0001)."""

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = ["audit_entries", "audit_head"]

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("integrated_ns", sa.BigInteger, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=True),
    sa.UniqueConstraint("tenant", "event_id"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
)
