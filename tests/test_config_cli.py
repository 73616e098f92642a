"""`centrum config`, `centrum flag` and `centrum secret` against a running server.

Each command runs as the real `centrum` executable. Success paths print what the call did (or
JSON with `--json`); bad input ends with one `error:` line on stderr and exit code 2 (usage) or
the status's code (1 failed, 3 not found), never a traceback. Secret values reach the output
only from `centrum secret get`.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from harness.centrum import StartCentrum, run_cli, start_cli
from harness.tokens import TokenMint

CONFIG_SCOPES = ["config.read", "config.write"]
FLAG_SCOPES = ["flags.read", "flags.write"]
SECRET_SCOPES = ["secrets.read", "secrets.write"]
PLANTED = "cli-planted-9b1d4e7a-do-not-print"


def _one_error_line(err: str, starts: str = "error:") -> str:
    """The single error line of a failed command (asserts there is exactly one, no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(starts) and "Traceback" not in err, err
    return lines[0]


async def test_config_set_get_list_history_rollback_delete(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Every config command succeeds, and its --json output is the response message."""
    app = await start_centrum()
    token = token_mint.token(subject="ops", scopes=CONFIG_SCOPES)
    code, out, err = await run_cli(app, token, "config", "set", "prod", "pay/limit", "10")
    assert code == 0 and out.strip() == "pay/limit = 10.0 at revision 1", err
    code, out, err = await run_cli(
        app, token, "config", "set", "prod", "pay/name", "not json", "--json", "--reason", "r"
    )
    assert code == 0, err
    written = json.loads(out)["value"]
    assert written["value"] == "not json" and written["revision"] == "2"
    code, out, err = await run_cli(
        app, token, "config", "set", "prod", "pay/limit", '{"max": [1, true]}', "--json"
    )
    assert code == 0 and json.loads(out)["value"]["value"] == {"max": [1, True]}, err
    code, out, err = await run_cli(app, token, "config", "get", "prod", "pay/name")
    assert code == 0 and json.loads(out) == "not json", err
    code, out, err = await run_cli(
        app, token, "config", "get", "prod", "pay/limit", "--revision", "1"
    )
    assert code == 0 and json.loads(out) == 10, err
    code, out, err = await run_cli(app, token, "config", "list", "prod", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [v["key"] for v in listed["values"]] == ["pay/limit", "pay/name"]
    assert listed["revision"] == "3"
    code, out, err = await run_cli(app, token, "config", "history", "prod", "pay/limit", "--json")
    assert code == 0, err
    changes = json.loads(out)["changes"]
    assert [(c["revision"], c["actor"]) for c in changes] == [("3", "ops"), ("1", "ops")]
    code, out, err = await run_cli(app, token, "config", "rollback", "prod", "pay/limit", "1")
    assert code == 0 and "restored from 1" in out, err
    code, out, err = await run_cli(app, token, "config", "delete", "prod", "pay/limit")
    assert code == 0 and out.strip() == "deleted pay/limit at revision 5", err
    code, _, err = await run_cli(app, token, "config", "get", "prod", "pay/limit")
    assert code == 3 and "NOT_FOUND (KEY_NOT_FOUND)" in _one_error_line(err)


async def test_config_bad_input_is_one_line(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Conflicts, invalid requests, missing scopes and bad flags end with one line."""
    app = await start_centrum()
    token = token_mint.token(scopes=CONFIG_SCOPES)
    await run_cli(app, token, "config", "set", "prod", "k", "1")
    code, _, err = await run_cli(
        app, token, "config", "set", "prod", "k", "2", "--expected-revision", "7"
    )
    assert code == 1 and "ABORTED (REVISION_MISMATCH)" in _one_error_line(err)
    code, _, err = await run_cli(app, token, "config", "set", "", "k", "2")
    assert code == 1 and "INVALID_ARGUMENT" in _one_error_line(err)
    assert "environment" in err
    code, _, err = await run_cli(app, token, "config", "get", "prod", "k", "--revision", "99")
    assert code == 1 and "OUT_OF_RANGE (FUTURE_REVISION)" in _one_error_line(err)
    code, _, err = await run_cli(app, token, "config", "rollback", "prod", "k", "abc")
    assert code == 2 and "Invalid value for 'revision'" in err and "Traceback" not in err
    reader = token_mint.token(scopes=["config.read"])
    code, _, err = await run_cli(app, reader, "config", "set", "prod", "k", "3")
    line = _one_error_line(err)
    assert code == 1 and "PERMISSION_DENIED" in line and "config.write" in line


async def test_config_watch_prints_changes_until_interrupted(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """`config watch` replays from a revision as JSON lines; Ctrl-C ends it with exit 130."""
    app = await start_centrum()
    token = token_mint.token(scopes=CONFIG_SCOPES)
    for value in ("1", "2"):
        await run_cli(app, token, "config", "set", "prod", "app/k", value)
    process = await start_cli(
        app, token, "config", "watch", "prod", "--prefix", "app/", "--start-revision", "1"
    )
    try:
        assert process.stdout is not None
        lines = [await asyncio.wait_for(process.stdout.readline(), 30) for _ in range(2)]
        changes = [json.loads(line) for line in lines]
        assert [(c["key"], c["revision"], c["value"]) for c in changes] == [
            ("app/k", "1", 1),
            ("app/k", "2", 2),
        ]
    finally:
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130 and b"Traceback" not in err


async def test_flag_set_list_get_eval_delete(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """A flag is written from a file, listed, flipped off, evaluated and deleted."""
    app = await start_centrum()
    token = token_mint.token(scopes=FLAG_SCOPES)
    definition = tmp_path / "flag.json"
    definition.write_text(json.dumps(_bool_flag()))
    code, out, err = await run_cli(
        app, token, "flag", "set", "prod", "new-checkout", "--file", str(definition)
    )
    assert code == 0 and out.startswith("new-checkout: version 1"), err
    code, out, err = await run_cli(app, token, "flag", "list", "prod", "--json")
    assert code == 0, err
    assert [f["key"] for f in json.loads(out)] == ["new-checkout"]
    code, out, err = await run_cli(
        app, token, "flag", "eval", "prod", "new-checkout", "-a", "country=DE", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["value"] is True and result["reason"] == "EVALUATION_REASON_TARGETING_MATCH"
    code, out, err = await run_cli(
        app, token, "flag", "eval", "prod", "new-checkout", "--attrs", '{"country": "FR"}'
    )
    assert code == 0 and "DEFAULT" in out, err
    code, out, err = await run_cli(
        app, token, "flag", "set", "prod", "new-checkout", "--disable", "--json"
    )
    assert code == 0, err
    flag = json.loads(out)
    assert flag["version"] == "2" and not flag.get("enabled", False)
    code, out, err = await run_cli(app, token, "flag", "get", "prod", "new-checkout")
    assert code == 0 and json.loads(out)["version"] == "2", err
    code, out, err = await run_cli(app, token, "flag", "eval", "prod", "new-checkout", "--json")
    assert code == 0 and json.loads(out)["reason"] == "EVALUATION_REASON_DISABLED", err
    code, out, err = await run_cli(app, token, "flag", "delete", "prod", "new-checkout")
    assert code == 0 and "deleted at revision" in out, err
    code, _, err = await run_cli(app, token, "flag", "get", "prod", "new-checkout")
    assert code == 3 and "NOT_FOUND" in _one_error_line(err)


async def test_flag_bad_input_is_one_line(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """Unparseable definitions, missing files, bad attributes and conflicts: one line each."""
    app = await start_centrum()
    token = token_mint.token(scopes=FLAG_SCOPES)
    code, _, err = await run_cli(app, token, "flag", "set", "prod", "f", "-d", "{not json")
    assert code == 2 and "invalid flag definition" in _one_error_line(err)
    missing = tmp_path / "missing.json"
    code, _, err = await run_cli(app, token, "flag", "set", "prod", "f", "--file", str(missing))
    assert code == 2 and "cannot read" in _one_error_line(err)
    code, _, err = await run_cli(app, token, "flag", "set", "prod", "f")
    assert code == 2 and "give a definition" in _one_error_line(err)
    broken = dict(_bool_flag(), default_variant="missing")
    code, _, err = await run_cli(app, token, "flag", "set", "prod", "f", "-d", json.dumps(broken))
    assert code == 1 and "INVALID_ARGUMENT" in _one_error_line(err)
    code, _, err = await run_cli(app, token, "flag", "eval", "prod", "f", "-a", "novalue")
    assert code == 2 and "name=value" in _one_error_line(err)
    await run_cli(app, token, "flag", "set", "prod", "f", "-d", json.dumps(_bool_flag()))
    code, _, err = await run_cli(
        app, token, "flag", "set", "prod", "f", "--enable", "--expected-version", "9"
    )
    assert code == 1 and "ABORTED" in _one_error_line(err)


async def test_secret_values_print_only_when_asked(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """put/list/versions/delete never print a value; get prints it, or one field of it."""
    app = await start_centrum()
    token = token_mint.token(scopes=SECRET_SCOPES)
    outputs: list[str] = []
    code, out, err = await run_cli(
        app, token, "secret", "put", "pay/stripe", f"key={PLANTED}", "user=svc"
    )
    outputs += [out, err]
    assert code == 0 and out.strip() == "pay/stripe: version 1", err
    process = await start_cli(app, token, "secret", "put", "pay/stripe", "-")
    out_b, err_b = await process.communicate(f"key={PLANTED}-2\nuser=svc\n".encode())
    outputs += [out_b.decode(), err_b.decode()]
    assert process.returncode == 0 and out_b.decode().strip() == "pay/stripe: version 2"
    code, out, err = await run_cli(app, token, "secret", "list", "--json")
    outputs += [out, err]
    assert code == 0 and json.loads(out)["secrets"][0]["path"] == "pay/stripe", err
    code, out, err = await run_cli(app, token, "secret", "versions", "pay/stripe")
    outputs += [out, err]
    assert code == 0 and "live" in out, err
    code, out, err = await run_cli(
        app, token, "secret", "put", "pay/stripe", f"key={PLANTED}", "--expected-version", "1"
    )
    outputs += [out, err]
    assert code == 1 and "ABORTED" in _one_error_line(err)
    code, out, err = await run_cli(app, token, "secret", "delete", "pay/stripe", "--version", "1")
    outputs += [out, err]
    assert code == 0 and "soft [1]" in out, err
    assert all(PLANTED not in text for text in outputs)
    code, out, err = await run_cli(app, token, "secret", "get", "pay/stripe")
    assert code == 0 and out.splitlines() == [f"key={PLANTED}-2", "user=svc"], err
    code, out, err = await run_cli(app, token, "secret", "get", "pay/stripe", "--field", "key")
    assert code == 0 and out == f"{PLANTED}-2\n", err
    code, out, err = await run_cli(app, token, "secret", "get", "pay/stripe", "--json")
    assert code == 0 and json.loads(out)["data"]["key"] == f"{PLANTED}-2", err


async def test_secret_bad_input_is_one_line(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Malformed pairs, unknown fields and modes, conflicts and missing paths: one line each."""
    app = await start_centrum()
    token = token_mint.token(scopes=SECRET_SCOPES)
    code, _, err = await run_cli(app, token, "secret", "put", "p", PLANTED)
    assert code == 2 and "key=value" in _one_error_line(err) and PLANTED not in err
    await run_cli(app, token, "secret", "put", "p", f"k={PLANTED}")
    code, _, err = await run_cli(app, token, "secret", "get", "p", "--field", "other")
    assert code == 2 and "no field" in _one_error_line(err)
    code, _, err = await run_cli(app, token, "secret", "delete", "p", "--mode", "shred")
    assert code == 2 and "--mode" in _one_error_line(err)
    code, _, err = await run_cli(app, token, "secret", "get", "nowhere")
    assert code == 3 and "NOT_FOUND" in _one_error_line(err)
    code, out, err = await run_cli(
        app, token, "secret", "put", "p", f"k={PLANTED}", "--create-only"
    )
    assert code == 4 and "ALREADY_EXISTS" in _one_error_line(err)
    assert PLANTED not in out + err
    reader = token_mint.token(scopes=["secrets.read"])
    code, _, err = await run_cli(app, reader, "secret", "put", "p", f"k={PLANTED}")
    assert code == 1 and "PERMISSION_DENIED" in _one_error_line(err) and PLANTED not in err


def _bool_flag() -> dict[str, object]:
    return {
        "enabled": True,
        "variant_type": "VARIANT_TYPE_BOOL",
        "variants": {"on": True, "off": False},
        "default_variant": "off",
        "rules": [
            {
                "id": "germany",
                "variant": "on",
                "conditions": [
                    {
                        "attribute": "country",
                        "operator": "CONDITION_OPERATOR_EQUALS",
                        "values": ["DE"],
                    }
                ],
            }
        ],
    }
