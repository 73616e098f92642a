"""Tables of the flag service (created by migration flags_0001)."""

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = ["flag_changes", "flag_heads", "flag_segments", "flags"]

flag_heads = sa.Table(
    "flag_heads",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("environment", sa.String(128), primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("retained_from", sa.BigInteger, nullable=False),
)
"""The revision counter of each flag store; writers update it first, which serialises them."""

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("environment", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("definition", sa.LargeBinary, nullable=False),
)
"""Current flag definitions (serialized `Flag` with its output-only fields)."""

flag_segments = sa.Table(
    "flag_segments",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("environment", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("definition", sa.LargeBinary, nullable=False),
)
"""Current segments (serialized `Segment` with its output-only fields)."""

flag_changes = sa.Table(
    "flag_changes",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("environment", sa.String(128), primary_key=True),
    sa.Column("revision", sa.BigInteger, primary_key=True),
    sa.Column("change", sa.LargeBinary, nullable=False),
)
"""The change log (serialized `FlagChange`), the history of every flag and the watch feed."""
