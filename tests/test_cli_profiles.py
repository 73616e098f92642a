"""CLI profiles against a real server: precedence flag > environment > profile > default, the
0600 rule for files holding secrets, the implicit `default` profile, masking in `show`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from centrum.cli._common import EXIT_CODES
from harness._util import free_port
from harness.centrum import StartCentrum
from harness.cli import centrum_cli, cli_env
from harness.tokens import TokenMint

SCOPES = ["notify.read"]


async def _set(profiles: Path, name: str, *options: str, stdin: str = "") -> None:
    """`centrum profile set NAME options...`, which must succeed."""
    result = await centrum_cli("profile", "set", name, *options, env=cli_env(profiles), stdin=stdin)
    assert result.code == 0, result.err


async def test_profile_supplies_target_and_credential(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """A profile made by `profile set` (token read from stdin) is written 0600 and connects a
    command selected by --profile or by CENTRUM_PROFILE, with no flag or other variable."""
    app = await start_centrum()
    profiles = tmp_path / "conf" / "profiles.toml"
    await _set(
        profiles,
        "dev",
        "--target",
        f"127.0.0.1:{app.port}",
        "--token",
        "-",
        stdin=token_mint.token(scopes=SCOPES) + "\n",
    )
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600
    env = cli_env(profiles)
    by_flag = await centrum_cli("--profile", "dev", "template", "list", "--json", env=env)
    assert by_flag.code == 0, by_flag.err
    assert json.loads(by_flag.out) == []
    by_env = await centrum_cli("template", "list", env=cli_env(profiles, CENTRUM_PROFILE="dev"))
    assert by_env.code == 0, by_env.err


async def test_flag_beats_environment_beats_profile(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """CENTRUM_TARGET overrides the profile's target, --target overrides CENTRUM_TARGET, and
    CENTRUM_TOKEN overrides the profile's token; error lines name where the value came from."""
    app = await start_centrum()
    good = f"127.0.0.1:{app.port}"
    nowhere = f"127.0.0.1:{free_port()}"
    profiles = tmp_path / "profiles.toml"
    await _set(profiles, "p", "--target", good, "--token", "refused-token")

    env_target = cli_env(profiles, CENTRUM_PROFILE="p", CENTRUM_TARGET=nowhere)
    result = await centrum_cli("template", "list", env=env_target)
    assert result.code == EXIT_CODES["unavailable"]
    assert f"running at {nowhere} (from CENTRUM_TARGET)" in result.err

    env_token = {**env_target, "CENTRUM_TOKEN": token_mint.token(scopes=SCOPES)}
    result = await centrum_cli("template", "list", "--target", good, env=env_token)
    assert result.code == 0, result.err

    result = await centrum_cli("--profile", "p", "template", "list", env=cli_env(profiles))
    assert result.code == 1
    assert "the credential from profile 'p' was refused" in result.err


async def test_default_profile_lends_its_credential_only_to_its_target(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """Without a selection the `default` profile applies; pointed at another server it sends no
    credential (UNAUTHENTICATED) unless it is selected explicitly."""
    home, other = await start_centrum(), await start_centrum()
    profiles = tmp_path / "profiles.toml"
    await _set(
        profiles,
        "default",
        "--target",
        f"127.0.0.1:{home.port}",
        "--token",
        token_mint.token(scopes=SCOPES),
    )
    implicit = await centrum_cli("template", "list", env=cli_env(profiles))
    assert implicit.code == 0, implicit.err
    elsewhere = ["template", "list", "--target", f"127.0.0.1:{other.port}"]
    withheld = await centrum_cli(*elsewhere, env=cli_env(profiles))
    assert withheld.code == 1 and "CREDENTIAL_MISSING" in withheld.err
    chosen = await centrum_cli("--profile", "default", *elsewhere, env=cli_env(profiles))
    assert chosen.code == 0, chosen.err


async def test_shared_file_holding_a_secret_is_refused(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """A group/world-readable file with a secret exits 2 with one line saying chmod 600; the
    same mode is fine for a file without secrets, and rewriting the file makes it 0600."""
    app = await start_centrum()
    profiles = tmp_path / "profiles.toml"
    await _set(profiles, "p", "--target", f"127.0.0.1:{app.port}", "--token", "secret-token")
    os.chmod(profiles, 0o644)
    refused = await centrum_cli("--profile", "p", "template", "list", env=cli_env(profiles))
    assert refused.code == EXIT_CODES["usage"]
    assert refused.err.strip().splitlines() == [
        f"error: {profiles} holds secrets and is readable by others (mode 0644); "
        f"fix: chmod 600 {profiles}"
    ]
    listed = await centrum_cli("profile", "list", env=cli_env(profiles))
    assert listed.code == EXIT_CODES["usage"] and "chmod 600" in listed.err

    profiles.write_text(f'[profiles.p]\ntarget = "127.0.0.1:{app.port}"\n')
    os.chmod(profiles, 0o644)
    env = cli_env(profiles, CENTRUM_TOKEN=token_mint.token(scopes=SCOPES))
    accepted = await centrum_cli("--profile", "p", "template", "list", env=env)
    assert accepted.code == 0, accepted.err
    await _set(profiles, "p", "--api-key", "ck_example")
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600


async def test_show_and_list_never_print_secrets(tmp_path: Path) -> None:
    """`show` masks the client secret (table and JSON), `list` names only the credential kind;
    a new credential replaces the old one; deleting twice exits 0 then 3."""
    profiles = tmp_path / "profiles.toml"
    secret = "cs_do-not-print-me"
    await _set(profiles, "ops", "--target", "10.0.0.7:443", "--token", "tok_old")
    await _set(profiles, "ops", "--client-id", "sa_1", "--client-secret", secret)
    shown = await centrum_cli("profile", "show", "ops", "--json", env=cli_env(profiles))
    assert shown.code == 0, shown.err
    assert json.loads(shown.out) == {
        "name": "ops",
        "target": "10.0.0.7:443",
        "client_id": "sa_1",
        "client_secret": "********",
    }
    table = await centrum_cli("--profile", "ops", "profile", "show", env=cli_env(profiles))
    listed = await centrum_cli("profile", "list", "--json", env=cli_env(profiles))
    for output in (table.out, listed.out):
        assert secret not in output and "tok_old" not in output
    assert json.loads(listed.out)["ops"]["client_secret"] == "********"
    assert "tok_old" not in profiles.read_text()
    first = await centrum_cli("profile", "delete", "ops", env=cli_env(profiles))
    second = await centrum_cli("profile", "delete", "ops", env=cli_env(profiles))
    assert (first.code, second.code) == (0, EXIT_CODES["not_found"])


async def test_unknown_profile_is_a_usage_error(tmp_path: Path) -> None:
    """--profile naming no profile exits 2 with one line that says how to create it."""
    env = cli_env(tmp_path / "profiles.toml")
    result = await centrum_cli("--profile", "nope", "storage", "ls", "docs", env=env)
    assert result.code == EXIT_CODES["usage"]
    assert "Traceback" not in result.err
    assert result.err.strip().splitlines() == [
        f"error: no profile 'nope' in {tmp_path / 'profiles.toml'} (known: none); "
        "fix: create it: centrum profile set nope --target HOST:PORT ..."
    ]
