"""Generated code is reproducible: buf lint is clean and `buf generate` changes nothing."""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

from harness.centrum import ROOT, run


def _tool(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    assert found, f"{name} is missing: pip install -e '.[dev]'"
    return found


def test_buf_lint_is_clean() -> None:
    """`buf lint` (STANDARD + COMMENTS) reports nothing."""
    result = run([_tool("buf"), "lint"], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_format_is_clean() -> None:
    """The contracts are formatted as `buf format` would write them."""
    result = run([_tool("buf"), "format", "--diff", "--exit-code"], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_committed_stubs_match_buf_generate(tmp_path: Path) -> None:
    """Regenerating the SDK stubs into a scratch directory reproduces sdk/ exactly."""
    env_path = f"{Path(sys.executable).parent}:{Path(_tool('protoc')).parent}"
    result = run(
        [_tool("buf"), "generate", "--output", str(tmp_path)],
        cwd=ROOT,
        env={"PATH": env_path, "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    generated = sorted(p.relative_to(tmp_path / "sdk") for p in (tmp_path / "sdk").rglob("*_pb2*"))
    committed = sorted(
        p.relative_to(ROOT / "sdk")
        for p in (ROOT / "sdk").rglob("*_pb2*")
        if "__pycache__" not in p.parts
    )
    assert generated == committed, "stubs were added or removed: run `buf generate`"
    stale = [
        str(path)
        for path in generated
        if not filecmp.cmp(tmp_path / "sdk" / path, ROOT / "sdk" / path, shallow=False)
    ]
    assert stale == [], "stale stubs, run `buf generate`: " + ", ".join(stale)
