"""`centrum bootstrap` on a fresh data dir, then `centrum serve` on it: the saved profile
authenticates at once (client credentials), a second run changes nothing and exits 4."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

from centrum.cli._common import EXIT_CODES
from centrum.cli.profiles import load
from harness._util import free_port
from harness.centrum import ServeProcess, run
from harness.cli import CENTRUM, cli_env


def _centrum(*argv: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Runs `centrum` (the server under test is another process, so blocking is fine)."""
    result = run([CENTRUM, *argv], env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def test_bootstrap_saves_a_profile_that_works_at_once(
    serve_process: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    """Bootstrap migrates, creates the master key and the first admin, prints its secret once
    (JSON) and saves it as a 0600 profile; against `centrum serve` on that data dir the profile
    authenticates through client credentials, by --profile and by CENTRUM_PROFILE."""
    data_dir, port = tmp_path / "data", free_port()
    profiles = tmp_path / "profiles.toml"
    env = cli_env(profiles)
    code, out, err = _centrum(
        "bootstrap",
        "--data-dir",
        str(data_dir),
        "--save-profile",
        "ops",
        "--target",
        f"127.0.0.1:{port}",
        "--json",
        env=env,
    )
    assert code == 0, err
    made = json.loads(out)
    assert made["created"] is True and made["profile"] == "ops"
    assert (data_dir / "master.key").exists() and (data_dir / "centrum.db").exists()
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600
    saved = load(profiles)["ops"]
    assert (saved.target, saved.client_id, saved.client_secret) == (
        f"127.0.0.1:{port}",
        made["client_id"],
        made["client_secret"],
    )

    server = serve_process(data_dir=data_dir, port=port)
    code, out, err = _centrum("--profile", "ops", "template", "list", "--json", env=env)
    assert code == 0, err
    assert json.loads(out) == []
    code, _, err = _centrum("storage", "ls", "none", env={**env, "CENTRUM_PROFILE": "ops"})
    assert code == EXIT_CODES["not_found"], err
    assert server.target == saved.target


def test_second_run_changes_nothing_unless_forced(tmp_path: Path) -> None:
    """Run again, bootstrap exits 4 with a clear message and creates nothing; an existing
    profile name is refused (exit 2) before any change; --force adds another admin."""
    data_dir = tmp_path / "data"
    profiles = tmp_path / "profiles.toml"
    env = cli_env(profiles, CENTRUM_DATA_DIR=str(data_dir), CENTRUM_LISTEN="127.0.0.1:50999")
    code, out, err = _centrum("bootstrap", "--save-profile", "ops", env=env)
    assert code == 0, err
    first = dict(line.split("=", 1) for line in out.splitlines())
    assert load(profiles)["ops"].target == "127.0.0.1:50999"

    code, out, err = _centrum("bootstrap", "--json", env=env)
    assert code == EXIT_CODES["exists"] == 4
    assert json.loads(out) == {"created": False, "tenant": first["tenant"]}
    assert "already bootstrapped" in err and "--force" in err

    code, _, err = _centrum("bootstrap", "--save-profile", "ops", env=env)
    assert code == EXIT_CODES["usage"]
    assert "profile 'ops' already exists" in err

    code, out, err = _centrum("bootstrap", "--force", "--save-profile", "ops", "--json", env=env)
    assert code == 0, err
    second = json.loads(out)
    assert second["created"] is True and second["client_id"] != first["client_id"]
    assert load(profiles)["ops"].client_id == second["client_id"]
