"""What every command group of the CLI shares: connection options, errors, JSON output.

A failed RPC ends a command with one line (`error: STATUS (REASON): message`) on stderr and exit
code 1; a usage mistake with exit code 2; Ctrl-C with 130. Never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import grpc
import typer
from google.protobuf import json_format, message
from rich.console import Console

from centrum import sdk
from centrum.sdk.errors import from_rpc_error

__all__ = [
    "DEFAULT_TARGET",
    "ApiKey",
    "AsJson",
    "Target",
    "Token",
    "client",
    "describe",
    "fail",
    "print_json",
]

DEFAULT_TARGET = "127.0.0.1:50051"
Target = Annotated[
    str, typer.Option(envvar="CENTRUM_TARGET", help="host:port of the Centrum server.")
]
Token = Annotated[str | None, typer.Option(envvar="CENTRUM_TOKEN", help="Access token (bearer).")]
ApiKey = Annotated[str | None, typer.Option(envvar="CENTRUM_API_KEY", help="API key.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

_err = Console(stderr=True)


def describe(error: grpc.RpcError) -> str:
    """One line for a failed call: status, reason and message."""
    return str(from_rpc_error(error))


@contextmanager
def client(target: str, token: str | None, api_key: str | None = None) -> Iterator[sdk.Client]:
    """A connection whose RPC errors end the command with one line and exit code 1."""
    try:
        with sdk.connect(target, token=token, api_key=api_key) as connected:
            yield connected
    except grpc.RpcError as error:
        _err.print(f"[bold red]error:[/] {describe(error)}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None


def print_json(value: message.Message | dict[str, Any] | list[Any]) -> None:
    """Prints a protobuf message (or plain data) as JSON on stdout."""
    if isinstance(value, message.Message):
        text = json_format.MessageToJson(value, preserving_proto_field_name=True)
    else:
        text = json.dumps(value, indent=2, sort_keys=True)
    sys.stdout.write(text + "\n")


def fail(text: str) -> typer.Exit:
    """Prints one error line; raise the returned Exit (code 2: a usage mistake)."""
    _err.print(f"[bold red]error:[/] {text}", markup=True, highlight=False)
    return typer.Exit(code=2)
