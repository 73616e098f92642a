"""Session-scoped real backends for Centrum's tests (pytest plugin).

Fixtures (see each docstring):

* ``redis_server`` (session) -> ``str`` URL of a reachable Redis
* ``redis_url`` (function) -> :class:`RedisTarget` (url + a key prefix owned by the test)
* ``private_redis`` (function) -> factory ``() -> PrivateRedis`` (stoppable dedicated servers)
* ``postgres_url`` (session) -> ``str`` SQLAlchemy URL of a fresh database
* ``postgres_database`` (function) -> factory ``(suffix) -> str``: a database of the test's own
  (one it may block or break), dropped after the test
* ``openbao`` (session) -> :class:`OpenBaoTarget` (addr, token; transit + KV v2 at secret/)
* ``s3_endpoint`` (session) -> :class:`S3Target` (moto_server; ``.client()`` for boto3)
* :class:`FaultProxy`: a TCP relay a test cuts and restores to take a backend off the network
* ``smtp_server`` (session) -> :class:`SmtpServer`; ``smtp_capture`` (function) ->
  :class:`MessageCapture` emptied for the test

A backend that cannot start is a test error whose message says how to install it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from aiosmtpd.controller import Controller

from ._openbao import START_TIMEOUT as OPENBAO_START_TIMEOUT
from ._openbao import OpenBaoTarget, configure_engines, dev_server, healthy
from ._postgres import (
    PG_INSTALL_HINT,
    allow_connections,
    create_database,
    drop_database,
    drop_sibling_database,
    libpq_url,
    new_database_name,
    sibling_database,
    sqlalchemy_url,
    start_clusters,
    wait_for_role,
    working_role,
)
from ._process import ManagedProcess, require_binary
from ._proxy import FaultProxy
from ._redis import (
    MACHINE_REDIS_URL,
    PrivateRedis,
    RedisTarget,
    delete_prefix,
    redis_answers,
)
from ._s3 import START_TIMEOUT as S3_START_TIMEOUT
from ._s3 import S3Target, answers_http, moto_process
from ._smtp import CapturedMessage, CaptureHandler, MessageCapture, SmtpServer
from ._util import BackendError, async_wait_for, free_port, wait_for

__all__ = [
    "BackendError",
    "CapturedMessage",
    "FaultProxy",
    "ManagedProcess",
    "MessageCapture",
    "OpenBaoTarget",
    "PostgresDatabaseFactory",
    "PrivateRedis",
    "PrivateRedisFactory",
    "RedisTarget",
    "S3Target",
    "SmtpServer",
    "allow_connections",
    "async_wait_for",
    "drop_sibling_database",
    "free_port",
    "libpq_url",
    "openbao",
    "postgres_database",
    "postgres_url",
    "private_redis",
    "redis_server",
    "redis_url",
    "require_binary",
    "s3_endpoint",
    "sibling_database",
    "smtp_capture",
    "smtp_server",
    "wait_for",
]

PrivateRedisFactory = Callable[[], PrivateRedis]
"""Type of the ``private_redis`` fixture: each call starts one more dedicated server."""


# --- Redis -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a reachable Redis: the machine's 127.0.0.1:6379, else a private one for the session.

    The private server (``--save "" --appendonly no``) runs on a free port and is stopped at
    session end; its log is ``<basetemp>/redis-session*/redis.log``.
    """
    if redis_answers(MACHINE_REDIS_URL):
        yield MACHINE_REDIS_URL
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis-session"))
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[RedisTarget]:
    """The session Redis plus a key prefix unique to this test; its keys are deleted afterwards."""
    target = RedisTarget.fresh(redis_server)
    yield target
    delete_prefix(target.url, target.prefix)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedisFactory]:
    """Factory of dedicated redis-servers (free port, no persistence) a test may stop/restart.

    Each call returns a started :class:`PrivateRedis` (``.url``, ``.stop()``, ``.start()``);
    all of them are stopped when the test ends.
    """
    servers: list[PrivateRedis] = []

    def make() -> PrivateRedis:
        server = PrivateRedis(tmp_path / f"private-redis-{len(servers)}")
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgres_down(reason: object) -> NoReturn:
    """Fail the requesting test: PostgreSQL is unreachable, with ``reason`` and install hint."""
    pytest.fail(
        f"PostgreSQL on 127.0.0.1:5432 is down and could not be started: {reason}\n"
        f"{PG_INSTALL_HINT}",
        pytrace=False,
    )


def _postgres_role() -> str:
    """Return a role that can connect to 127.0.0.1:5432, starting the cluster if needed."""
    role = working_role()
    if role is not None:
        return role
    try:
        detail = start_clusters()
    except (BackendError, subprocess.SubprocessError, OSError) as exc:
        _postgres_down(exc)
    try:
        return wait_for_role()
    except BackendError as exc:
        _postgres_down(f"{exc} (pg_ctlcluster said: {detail})")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (``postgresql+psycopg://``) of a database created for this session.

    The database ``centrum_test_<hex>`` is dropped ``WITH (FORCE)`` at session end. Use
    :func:`libpq_url` to turn it into a URL psycopg accepts.
    """
    role = _postgres_role()
    name = new_database_name()
    create_database(role, name)
    try:
        yield sqlalchemy_url(role, name)
    finally:
        drop_database(role, name)


PostgresDatabaseFactory = Callable[[str], str]
"""Type of the ``postgres_database`` fixture: ``(suffix) -> SQLAlchemy URL``."""


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[PostgresDatabaseFactory]:
    """Factory of databases beside the session's, named ``<session db>_<suffix>``, for a test
    that blocks or breaks its database; each is dropped ``WITH (FORCE)`` after the test."""
    made: list[str] = []

    def make(suffix: str) -> str:
        url = sibling_database(postgres_url, f"{postgres_url.rsplit('/', 1)[1]}_{suffix}")
        made.append(url)
        return url

    yield make
    for url in made:
        drop_sibling_database(url)


# --- OpenBao -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def openbao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenBaoTarget]:
    """A ``bao server -dev`` on a free port with a random root token, ``transit/`` enabled and
    KV v2 at ``secret/``. Log: ``<basetemp>/openbao*/openbao.log``."""
    process, target = dev_server(tmp_path_factory.mktemp("openbao"))
    try:
        process.start()
        process.wait_ready(lambda: healthy(target), OPENBAO_START_TIMEOUT, "sys/health == 200")
        configure_engines(target)
        yield target
    finally:
        process.stop()


# --- S3 ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Target]:
    """A ``moto_server`` S3 emulator on a free loopback port (region us-east-1, keys "testing").

    Use ``s3_endpoint.client()`` for a boto3 client. Buckets persist for the session, so use
    unique bucket names (dashes, not underscores). Log: ``<basetemp>/moto*/moto_server.log``.
    """
    process, target, port = moto_process(tmp_path_factory.mktemp("moto"))
    try:
        process.start()
        process.wait_ready(lambda: answers_http(port), S3_START_TIMEOUT, "HTTP answered")
        yield target
    finally:
        process.stop()


# --- SMTP --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """An in-process aiosmtpd server on 127.0.0.1 (free port) recording every message."""
    capture = MessageCapture()
    port = free_port()
    controller = Controller(CaptureHandler(capture), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(host="127.0.0.1", port=port, capture=capture)
    finally:
        controller.stop()


@pytest.fixture
def smtp_capture(smtp_server: SmtpServer) -> Iterator[MessageCapture]:
    """The session SMTP server's capture, emptied before and after this test."""
    smtp_server.capture.clear()
    yield smtp_server.capture
    smtp_server.capture.clear()
