"""`centrum config`: get, set, list, delete, history, rollback and watch config values.

Also holds the small helpers the `centrum secret` group shares (connection, error line, JSON).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from google.protobuf import json_format, struct_pb2
from rich.console import Console
from rich.table import Table

from centrum.cli._common import DEFAULT_TARGET, AsJson, Target, Token, client, print_json
from centrum.config.v1 import config_service_pb2 as pb

__all__ = ["DEFAULT_TARGET", "AsJson", "Target", "Token", "app", "client", "print_json"]

app = typer.Typer(
    help="Config values: get, set, list, delete, history, rollback, watch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)
_TIMEOUT_S = 15

Environment = Annotated[str, typer.Argument(help="Environment, e.g. production.")]
Key = Annotated[str, typer.Argument(help="Key path, e.g. payments/http/timeout.")]
Reason = Annotated[str, typer.Option(help="Why: recorded in the history.")]


def _metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    # Streaming calls carry the token explicitly (the channel interceptor covers unary calls).
    return (("authorization", f"Bearer {token}"),) if token else ()


def _not_json(constant: str) -> float:
    # NaN and Infinity are Python's extensions, not JSON: such a value is a string.
    raise ValueError(constant)


def _show(value: struct_pb2.Value) -> str:
    return json.dumps(json_format.MessageToDict(value))


@app.command()
def get(
    environment: Environment,
    key: Key,
    revision: Annotated[int, typer.Option(help="Read at this revision.")] = 0,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Prints a key's value."""
    with client(target, token) as c:
        response = c.config.GetValue(
            pb.GetValueRequest(environment=environment, key=key, revision=revision),
            timeout=_TIMEOUT_S,
        )
    if as_json:
        print_json(response)
    else:
        _out.print(_show(response.value.value), highlight=False)


@app.command("set")
def set_value(
    environment: Environment,
    key: Key,
    value: Annotated[str, typer.Argument(help="JSON value; text that is not JSON is a string.")],
    description: Annotated[str | None, typer.Option(help="What the key controls.")] = None,
    expected_revision: Annotated[int, typer.Option(help="Compare-and-set revision.")] = 0,
    reason: Reason = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Writes a key's value as a new revision."""
    try:
        parsed = json.loads(value, parse_constant=_not_json)
    except ValueError:
        parsed = value
    typed = struct_pb2.Value()
    json_format.ParseDict(parsed, typed)
    request = pb.SetValueRequest(
        environment=environment,
        key=key,
        value=typed,
        expected_revision=expected_revision,
        reason=reason,
    )
    if description is not None:
        request.description = description
    with client(target, token) as c:
        response = c.config.SetValue(request, timeout=_TIMEOUT_S)
    if as_json:
        print_json(response)
    else:
        _out.print(f"{key} = {_show(response.value.value)} at revision {response.value.revision}")


@app.command("list")
def list_values(
    environment: Environment,
    prefix: Annotated[str, typer.Option(help="Only keys starting with this.")] = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Lists the values of an environment."""
    values: list[pb.ConfigValue] = []
    page_token = ""
    with client(target, token) as c:
        while True:
            page = c.config.ListValues(
                pb.ListValuesRequest(
                    environment=environment, prefix=prefix, page_size=1000, page_token=page_token
                ),
                timeout=_TIMEOUT_S,
            )
            values.extend(page.values)
            page_token = page.next_page_token
            if not page_token:
                break
    if as_json:
        print_json(pb.ListValuesResponse(values=values, revision=page.revision))
        return
    table = Table("key", "value", "revision", "updated by")
    for v in values:
        table.add_row(v.key, _show(v.value), str(v.revision), v.updated_by)
    _out.print(table)


@app.command()
def delete(
    environment: Environment,
    key: Key,
    expected_revision: Annotated[int, typer.Option(help="Compare-and-set revision.")] = 0,
    reason: Reason = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Deletes a key (its history is kept)."""
    with client(target, token) as c:
        response = c.config.DeleteValue(
            pb.DeleteValueRequest(
                environment=environment,
                key=key,
                expected_revision=expected_revision,
                reason=reason,
            ),
            timeout=_TIMEOUT_S,
        )
    _out.print(f"deleted {key} at revision {response.revision}")


@app.command()
def history(
    environment: Environment,
    key: Key,
    limit: Annotated[int, typer.Option(help="Newest changes to show.")] = 50,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Shows a key's changes, newest first."""
    with client(target, token) as c:
        response = c.config.GetHistory(
            pb.GetHistoryRequest(environment=environment, key=key, page_size=limit),
            timeout=_TIMEOUT_S,
        )
    if as_json:
        print_json(response)
        return
    table = Table("revision", "type", "value", "actor", "time", "reason")
    for change in response.changes:
        kind = "delete" if change.type == pb.CONFIG_CHANGE_TYPE_DELETE else "put"
        shown = _show(change.value) if change.HasField("value") else ""
        when = change.time.ToDatetime().isoformat(timespec="seconds")
        table.add_row(str(change.revision), kind, shown, change.actor, when, change.reason)
    _out.print(table)


@app.command()
def rollback(
    environment: Environment,
    key: Key,
    revision: Annotated[int, typer.Argument(help="Revision whose value to restore.")],
    reason: Reason = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Restores the value a key had at a revision, as a new revision."""
    with client(target, token) as c:
        response = c.config.Rollback(
            pb.RollbackRequest(environment=environment, key=key, revision=revision, reason=reason),
            timeout=_TIMEOUT_S,
        )
    _out.print(
        f"{key} = {_show(response.value.value)} at revision {response.value.revision} "
        f"(restored from {response.restored_revision})"
    )


@app.command()
def watch(
    environment: Environment,
    prefix: Annotated[str, typer.Option(help="Only keys starting with this.")] = "",
    start_revision: Annotated[int, typer.Option(help="Replay from this revision.")] = 0,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Prints every change as one JSON line until interrupted."""
    request = pb.WatchRequest(environment=environment, start_revision=start_revision)
    if prefix:
        request.prefix = prefix
    with client(target, token) as c:
        for message in c.config.Watch(request, metadata=_metadata(token)):
            if message.HasField("change"):
                line = json_format.MessageToDict(message.change, preserving_proto_field_name=True)
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
