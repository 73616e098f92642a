"""`centrum secret`: get, put, list, versions and delete secrets.

Secret values are printed only by `get`, and only to stdout.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from centrum.cli.config import DEFAULT_TARGET, AsJson, Target, Token, client, print_json
from centrum.config.v1 import secret_service_pb2 as pb

__all__ = ["app"]

app = typer.Typer(
    help="Secrets: get, put, list, versions, delete.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()
_TIMEOUT_S = 15
Path = Annotated[str, typer.Argument(help="Secret path, e.g. payments/stripe.")]
_MODES = {
    "soft": pb.SECRET_DELETE_MODE_SOFT,
    "destroy": pb.SECRET_DELETE_MODE_DESTROY,
    "purge": pb.SECRET_DELETE_MODE_PURGE,
}


@app.command()
def get(
    path: Path,
    field: Annotated[str | None, typer.Option(help="Print only this field's value.")] = None,
    version: Annotated[int, typer.Option(help="Version to read; 0 is the current one.")] = 0,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Prints a secret's data."""
    with client(target, token) as c:
        response = c.secrets.GetSecret(
            pb.GetSecretRequest(path=path, version=version), timeout=_TIMEOUT_S
        )
    if field is not None:
        if field not in response.data:
            typer.echo(f"error: the secret has no field {field!r}", err=True)
            raise typer.Exit(code=2)
        sys.stdout.write(response.data[field] + "\n")
    elif as_json:
        print_json(response)
    else:
        for key, value in sorted(response.data.items()):
            sys.stdout.write(f"{key}={value}\n")


@app.command()
def put(
    path: Path,
    pairs: Annotated[list[str], typer.Argument(help="key=value pairs; '-' reads them from stdin.")],
    expected_version: Annotated[int, typer.Option(help="Check-and-set version.")] = 0,
    create_only: Annotated[bool, typer.Option(help="Fail if the secret exists.")] = False,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Writes a new version of a secret (pass '-' to keep values out of the shell history)."""
    lines = sys.stdin.read().splitlines() if pairs == ["-"] else pairs
    data: dict[str, str] = {}
    for pair in lines:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            typer.echo("error: pairs are key=value", err=True)
            raise typer.Exit(code=2)
        data[key] = value
    with client(target, token) as c:
        response = c.secrets.PutSecret(
            pb.PutSecretRequest(
                path=path, data=data, expected_version=expected_version, create_only=create_only
            ),
            timeout=_TIMEOUT_S,
        )
    _out.print(f"{path}: version {response.metadata.version}")


@app.command("list")
def list_secrets(
    prefix: Annotated[str, typer.Option(help="Only paths starting with this.")] = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Lists secret paths and their current versions (never data)."""
    with client(target, token) as c:
        response = c.secrets.ListSecrets(
            pb.ListSecretsRequest(prefix=prefix, page_size=1000), timeout=_TIMEOUT_S
        )
    if as_json:
        print_json(response)
        return
    table = Table("path", "version", "updated by")
    for secret in response.secrets:
        table.add_row(secret.path, str(secret.current_version), secret.updated_by)
    _out.print(table)


@app.command()
def versions(
    path: Path, target: Target = DEFAULT_TARGET, token: Token = None, as_json: AsJson = False
) -> None:
    """Lists the versions of a secret (never data)."""
    with client(target, token) as c:
        response = c.secrets.ListSecretVersions(
            pb.ListSecretVersionsRequest(path=path, page_size=1000), timeout=_TIMEOUT_S
        )
    if as_json:
        print_json(response)
        return
    table = Table("version", "created", "state", "created by")
    for v in response.versions:
        state = "destroyed" if v.destroyed else "deleted" if v.HasField("deletion_time") else "live"
        created = v.create_time.ToDatetime().isoformat(timespec="seconds")
        table.add_row(str(v.version), created, state, v.created_by)
    _out.print(table)


@app.command()
def delete(
    path: Path,
    version: Annotated[list[int] | None, typer.Option(help="Versions (default: current).")] = None,
    mode: Annotated[str, typer.Option(help="soft, destroy or purge.")] = "soft",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Soft-deletes, destroys or purges versions of a secret."""
    if mode not in _MODES:
        typer.echo("error: --mode is soft, destroy or purge", err=True)
        raise typer.Exit(code=2)
    with client(target, token) as c:
        response = c.secrets.DeleteSecret(
            pb.DeleteSecretRequest(path=path, versions=version or [], mode=_MODES[mode]),
            timeout=_TIMEOUT_S,
        )
    _out.print(f"{path}: {mode} {list(response.versions) or 'nothing'}")
