"""Tables of the config service: config revisions and the local secret store.

Created by migration config_0001; config_0002 adds the compaction watermarks. `config_head` holds
the one monotonic revision counter; every write updates it first, which serialises writers on
both engines (a row lock on PostgreSQL, the database lock on SQLite), so revisions commit in
order and a reader never sees a gap fill later.
"""

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = ["config_changes", "config_head", "config_keys", "secret_versions", "secrets"]

config_head = sa.Table(
    "config_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
    # The newest revision compaction removed from any key (0: none); the change hub compares it
    # with its position to notice a change removed before it was read (migration config_0002).
    sa.Column("compacted_revision", sa.BigInteger, nullable=False, server_default="0"),
)

config_changes = sa.Table(
    "config_changes",
    metadata,
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
    sa.Index(None, "tenant", "environment", "key", "revision"),
)

config_keys = sa.Table(
    "config_keys",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("environment", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    # The newest revision of this key that compaction removed (0: its history is whole); a
    # reader resuming at or below it would miss changes (migration config_0002).
    sa.Column("compacted_revision", sa.BigInteger, nullable=False, server_default="0"),
)

secrets = sa.Table(
    "config_secrets",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("path", sa.String(512), primary_key=True),
    sa.Column("current_version", sa.BigInteger, nullable=False),
    sa.Column("oldest_version", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("updated_by", sa.String(256), nullable=False),
    sa.Column("create_ns", sa.BigInteger, nullable=False),
    sa.Column("update_ns", sa.BigInteger, nullable=False),
)

secret_versions = sa.Table(
    "config_secret_versions",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("path", sa.String(512), primary_key=True),
    sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=True),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("create_ns", sa.BigInteger, nullable=False),
    sa.Column("deletion_ns", sa.BigInteger, nullable=True),
    sa.Column("destroyed", sa.Boolean, nullable=False),
)
