"""Redis: probing a server, per-test key spaces, and private redis-server processes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import redis
import redis.exceptions

from ._process import ManagedProcess, require_binary
from ._util import free_port

REDIS_INSTALL_HINT = "install with: apt-get install redis-server"
MACHINE_REDIS_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 10.0


def redis_answers(url: str) -> bool:
    """Return whether the Redis at ``url`` answers PING (within a short timeout)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.exceptions.RedisError, OSError):
        return False
    finally:
        client.close()


def redis_pid(url: str) -> int | None:
    """Return the ``process_id`` the Redis at ``url`` reports, or ``None`` if it does not answer."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return int(client.info("server")["process_id"])
    except (redis.exceptions.RedisError, OSError):
        return None
    finally:
        client.close()


def delete_prefix(url: str, prefix: str) -> int:
    """Delete every key starting with ``prefix`` on the Redis at ``url``; return how many."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


@dataclass(frozen=True)
class RedisTarget:
    """A Redis URL plus the key prefix a single test owns (deleted after the test)."""

    url: str
    prefix: str

    @classmethod
    def fresh(cls, url: str) -> RedisTarget:
        """Return a target on ``url`` with a new, unique, glob-safe prefix."""
        return cls(url=url, prefix=f"centrum-test:{uuid.uuid4().hex[:12]}:")

    def key(self, *parts: str) -> str:
        """Return ``prefix`` followed by ``parts`` joined with ``:``."""
        return self.prefix + ":".join(parts)


class PrivateRedis:
    """A dedicated, non-persistent redis-server on a fixed free port that can stop and restart.

    The port stays the same across restarts, so :attr:`url` remains valid.
    """

    def __init__(self, workdir: Path) -> None:
        """Prepare (but do not start) a server whose data dir and log live in ``workdir``."""
        binary = require_binary("redis-server", REDIS_INSTALL_HINT)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        workdir.mkdir(parents=True, exist_ok=True)
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "save": "",
            "appendonly": "no",
            "dir": str(workdir),
        }
        self.process = ManagedProcess(
            name=f"redis-server:{self.port}",
            argv=[binary, *(arg for key, value in options.items() for arg in (f"--{key}", value))],
            log=workdir / "redis.log",
        )

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.process.log

    def start(self) -> None:
        """Start the server and wait until it answers on its port.

        Readiness requires the answering server to report *our* PID, so a foreign Redis that
        grabbed the port first is never mistaken for this one.
        """
        self.process.start()
        self.process.wait_ready(
            lambda: self.process.pid is not None and redis_pid(self.url) == self.process.pid,
            START_TIMEOUT,
            f"answer on 127.0.0.1:{self.port} with INFO process_id == {self.process.pid}",
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period). Idempotent."""
        self.process.stop()

    def running(self) -> bool:
        """Return whether the server process is alive."""
        return self.process.running()
