"""Relational state for every service: one SQLAlchemy code path for SQLite and PostgreSQL.

Tables are declared on `metadata` by each service's `tables` module; Alembic migrations in
`migrations/` create them, applied by `centrum migrate` and on start.
"""

from centrum.services.db.engine import (
    BackendUnavailable,
    create_engine,
    database_error,
    ping,
    sync_url,
)
from centrum.services.db.migrate import migrate
from centrum.services.db.schema import metadata

__all__ = [
    "BackendUnavailable",
    "create_engine",
    "database_error",
    "metadata",
    "migrate",
    "ping",
    "sync_url",
]
