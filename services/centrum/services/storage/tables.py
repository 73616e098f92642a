"""Tables of the storage service: buckets, object metadata, and the service's wrapped keys.

Times are Unix seconds as floats. Object keys sort bytewise on both engines (collation "C" on
PostgreSQL), so listings and their page tokens agree with S3's ordering. Bytes of objects never
live here; `blob_id` names them in the blob store.
"""

from __future__ import annotations

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = ["KEY_TYPE", "storage_buckets", "storage_keys", "storage_objects"]

KEY_TYPE = sa.String(1024).with_variant(sa.String(1024, collation="C"), "postgresql")
"""Column type of object keys: bytewise order on SQLite and PostgreSQL alike."""

storage_buckets = sa.Table(
    "storage_buckets",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("max_object_size_bytes", sa.BigInteger, nullable=False),
    sa.Column("allowed_content_types", sa.Text, nullable=False),
    sa.Column("default_access", sa.Integer, nullable=False),
    sa.Column("allow_public_read", sa.Boolean, nullable=False),
    sa.Column("create_time", sa.Float, nullable=False),
    sa.Column("update_time", sa.Float, nullable=False),
)

storage_objects = sa.Table(
    "storage_objects",
    metadata,
    sa.Column("tenant", sa.String(128), primary_key=True),
    sa.Column("bucket", sa.String(63), primary_key=True),
    sa.Column("key", KEY_TYPE, primary_key=True),
    sa.Column("blob_id", sa.String(64), nullable=False, unique=True),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("stored_bytes", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("etag", sa.String(64), nullable=False),
    sa.Column("user_metadata", sa.Text, nullable=False),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("access", sa.Integer, nullable=False),
    sa.Column("encryption", sa.Integer, nullable=False),
    sa.Column("key_provider", sa.Integer, nullable=False),
    sa.Column("key_id", sa.String(255), nullable=False),
    sa.Column("key_version", sa.Integer, nullable=False),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
    sa.Column("nonce_prefix", sa.LargeBinary, nullable=True),
    sa.Column("segment_size", sa.Integer, nullable=False),
    sa.Column("scan_state", sa.Integer, nullable=False),
    sa.Column("scan_signature", sa.String(255), nullable=False),
    sa.Column("scan_time", sa.Float, nullable=True),
    sa.Column("cache_control", sa.String(255), nullable=False),
    sa.Column("content_disposition", sa.String(255), nullable=False),
    sa.Column("create_time", sa.Float, nullable=False),
    sa.Column("update_time", sa.Float, nullable=False),
)

storage_keys = sa.Table(
    "storage_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
)
