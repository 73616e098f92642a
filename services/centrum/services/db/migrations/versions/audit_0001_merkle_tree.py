"""The audit log's Merkle tree: filter columns, stored subtree hashes, checkpoints, signing keys,
and the triggers that make the log append-only.

Revision ID: audit_0001
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = "0001"
branch_labels = ("audit",)
depends_on = None

_FILTERS = (
    ("category", sa.String(64)),
    ("action", sa.String(128)),
    ("outcome", sa.SmallInteger),
    ("severity", sa.SmallInteger),
    ("actor_id", sa.String(256)),
    ("resource_type", sa.String(128)),
    ("resource_id", sa.String(512)),
    ("request_id", sa.String(128)),
    ("trace_id", sa.String(64)),
    ("correlation_id", sa.String(128)),
    ("transaction_id", sa.String(128)),
)
_PRUNABLE = ("payload", "actor_id", "resource_id", "transaction_id")
_KEPT = (
    "idx",
    "tenant",
    "event_id",
    "integrated_ns",
    "leaf_hash",
    *(name for name, _ in _FILTERS if name not in _PRUNABLE),
)
_APPEND_ONLY = ("audit_tree_nodes", "audit_checkpoints")


def _prune_only(same: str) -> str:
    """A condition true only for an UPDATE that sets prunable columns to NULL, nothing else."""
    kept = [f"NEW.{c} {same} OLD.{c}" for c in _KEPT]
    prunable = [f"(NEW.{c} IS NULL OR NEW.{c} {same} OLD.{c})" for c in _PRUNABLE]
    return " AND ".join([*kept, *prunable])


def upgrade() -> None:
    for name, kind in _FILTERS:
        op.add_column("audit_entries", sa.Column(name, kind, nullable=True))
    op.create_index("ix_audit_entries_tenant_idx", "audit_entries", ["tenant", "idx"])
    op.add_column("audit_head", sa.Column("compact_range", sa.LargeBinary, nullable=True))
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("timestamp_ns", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.LargeBinary(4), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_signing_keys",
        sa.Column("key_id", sa.LargeBinary(4), primary_key=True, autoincrement=False),
        sa.Column("key_name", sa.String(256), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("private_key", sa.LargeBinary, nullable=False),
        sa.Column("create_ns", sa.BigInteger, nullable=False),
    )
    _backfill_tree()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _backfill_tree() -> None:
    """Builds the stored nodes and compact range of entries appended before this revision."""
    from centrum.services.audit.merkle import CompactRange

    bind = op.get_bind()
    compact = CompactRange()
    nodes: list[dict[str, object]] = []
    rows = bind.execute(sa.text("SELECT leaf_hash FROM audit_entries ORDER BY idx"))
    for (leaf,) in rows:
        compact.append(bytes(leaf), lambda lv, ix, h: nodes.append({"l": lv, "i": ix, "h": h}))
    if nodes:
        bind.execute(
            sa.text("INSERT INTO audit_tree_nodes (level, idx, hash) VALUES (:l, :i, :h)"), nodes
        )
    bind.execute(
        sa.text("UPDATE audit_head SET tree_size = :s, compact_range = :c WHERE id = 1"),
        {"s": compact.size, "c": compact.encode()},
    )


def _sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
        f"WHEN NOT ({_prune_only('IS')}) "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only (only a prune may clear "
        "payloads)'); END"
    )
    for table in _APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _postgres_triggers() -> None:
    op.execute(
        f"""
        CREATE FUNCTION audit_entries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN
            IF {_prune_only("IS NOT DISTINCT FROM")} THEN
              RETURN NEW;
            END IF;
          END IF;
          RAISE EXCEPTION 'audit_entries is append-only (only a prune may clear payloads)'
            USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entries_guard BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION audit_entries_guard()"
    )
    op.execute(
        """
        CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in ("audit_entries", *_APPEND_ONLY):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )
    for table in _APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("audit_entries", *_APPEND_ONLY):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.drop_table("audit_signing_keys")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree_nodes")
    op.drop_column("audit_head", "compact_range")
    op.drop_index("ix_audit_entries_tenant_idx", "audit_entries")
    for name, _ in reversed(_FILTERS):
        op.drop_column("audit_entries", name)
