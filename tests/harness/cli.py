"""The `centrum` command as an operator runs it: a subprocess with an environment of your choosing.

Unlike `harness.centrum.run_cli` (which always passes a target and a token), `centrum_cli` starts
from an environment without any `CENTRUM_*` variable of the machine running the tests, and points
`CENTRUM_PROFILES_FILE` at a file of the test, so profile resolution is what the test sets up.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CENTRUM", "CliResult", "centrum_cli", "cli_env"]

CENTRUM = str(Path(sys.executable).with_name("centrum"))


@dataclass(frozen=True)
class CliResult:
    """Exit code and output of one `centrum` run."""

    code: int
    out: str
    err: str


def cli_env(profiles_file: Path, **variables: str) -> dict[str, str]:
    """The machine's environment minus `CENTRUM_*`, with the profile file and `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRUM_")}
    env.update(
        CENTRUM_PROFILES_FILE=str(profiles_file),
        CENTRUM_LOG_FORMAT="json",
        COLUMNS="200",
        **variables,
    )
    return env


async def centrum_cli(*argv: str, env: dict[str, str], stdin: str = "") -> CliResult:
    """Runs `centrum *argv` without blocking the event loop (an in-process server may serve it)."""
    process = await asyncio.create_subprocess_exec(
        CENTRUM,
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode())
