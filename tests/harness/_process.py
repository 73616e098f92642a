"""A managed subprocess: a backend binary with its output in a log file, stopped at teardown."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

import pytest

from ._util import BackendError, log_tail, wait_for

DEFAULT_GRACE = 5.0
"""Seconds a process gets to exit after SIGTERM before it is killed."""


def require_binary(name: str, install_hint: str) -> str:
    """Return the absolute path of executable ``name``, or fail the test with an install hint.

    The running interpreter's scripts directory (the venv's ``bin``) is searched before
    ``PATH``, so pip-installed binaries (``bao``, ``moto_server``) are found even when the
    venv is not activated, and a same-named shim elsewhere on PATH does not shadow them.
    """
    scripts = sysconfig.get_path("scripts")
    path = shutil.which(name, path=scripts) or shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` not found in {scripts} or on PATH; {install_hint}", pytrace=False)
    return path


class ManagedProcess:
    """One backend process, started on demand, output appended to ``log``.

    The process can be stopped and started again (same argv, same log), which the
    fault-injection fixtures use. :meth:`stop` is idempotent.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Describe the process; nothing runs until :meth:`start`."""
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """PID of the running process, or ``None`` when not started or already stopped."""
        return self._proc.pid if self._proc is not None else None

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        """The running process, for signals and exit codes."""
        if self._proc is None:
            raise BackendError(f"{self.name} is not running")
        return self._proc

    def running(self) -> bool:
        """Return whether the process has been started and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the process with stdout and stderr appended to the log file."""
        if self.running():
            raise BackendError(f"{self.name} is already running (pid {self.pid})")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("ab")
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
        )

    def check_alive(self) -> None:
        """Raise :class:`BackendError` (quoting the log) if the process has exited."""
        if self._proc is None:
            raise BackendError(f"{self.name} was never started")
        code = self._proc.poll()
        if code is not None:
            raise BackendError(
                f"{self.name} exited with code {code} before it was ready; log: {self.log}\n"
                f"--- last lines of {self.log.name} ---\n{log_tail(self.log)}"
            )

    def wait_ready(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``predicate`` until true; fail early if the process dies, late at the deadline."""

        def alive_and_ready() -> bool:
            self.check_alive()
            return predicate()

        wait_for(alive_and_ready, timeout, f"{self.name}: {what}", log=self.log)

    def stop(self, grace: float = DEFAULT_GRACE) -> None:
        """Terminate the process, kill it if it outlives ``grace`` seconds, and close the log."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
