"""`centrum flag`: list, read, write, delete and evaluate feature flags on a Centrum server."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from centrum.cli._common import AsJson, Target, Token
from centrum.cli._common import client as _client
from centrum.cli._common import fail as _fail
from centrum.cli._common import print_json as _print_json
from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags import EvaluationContext

__all__ = ["app"]

app = typer.Typer(
    help="Feature flags: list, get, set, delete, eval.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)
T = TypeVar("T")

Environment = Annotated[str, typer.Argument(help="Environment, e.g. production.")]
Key = Annotated[str, typer.Argument(help="Flag key.")]


def _call(method: Callable[..., T], request: Any) -> T:
    return method(request, timeout=15)


@app.command("list")
def list_flags(
    environment: Environment,
    prefix: Annotated[str, typer.Option(help="Only keys starting with this.")] = "",
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Lists the flags of an environment."""
    found: list[pb.Flag] = []
    with _client(target, token) as client:
        page_token = ""
        while True:
            response = _call(
                client.flags.ListFlags,
                pb.ListFlagsRequest(
                    environment=environment, prefix=prefix, page_size=500, page_token=page_token
                ),
            )
            found.extend(response.flags)
            page_token = response.next_page_token
            if not page_token:
                break
    if as_json:
        _print_json([json_format.MessageToDict(f, preserving_proto_field_name=True) for f in found])
        return
    table = Table("key", "enabled", "type", "default", "rules", "version", "updated by")
    for flag in found:
        table.add_row(
            flag.key,
            "yes" if flag.enabled else "no",
            pb.VariantType.Name(flag.variant_type).removeprefix("VARIANT_TYPE_").lower(),
            flag.default_variant,
            str(len(flag.rules)),
            str(flag.version),
            flag.updated_by,
        )
    _out.print(table)


@app.command("get")
def get_flag(
    environment: Environment,
    key: Key,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
) -> None:
    """Prints a flag's definition as JSON."""
    with _client(target, token) as client:
        response = _call(client.flags.GetFlag, pb.GetFlagRequest(environment=environment, key=key))
    _print_json(response.flag)


@app.command("set")
def set_flag(
    environment: Environment,
    key: Key,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="JSON definition of the Flag ('-' reads stdin)."),
    ] = None,
    definition: Annotated[
        str | None, typer.Option("--definition", "-d", help="JSON definition of the Flag.")
    ] = None,
    enabled: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Switch the flag on or off (kill switch)."),
    ] = None,
    expected_version: Annotated[
        int, typer.Option(help="Write only if the flag is at this version (0: no check).")
    ] = 0,
    create_only: Annotated[bool, typer.Option(help="Fail if the flag exists.")] = False,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Writes a flag from a JSON definition, or flips its kill switch with --enable/--disable."""
    if file is not None and definition is not None:
        raise _fail("give --file or --definition, not both")
    text = definition
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise _fail(f"cannot read the flag definition {file}: {reason}") from None
    with _client(target, token) as client:
        if text is None:
            if enabled is None:
                raise _fail("give a definition (--file/--definition) or --enable/--disable")
            current = _call(
                client.flags.GetFlag, pb.GetFlagRequest(environment=environment, key=key)
            ).flag
            flag = current
            expected_version = expected_version or current.version
        else:
            try:
                flag = json_format.Parse(text, pb.Flag())
            except json_format.ParseError as exc:
                raise _fail(f"invalid flag definition: {exc}") from None
        if enabled is not None:
            flag.enabled = enabled
        response = _call(
            client.flags.SetFlag,
            pb.SetFlagRequest(
                environment=environment,
                key=key,
                flag=flag,
                expected_version=expected_version,
                create_only=create_only,
            ),
        )
    if as_json:
        _print_json(response.flag)
    else:
        _out.print(
            f"{key}: version {response.flag.version} at revision {response.flag.revision}",
            highlight=False,
        )


@app.command("delete")
def delete_flag(
    environment: Environment,
    key: Key,
    expected_version: Annotated[
        int, typer.Option(help="Delete only if the flag is at this version (0: no check).")
    ] = 0,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
) -> None:
    """Deletes a flag."""
    with _client(target, token) as client:
        response = _call(
            client.flags.DeleteFlag,
            pb.DeleteFlagRequest(
                environment=environment, key=key, expected_version=expected_version
            ),
        )
    _out.print(f"{key}: deleted at revision {response.revision}", highlight=False)


def _attributes(pairs: list[str], attrs_json: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if attrs_json:
        try:
            loaded = json.loads(attrs_json)
        except json.JSONDecodeError as exc:
            raise _fail(f"--attrs is not JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise _fail("--attrs must be a JSON object")
        attributes.update(loaded)
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise _fail(f"--attr takes name=value, got {pair!r}")
        try:
            attributes[name] = json.loads(raw)
        except json.JSONDecodeError:
            attributes[name] = raw
    return attributes


@app.command("eval")
def evaluate(
    environment: Environment,
    key: Key,
    targeting_key: Annotated[str, typer.Option("--targeting-key", "-t", help="Subject id.")] = "",
    attr: Annotated[
        list[str] | None,
        typer.Option("--attr", "-a", help="Attribute name=value (value parsed as JSON if it is)."),
    ] = None,
    attrs: Annotated[str | None, typer.Option(help="Attributes as a JSON object.")] = None,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Evaluates a flag on the server for a targeting key and attributes."""
    context = EvaluationContext(targeting_key, _attributes(attr or [], attrs))
    with _client(target, token) as client:
        result = _call(
            client.flags.EvaluateFlag,
            pb.EvaluateFlagRequest(
                environment=environment, flag_key=key, context=context.to_proto()
            ),
        ).result
    if as_json:
        _print_json(result)
        return
    table = Table("flag", "value", "variant", "reason", "rule", "version")
    value = json.dumps(json_format.MessageToDict(result.value)) if result.HasField("value") else "-"
    reason = pb.EvaluationReason.Name(result.reason).removeprefix("EVALUATION_REASON_")
    if result.error_code:
        code = pb.EvaluationErrorCode.Name(result.error_code)
        reason += f" ({code.removeprefix('EVALUATION_ERROR_CODE_')})"
    table.add_row(
        result.flag_key,
        value,
        result.variant or "-",
        reason,
        result.rule_id or "-",
        str(result.flag_version),
    )
    _out.print(table)
