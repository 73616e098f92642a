"""The audit log's entries keyed by SQLite's rowid: `idx` becomes an INTEGER PRIMARY KEY.

A BIGINT primary key is a separate index on SQLite, so every append wrote one B-tree more than
needed; as an alias of the rowid, `idx` is the table's own key. SQLite cannot change a column's
type in place, so the table is rebuilt (rows copied in index order) and its index and triggers
are created again. PostgreSQL keeps its BIGINT key and is not touched.

Revision ID: audit_0002
Revises: audit_0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("idx", None),
    ("tenant", "VARCHAR(128) NOT NULL"),
    ("event_id", "VARCHAR(128) NOT NULL"),
    ("integrated_ns", "BIGINT NOT NULL"),
    ("leaf_hash", "BLOB NOT NULL"),
    ("payload", "BLOB"),
    ("category", "VARCHAR(64)"),
    ("action", "VARCHAR(128)"),
    ("outcome", "SMALLINT"),
    ("severity", "SMALLINT"),
    ("actor_id", "VARCHAR(256)"),
    ("resource_type", "VARCHAR(128)"),
    ("resource_id", "VARCHAR(512)"),
    ("request_id", "VARCHAR(128)"),
    ("trace_id", "VARCHAR(64)"),
    ("correlation_id", "VARCHAR(128)"),
    ("transaction_id", "VARCHAR(128)"),
)
_PRUNABLE = ("payload", "actor_id", "resource_id", "transaction_id")


def _rebuild(key_type: str) -> None:
    """Rebuilds audit_entries with `idx` of `key_type`, keeping rows, index and triggers."""
    names = ", ".join(name for name, _ in _COLUMNS)
    columns = ", ".join(f"{name} {kind or key_type + ' NOT NULL'}" for name, kind in _COLUMNS)
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    op.execute("DROP INDEX IF EXISTS ix_audit_entries_tenant_idx")
    op.execute(
        f"CREATE TABLE audit_entries_rebuilt ({columns}, "
        "CONSTRAINT pk_audit_entries PRIMARY KEY (idx), "
        "CONSTRAINT uq_audit_entries_tenant_event_id UNIQUE (tenant, event_id))"
    )
    copy = "INSERT INTO audit_entries_rebuilt ({0}) SELECT {0} FROM audit_entries ORDER BY idx"
    op.execute(copy.format(names))
    op.execute("DROP TABLE audit_entries")
    op.execute("ALTER TABLE audit_entries_rebuilt RENAME TO audit_entries")
    op.execute("CREATE INDEX ix_audit_entries_tenant_idx ON audit_entries (tenant, idx)")
    kept = [f"NEW.{n} IS OLD.{n}" for n, _ in _COLUMNS if n not in _PRUNABLE]
    prunable = [f"(NEW.{n} IS NULL OR NEW.{n} IS OLD.{n})" for n in _PRUNABLE]
    op.execute(
        "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
        f"WHEN NOT ({' AND '.join([*kept, *prunable])}) "
        "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only (only a prune may clear "
        "payloads)'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("INTEGER")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("BIGINT")
