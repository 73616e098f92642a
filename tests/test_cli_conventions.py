"""What every `centrum` command shares: one error line with a fix, documented exit codes, no
traceback, against a real server (or a port where nothing listens)."""

from __future__ import annotations

import json
from pathlib import Path

from centrum.cli._common import EXIT_CODES
from harness._util import free_port
from harness.centrum import StartCentrum
from harness.cli import CliResult, centrum_cli, cli_env
from harness.tokens import TokenMint


def _one_line(result: CliResult, starts: str) -> str:
    """The single stderr line of a failed command, checked to start with `starts`."""
    assert "Traceback" not in result.err, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(starts), result.err
    return lines[0]


async def test_unreachable_server_exits_5_naming_the_target(tmp_path: Path) -> None:
    """Nothing listening at the target: exit 5 (retry later) and one UNAVAILABLE line whose fix
    names the target and where it came from."""
    target = f"127.0.0.1:{free_port()}"
    env = cli_env(tmp_path / "profiles.toml", CENTRUM_TARGET=target)
    result = await centrum_cli("template", "list", env=env)
    assert result.code == EXIT_CODES["unavailable"] == 5
    line = _one_line(result, "error: UNAVAILABLE")
    assert f"fix: is the server running at {target} (from CENTRUM_TARGET)" in line


async def test_missing_credential_says_how_to_pass_one(
    start_centrum: StartCentrum, tmp_path: Path
) -> None:
    """No credential anywhere: exit 1 and one UNAUTHENTICATED line naming the flag, the
    environment variables and profiles."""
    app = await start_centrum()
    env = cli_env(tmp_path / "profiles.toml", CENTRUM_TARGET=f"127.0.0.1:{app.port}")
    result = await centrum_cli("template", "list", env=env)
    assert result.code == 1
    line = _one_line(result, "error: UNAUTHENTICATED (CREDENTIAL_MISSING)")
    assert "--token" in line and "CENTRUM_TOKEN" in line and "--profile" in line


async def test_refused_credential_names_its_source(
    start_centrum: StartCentrum, tmp_path: Path
) -> None:
    """A token the server refuses: exit 1, and the fix says the token came from CENTRUM_TOKEN."""
    app = await start_centrum()
    env = cli_env(
        tmp_path / "profiles.toml",
        CENTRUM_TARGET=f"127.0.0.1:{app.port}",
        CENTRUM_TOKEN="not-a-token",
    )
    result = await centrum_cli("template", "list", env=env)
    assert result.code == 1
    assert "the credential from CENTRUM_TOKEN was refused" in _one_line(
        result, "error: UNAUTHENTICATED"
    )


async def test_missing_scope_is_named_in_the_fix(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """A credential without the RPC's scope: exit 1, PERMISSION_DENIED (MISSING_SCOPE), and the
    fix names the scope that is missing."""
    app = await start_centrum()
    env = cli_env(
        tmp_path / "profiles.toml",
        CENTRUM_TARGET=f"127.0.0.1:{app.port}",
        CENTRUM_TOKEN=token_mint.token(scopes=["storage.read"]),
    )
    result = await centrum_cli("template", "list", env=env)
    assert result.code == 1
    line = _one_line(result, "error: PERMISSION_DENIED (MISSING_SCOPE)")
    assert "fix: use a credential holding the scope 'notify.read'" in line


async def test_not_found_exits_3_and_already_exists_exits_4(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """NOT_FOUND ends with exit 3 and ALREADY_EXISTS with exit 4, each one line; the first
    create succeeds with 0."""
    app = await start_centrum()
    env = cli_env(
        tmp_path / "profiles.toml",
        CENTRUM_TARGET=f"127.0.0.1:{app.port}",
        CENTRUM_TOKEN=token_mint.token(scopes=["notify.admin"]),
    )
    missing = await centrum_cli("notify", "status", "01ARZ3NDEKTSV4RRFFQ69G5FAV", env=env)
    assert missing.code == EXIT_CODES["not_found"] == 3
    _one_line(missing, "error: NOT_FOUND")
    spec = tmp_path / "hello.json"
    spec.write_text(
        json.dumps(
            {
                "channel": "CHANNEL_EMAIL",
                "defaultLocale": "en",
                "locales": {"en": {"subject": "Hi", "text": "Hello"}},
            }
        )
    )
    created = await centrum_cli("template", "create", "hello", "--file", str(spec), env=env)
    assert created.code == 0, created.err
    again = await centrum_cli("template", "create", "hello", "--file", str(spec), env=env)
    assert again.code == EXIT_CODES["exists"] == 4
    _one_line(again, "error: ALREADY_EXISTS")


async def test_unreadable_tls_file_is_a_usage_error(tmp_path: Path) -> None:
    """A CA file that does not exist: exit 2 with one line naming the file, before connecting."""
    missing = tmp_path / "nowhere" / "ca.pem"
    env = cli_env(
        tmp_path / "profiles.toml",
        CENTRUM_TARGET=f"127.0.0.1:{free_port()}",
        CENTRUM_TLS_CA=str(missing),
    )
    result = await centrum_cli("storage", "ls", "docs", env=env)
    assert result.code == EXIT_CODES["usage"] == 2
    assert str(missing) in _one_line(result, "error: cannot read TLS file")


async def test_help_documents_the_exit_codes(tmp_path: Path) -> None:
    """`centrum --help` lists every exit code of `_common.EXIT_CODES`; an unknown option exits 2."""
    result = await centrum_cli("--help", env=cli_env(tmp_path / "profiles.toml"))
    assert result.code == 0
    text = " ".join(result.out.replace("│", " ").split())
    assert "Exit codes: 0 ok, 1 the call failed, 2 usage" in text
    for code in EXIT_CODES.values():
        assert f" {code} " in text
    wrong = await centrum_cli("template", "list", "--bogus", env=cli_env(tmp_path / "p.toml"))
    assert wrong.code == 2 and "Traceback" not in wrong.err
