"""`centrum profile set/list/show/delete`: the named connections of the profile file.

Secrets given as `-` are read from stdin, which keeps them out of the shell history; `list` and
`show` never print a secret.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from centrum.cli import profiles
from centrum.cli._common import EXIT_CODES, AsJson, fail, print_json

__all__ = ["app"]

app = typer.Typer(
    help="CLI profiles: set, list, show, delete (file: CENTRUM_PROFILES_FILE or "
    "$XDG_CONFIG_HOME/centrum/profiles.toml).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()

Name = Annotated[str, typer.Argument(help="Profile name, e.g. prod.")]
_STDIN = "-"


def _secret(value: str | None) -> str | None:
    if value != _STDIN:
        return value
    line = sys.stdin.readline().strip()
    if not line:
        raise fail("expected the secret on stdin ('-' was given)")
    return line


def _load(*, for_update: bool = False) -> dict[str, profiles.Profile]:
    # Rewriting the file makes it 0600, so a shared file is no reason to refuse an update.
    read = profiles.load_unchecked if for_update else profiles.load
    try:
        return read()
    except profiles.ProfileError as exc:
        raise fail(exc.message, exc.fix) from None


@app.command("set")
def set_profile(
    name: Name,
    target: Annotated[str | None, typer.Option(help="host:port of the server.")] = None,
    token: Annotated[str | None, typer.Option(help="Access token ('-': stdin).")] = None,
    api_key: Annotated[str | None, typer.Option(help="API key ('-': stdin).")] = None,
    client_id: Annotated[str | None, typer.Option(help="Service account client id.")] = None,
    client_secret: Annotated[
        str | None, typer.Option(help="Service account client secret ('-': stdin).")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option(help="Scopes to ask for with client credentials.")
    ] = None,
    ca: Annotated[str | None, typer.Option(help="PEM file of the server's CA.")] = None,
    cert: Annotated[str | None, typer.Option(help="PEM client certificate (mTLS).")] = None,
    key: Annotated[str | None, typer.Option(help="PEM client key (mTLS).")] = None,
    as_json: AsJson = False,
) -> None:
    """Creates or updates a profile; a new credential replaces the one it held (file 0600)."""
    given: dict[str, Any] = {
        "target": target,
        "token": _secret(token),
        "api_key": _secret(api_key),
        "client_id": client_id,
        "client_secret": _secret(client_secret),
        "scopes": tuple(scope) if scope else None,
        "ca": ca,
        "cert": cert,
        "key": key,
    }
    existing = _load(for_update=True).get(name)
    values = existing.fields() if existing is not None else {}
    if any(given[k] for k in ("token", "api_key", "client_id", "client_secret")):
        for field in profiles.CREDENTIAL_FIELDS:
            values.pop(field, None)
    values |= {k: v for k, v in given.items() if v is not None}
    values["scopes"] = tuple(values.get("scopes", ()))
    try:
        profile = profiles.Profile(name=name, **values)
        path = profiles.save(profile)
    except profiles.ProfileError as exc:
        raise fail(exc.message, exc.fix) from None
    if as_json:
        print_json({"name": name, "path": str(path), **profile.masked()})
    else:
        _out.print(f"saved profile {name} in {path}", highlight=False)


@app.command("list")
def list_profiles(as_json: AsJson = False) -> None:
    """Lists the profiles: target, kind of credential, TLS (never a secret)."""
    found = _load()
    if as_json:
        print_json({name: found[name].masked() for name in sorted(found)})
        return
    table = Table("name", "target", "credential", "tls")
    for name in sorted(found):
        p = found[name]
        tls = "mtls" if p.cert else "tls" if p.ca else ""
        table.add_row(name, p.target or "", p.credential or "", tls)
    _out.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Profile (default: --profile, CENTRUM_PROFILE, default).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Shows one profile with its secrets masked."""
    chosen = name or (ctx.find_root().params.get("profile")) or profiles.DEFAULT_PROFILE
    found = _load()
    if chosen not in found:
        raise fail(
            f"no profile {chosen!r} in {profiles.profiles_path()}",
            "centrum profile list",
            code=EXIT_CODES["not_found"],
        )
    masked = found[chosen].masked()
    if as_json:
        print_json({"name": chosen, **masked})
        return
    table = Table(show_header=False)
    table.add_row("name", chosen)
    for field, value in masked.items():
        table.add_row(field, " ".join(value) if isinstance(value, list) else str(value))
    _out.print(table)


@app.command("delete")
def delete(name: Name) -> None:
    """Deletes a profile (exit 3 if there is none)."""
    try:
        deleted = profiles.delete(name)
    except profiles.ProfileError as exc:
        raise fail(exc.message, exc.fix) from None
    if not deleted:
        raise fail(
            f"no profile {name!r} in {profiles.profiles_path()}", code=EXIT_CODES["not_found"]
        )
    _out.print(f"deleted profile {name}", highlight=False)
