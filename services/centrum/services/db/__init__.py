"""Relational state for every service: one SQLAlchemy code path for SQLite and PostgreSQL.

Tables are declared on `metadata` by each service's `tables` module; Alembic migrations in
`migrations/` create them, applied by `centrum migrate` and on start.
"""

from centrum.services.db.engine import (
    DATABASE_OUTAGES,
    BackendUnavailable,
    create_engine,
    database_error,
    outage_message,
    ping,
    sync_url,
)
from centrum.services.db.migrate import migrate
from centrum.services.db.one_hop import OneHop, writer_lock
from centrum.services.db.schema import metadata

__all__ = [
    "DATABASE_OUTAGES",
    "BackendUnavailable",
    "OneHop",
    "create_engine",
    "database_error",
    "metadata",
    "migrate",
    "outage_message",
    "ping",
    "sync_url",
    "writer_lock",
]
