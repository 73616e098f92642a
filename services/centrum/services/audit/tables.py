"""Tables of the audit log (migration 0001 created the first two; audit_0001 the rest; audit_0002
made `idx` SQLite's rowid).

* `audit_entries`: one row per leaf; append-only (triggers refuse UPDATE and DELETE, except the
  retention prune, which may only set `payload` and the filter columns to NULL).
* `audit_head`: the single row appends serialise on; the tree size and its compact range.
* `audit_tree_nodes`: complete subtree hashes at the stored levels (see `merkle`), append-only.
* `audit_checkpoints`: every signed checkpoint, keyed by tree size, append-only.
* `audit_signing_keys`: checkpoint signing keys, private halves encrypted under the master key.
"""

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = [
    "FILTER_COLUMNS",
    "PRUNABLE_COLUMNS",
    "audit_checkpoints",
    "audit_entries",
    "audit_head",
    "audit_signing_keys",
    "audit_tree_nodes",
]

FILTER_COLUMNS = (
    "category",
    "action",
    "outcome",
    "severity",
    "actor_id",
    "resource_type",
    "resource_id",
    "request_id",
    "trace_id",
    "correlation_id",
    "transaction_id",
)
"""Columns copied out of each event so Query can filter in SQL."""

PRUNABLE_COLUMNS = ("payload", "actor_id", "resource_id", "transaction_id")
"""Columns the retention prune sets to NULL; everything the tree covers stays."""

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    # On SQLite an INTEGER primary key is the rowid itself, not one more index (audit_0002).
    sa.Column(
        "idx",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("integrated_ns", sa.BigInteger, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=True),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("action", sa.String(128), nullable=True),
    sa.Column("outcome", sa.SmallInteger, nullable=True),
    sa.Column("severity", sa.SmallInteger, nullable=True),
    sa.Column("actor_id", sa.String(256), nullable=True),
    sa.Column("resource_type", sa.String(128), nullable=True),
    sa.Column("resource_id", sa.String(512), nullable=True),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("trace_id", sa.String(64), nullable=True),
    sa.Column("correlation_id", sa.String(128), nullable=True),
    sa.Column("transaction_id", sa.String(128), nullable=True),
    sa.UniqueConstraint("tenant", "event_id"),
    sa.Index("ix_audit_entries_tenant_idx", "tenant", "idx"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("compact_range", sa.LargeBinary, nullable=True),
)

audit_tree_nodes = sa.Table(
    "audit_tree_nodes",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("timestamp_ns", sa.BigInteger, nullable=False),
    sa.Column("key_id", sa.LargeBinary(4), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

audit_signing_keys = sa.Table(
    "audit_signing_keys",
    metadata,
    sa.Column("key_id", sa.LargeBinary(4), primary_key=True, autoincrement=False),
    sa.Column("key_name", sa.String(256), nullable=False),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("private_key", sa.LargeBinary, nullable=False),
    sa.Column("create_ns", sa.BigInteger, nullable=False),
)
