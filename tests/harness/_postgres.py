"""PostgreSQL: reaching (or starting) the machine's server and per-session databases."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from ._util import BackendError, wait_for

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ROLES = ("postgres", "root")
PG_INSTALL_HINT = (
    "install with: apt-get install postgresql (trust auth for 127.0.0.1), then "
    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)
PG_CONFIG_DIR = Path("/etc/postgresql")
START_TIMEOUT = 30.0


def conninfo(role: str, dbname: str) -> str:
    """Return a libpq conninfo string for ``role`` on ``dbname`` at 127.0.0.1:5432."""
    return psycopg.conninfo.make_conninfo(
        host=PG_HOST, port=PG_PORT, user=role, dbname=dbname, connect_timeout=2
    )


def working_role() -> str | None:
    """Return the first role in :data:`PG_ROLES` that can connect without a password."""
    for role in PG_ROLES:
        try:
            with psycopg.connect(conninfo(role, "postgres")):
                return role
        except psycopg.OperationalError:
            continue
    return None


def start_clusters() -> str:
    """Run ``pg_ctlcluster ... main start`` for every installed version; return its output.

    Raises :class:`BackendError` when pg_ctlcluster or any cluster configuration is missing,
    or when no cluster could be started.
    """
    tool = shutil.which("pg_ctlcluster")
    versions = sorted(PG_CONFIG_DIR.iterdir()) if PG_CONFIG_DIR.is_dir() else []
    if tool is None or not versions:
        raise BackendError("pg_ctlcluster or a cluster in /etc/postgresql is missing")
    outputs, started = [], False
    for version_dir in versions:
        result = subprocess.run(
            [tool, "--skip-systemctl-redirect", version_dir.name, "main", "start"],
            capture_output=True,
            text=True,
            check=False,
            timeout=START_TIMEOUT,
        )
        started = started or result.returncode == 0
        outputs.append(f"{version_dir.name}: rc={result.returncode} {result.stderr.strip()}")
    detail = "; ".join(outputs)
    if not started:
        raise BackendError(f"pg_ctlcluster could not start a cluster: {detail}")
    return detail


def wait_for_role(timeout: float = START_TIMEOUT) -> str:
    """Wait until some role in :data:`PG_ROLES` can connect and return it."""
    found: list[str] = []

    def connectable() -> bool:
        role = working_role()
        if role is not None:
            found.append(role)
        return role is not None

    wait_for(connectable, timeout, f"PostgreSQL on {PG_HOST}:{PG_PORT} to accept connections")
    return found[0]


def new_database_name() -> str:
    """Return a fresh database name ``centrum_test_<random hex>``."""
    return f"centrum_test_{secrets.token_hex(6)}"


def create_database(role: str, name: str) -> None:
    """Create database ``name`` (autocommit, as ``role``)."""
    with psycopg.connect(conninfo(role, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(role: str, name: str) -> None:
    """Drop database ``name``, disconnecting any remaining sessions (``WITH (FORCE)``)."""
    with psycopg.connect(conninfo(role, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def sqlalchemy_url(role: str, name: str) -> str:
    """Return the SQLAlchemy URL ``postgresql+psycopg://<role>@127.0.0.1:5432/<name>``."""
    return f"postgresql+psycopg://{role}@{PG_HOST}:{PG_PORT}/{name}"


def libpq_url(url: str) -> str:
    """Turn a ``postgresql+psycopg://`` SQLAlchemy URL into one psycopg/libpq accepts."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _admin_url(url: str) -> str:
    """The libpq URL of the ``postgres`` maintenance database on the server of ``url``."""
    return libpq_url(url).rsplit("/", 1)[0] + "/postgres"


def sibling_database(url: str, name: str) -> str:
    """(Re)create database ``name`` next to the one ``url`` names; return its SQLAlchemy URL.

    For a test that blocks or drops its database without disturbing the session's.
    """
    drop_sibling_database(url.rsplit("/", 1)[0] + "/" + name)
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.rsplit("/", 1)[0] + "/" + name


def drop_sibling_database(url: str) -> None:
    """Drop the database ``url`` names (made by :func:`sibling_database`), ending its sessions."""
    name = sql.Identifier(url.rsplit("/", 1)[1])
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def allow_connections(url: str, allow: bool) -> None:
    """Let the database of ``url`` accept connections again, or refuse new ones and end the
    open ones (``ALTER DATABASE ... ALLOW_CONNECTIONS`` and ``pg_terminate_backend``)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL("true" if allow else "false")
            )
        )
        if not allow:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
