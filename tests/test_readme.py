"""The README stays true: every setting is documented and every command block runs.

`test_every_readme_block_runs_in_order` is the README's own test: it runs the page's first
command (set up a virtualenv and start `centrum serve`) in a scratch copy of the repository with
a scratch home directory, then every later `sh` and `python` block, in order, against that
server. Shell blocks share what they export; Python blocks run in the scratch virtualenv, which
holds only what the first command installed. The test command (`bash scripts/test`) is the one
block not run here: it is this suite, and `.ci/run` runs it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from centrum.server.settings import Settings
from harness.backends import free_port, wait_for
from harness.centrum import ROOT, serving

README = (ROOT / "README.md").read_text()
TEST_COMMAND = "bash scripts/test"
DOCUMENTED_TARGET = "127.0.0.1:50051"


@dataclass(frozen=True)
class Block:
    """A fenced `sh` or `python` block of the README."""

    language: str
    text: str
    line: int


def command_blocks(markdown: str) -> list[Block]:
    """The `sh` and `python` blocks of `markdown`, in order (indented ones belong to lists)."""
    blocks = []
    for match in re.finditer(r"^```(sh|python)\n(.*?)^```$", markdown, re.MULTILINE | re.DOTALL):
        line = markdown.count("\n", 0, match.start()) + 1
        blocks.append(Block(match.group(1), match.group(2), line))
    return blocks


BLOCKS = command_blocks(README)


def test_every_setting_is_in_the_settings_table() -> None:
    """Each field of Settings appears in the README's settings table."""
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z0-9_]+)`", table))
    missing = sorted(set(Settings.model_fields) - documented)
    assert missing == [], f"settings missing from README.md: {missing}"


def test_ci_runs_the_readme_test_command() -> None:
    """`.ci/run` runs exactly the test command the README shows."""
    assert [b.text.strip() for b in BLOCKS].count(TEST_COMMAND) == 1
    assert (ROOT / ".ci" / "run").read_text().strip().endswith(f"exec {TEST_COMMAND}")


@dataclass(frozen=True)
class Tour:
    """The scratch repository copy, environment and server the README blocks run against."""

    repository: Path
    env: dict[str, str]
    target: str
    exports: Path


def _copy_repository(destination: Path) -> None:
    """Copies the files git knows of (tracked, or new and not ignored): a fresh checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            target.chmod(source.stat().st_mode & 0o777)


def _scratch_env(home: Path, port: int) -> dict[str, str]:
    """This process's environment with a scratch home and no Centrum settings of its own."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CENTRUM_", "XDG_", "VIRTUAL_ENV", "PYTHON"))
    }
    return {
        **inherited,
        "HOME": str(home),
        # The scratch home must not cost a download of every wheel again.
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "CENTRUM_LISTEN": f"127.0.0.1:{port}",
        "COLUMNS": "200",
    }


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tour]:
    """Runs the README's first command (install, then `centrum serve`) until the module ends."""
    root = tmp_path_factory.mktemp("readme")
    repository, home = root / "repository", root / "home"
    home.mkdir()
    _copy_repository(repository)
    port = free_port()
    env = _scratch_env(home, port)
    log_path = root / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            ["bash", "-c", BLOCKS[0].text],
            cwd=repository,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the block's shell and the server it starts, as one group
        )

    def ready() -> bool:
        if server.poll() is not None:
            pytest.fail(f"the README's first command exited:\n{log_path.read_text()[-4000:]}")
        return serving(port)

    exports = root / "exports.sh"
    exports.write_text("")
    try:
        wait_for(ready, timeout=300, what="the README's server", log=log_path)
        yield Tour(repository, env, f"127.0.0.1:{port}", exports)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _run(block: Block, tour: Tour) -> subprocess.CompletedProcess[str]:
    """Runs one block in the scratch repository; a shell block's exports reach later blocks."""
    text = block.text.replace(DOCUMENTED_TARGET, tour.target)
    if block.language == "sh":
        script = f"set -euo pipefail\n. {tour.exports}\n{text}\nexport -p > {tour.exports}\n"
        argv, stdin = ["bash", "-c", script], None
    else:
        argv, stdin = ["bash", "-c", f". {tour.exports}\nexec .venv/bin/python -"], text
    return subprocess.run(
        argv,
        cwd=tour.repository,
        env=tour.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_readme_block_runs_in_order(tour: Tour) -> None:
    """Each `sh` and `python` block after the first exits 0, run in the README's order."""
    ran = 0
    for block in BLOCKS[1:]:
        if block.text.strip() == TEST_COMMAND:
            continue
        result = _run(block, tour)
        assert result.returncode == 0, (
            f"README.md line {block.line} ({block.language}) exited {result.returncode}\n"
            f"--- block ---\n{block.text}--- stdout ---\n{result.stdout[-3000:]}\n"
            f"--- stderr ---\n{result.stderr[-3000:]}"
        )
        ran += 1
    assert ran == len(BLOCKS) - 2
