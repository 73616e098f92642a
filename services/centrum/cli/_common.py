"""What every command group of the CLI shares: connection, credentials, errors, JSON output.

Each connection setting comes from the first place that has it:

1. a flag (`--target`, `--token`, `--api-key`);
2. the environment (`CENTRUM_TARGET`, `CENTRUM_TOKEN`, `CENTRUM_API_KEY`, `CENTRUM_CLIENT_ID` with
   `CENTRUM_CLIENT_SECRET`, and `CENTRUM_TLS_CA`, `CENTRUM_TLS_CERT`, `CENTRUM_TLS_KEY`);
3. the profile selected by `--profile` / `CENTRUM_PROFILE`, else the profile named `default`
   (`centrum.cli.profiles`). The implicit `default` profile lends its credential and TLS files
   only to its own target, so `--target elsewhere` never sends it to another server;
4. the built-in default: 127.0.0.1:50051, plaintext, no credential.

Exit codes, which scripts may rely on:

    0    success
    1    the call failed: the server answered with an error (or the command could not finish)
    2    usage: bad flags or arguments, invalid settings, a missing, unsafe or malformed
         profile, unreadable TLS files
    3    not found (NOT_FOUND)
    4    already exists, nothing changed (ALREADY_EXISTS; `centrum bootstrap` run again)
    5    unavailable, retrying later may succeed (UNAVAILABLE, DEADLINE_EXCEEDED,
         RESOURCE_EXHAUSTED; the server cannot be reached)
    130  interrupted (Ctrl-C)

A failure is one line on stderr, `error: STATUS (REASON): message; fix: hint`, never a
traceback.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from google.protobuf import json_format, message
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from centrum import sdk
from centrum.cli import profiles
from centrum.sdk.aio import AsyncClient
from centrum.sdk.errors import CentrumError, from_rpc_error

__all__ = [
    "DEFAULT_TARGET",
    "EXIT_CODES",
    "EXIT_CODES_HELP",
    "ApiKey",
    "AsJson",
    "Connection",
    "ProfileChoice",
    "Target",
    "Token",
    "client",
    "connection",
    "describe",
    "error_line",
    "exit_code",
    "fail",
    "print_json",
    "progress",
    "report",
    "rpc_errors",
]

DEFAULT_TARGET = "127.0.0.1:50051"
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

EXIT_CODES = {
    "ok": 0,
    "failed": 1,
    "usage": 2,
    "not_found": 3,
    "exists": 4,
    "unavailable": 5,
    "interrupted": 130,
}
"""The exit codes of every command, by meaning."""

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 the call failed, 2 usage (flags, settings, profile, TLS files), "
    "3 not found, 4 already exists (nothing changed), 5 unavailable (retry later), "
    "130 interrupted."
)

_STATUS_EXIT = {
    grpc.StatusCode.NOT_FOUND: EXIT_CODES["not_found"],
    grpc.StatusCode.ALREADY_EXISTS: EXIT_CODES["exists"],
    grpc.StatusCode.UNAVAILABLE: EXIT_CODES["unavailable"],
    grpc.StatusCode.DEADLINE_EXCEEDED: EXIT_CODES["unavailable"],
    grpc.StatusCode.RESOURCE_EXHAUSTED: EXIT_CODES["unavailable"],
}


def _line(text: str) -> None:
    # Plain echo, never wrapped: the error is one line whatever the terminal width.
    typer.echo(typer.style("error:", fg="red", bold=True) + " " + text, err=True)


def fail(text: str, fix: str = "", code: int = EXIT_CODES["usage"]) -> typer.Exit:
    """Prints one error line (with its fix); raise the returned Exit (default code 2: usage)."""
    _line(f"{text}; fix: {fix}" if fix else text)
    return typer.Exit(code=code)


class ProfileChoice:
    """The profile a command line selected (`--profile`, `CENTRUM_PROFILE`, or none); loaded once.

    Loading is deferred to the first option or command that needs it, so a broken profile file
    never gets in the way of `centrum serve` or of a command given all it needs by flags.
    """

    def __init__(self, name: str | None, path: Path | None = None) -> None:
        self.name = name
        self.explicit = name is not None
        self._path = path
        self._loaded = False
        self._profile: profiles.Profile | None = None

    @property
    def path(self) -> Path:
        """The profile file."""
        return self._path or profiles.profiles_path()

    def profile(self) -> profiles.Profile | None:
        """The selected profile, None without one; a bad selection ends the command (exit 2)."""
        if not self._loaded:
            try:
                self._profile = profiles.select(self.name, self.path)
            except profiles.ProfileError as exc:
                raise fail(exc.message, exc.fix) from None
            self._loaded = True
        return self._profile

    def install(self) -> None:
        """Makes this the selection of the running command (the root callback calls it)."""
        _invocation.set(_Invocation(self))


@dataclass
class _Invocation:
    """What the option callbacks learnt while parsing the command line."""

    choice: ProfileChoice
    target_from: str | None = None
    target_from_profile: bool = False
    sources: dict[str, str] = field(default_factory=dict)


_invocation: ContextVar[_Invocation | None] = ContextVar("centrum_cli_invocation", default=None)


def _given_by(ctx: typer.Context, param: typer.CallbackParam) -> str | None:
    """How the user gave the option: its flag, its environment variable, or None (default)."""
    source = ctx.get_parameter_source(param.name or "")
    kind = source.name if source is not None else "DEFAULT"
    if kind == "COMMANDLINE":
        return param.opts[0] if param.opts else param.name
    if kind == "ENVIRONMENT":
        envvar = getattr(param, "envvar", None)
        return envvar if isinstance(envvar, str) else "the environment"
    return None


def _target_option(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    # Runs while the command line is parsed: the profile's target fills the place of the
    # built-in default, so flag > environment > profile > default holds for --target.
    state = _invocation.get()
    given = _given_by(ctx, param)
    if state is None:
        return value
    if given is not None:
        state.target_from = given
        return value
    chosen = state.choice.profile()
    if chosen is not None and chosen.target:
        state.target_from, state.target_from_profile = f"profile {chosen.name!r}", True
        return chosen.target
    state.target_from = "the built-in default"
    return value


def _credential_option(
    ctx: typer.Context, param: typer.CallbackParam, value: str | None
) -> str | None:
    state = _invocation.get()
    given = _given_by(ctx, param)
    if state is not None and given is not None and param.name:
        state.sources[param.name] = given
    return value


Target = Annotated[
    str,
    typer.Option(
        envvar="CENTRUM_TARGET",
        callback=_target_option,
        help="host:port of the Centrum server (default: the profile's, else 127.0.0.1:50051).",
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        envvar="CENTRUM_TOKEN", callback=_credential_option, help="Access token (bearer)."
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(envvar="CENTRUM_API_KEY", callback=_credential_option, help="API key."),
]


@dataclass(frozen=True)
class Connection:
    """Where and how a command connects, and where each setting came from (for error hints)."""

    target: str
    target_from: str
    token: str | None = None
    api_key: str | None = None
    client_credentials: sdk.ClientCredentials | None = None
    credential_from: str | None = None
    tls: grpc.ChannelCredentials | None = None

    def _credentials(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "api_key": self.api_key,
            "client_credentials": self.client_credentials,
            "tls": self.tls,
        }

    def connect(self) -> sdk.Client:
        """A synchronous client."""
        return sdk.connect(self.target, **self._credentials())

    def connect_aio(self) -> AsyncClient:
        """An asyncio client."""
        from centrum.sdk import aio

        return aio.connect(self.target, **self._credentials())


def _tls(files: dict[str, str | None], origin: str) -> grpc.ChannelCredentials | None:
    if not any(files.values()):
        return None
    try:
        return sdk.tls_from_files(files["ca"], files["cert"], files["key"])
    except OSError as exc:
        raise fail(
            f"cannot read TLS file {exc.filename}: {exc.strerror}", f"check the TLS files {origin}"
        ) from None
    except ValueError as exc:
        raise fail(f"bad TLS files {origin}: {exc}", "give cert and key together") from None


def connection(target: str, token: str | None = None, api_key: str | None = None) -> Connection:
    """Resolves a command's connection: flag > environment > profile > built-in default.

    `target`, `token` and `api_key` are the values of the shared options (`Target`, `Token`,
    `ApiKey`), whose callbacks already put the profile's target in place of the default.
    """
    state = _invocation.get()
    env = os.environ
    env_client = bool(env.get("CENTRUM_CLIENT_ID") and env.get("CENTRUM_CLIENT_SECRET"))
    chosen: profiles.Profile | None = None
    lends = False
    if state is not None and (state.choice.explicit or not (token or api_key or env_client)):
        chosen = state.choice.profile()
        # The implicit `default` profile only lends its credential to its own server.
        lends = chosen is not None and (
            state.choice.explicit or state.target_from_profile or chosen.target == target
        )
    target_from = state.target_from if state is not None and state.target_from else "--target"
    sources = state.sources if state is not None else {}
    credential: dict[str, Any] = {}
    if token:
        credential = {"token": token, "credential_from": sources.get("token", "--token")}
    elif api_key:
        credential = {"api_key": api_key, "credential_from": sources.get("api_key", "--api-key")}
    elif env_client:
        credential = {
            "client_credentials": sdk.ClientCredentials(
                env["CENTRUM_CLIENT_ID"], env["CENTRUM_CLIENT_SECRET"]
            ),
            "credential_from": "CENTRUM_CLIENT_ID and CENTRUM_CLIENT_SECRET",
        }
    elif lends and chosen is not None and chosen.credential is not None:
        credential = {
            "token": chosen.token,
            "api_key": chosen.api_key,
            "client_credentials": sdk.ClientCredentials(
                chosen.client_id, chosen.client_secret or "", chosen.scopes
            )
            if chosen.client_id
            else None,
            "credential_from": f"profile {chosen.name!r}",
        }
    env_tls = {name: env.get(f"CENTRUM_TLS_{name.upper()}") for name in ("ca", "cert", "key")}
    tls = None
    if any(env_tls.values()):
        tls = _tls(env_tls, "(CENTRUM_TLS_CA, CENTRUM_TLS_CERT, CENTRUM_TLS_KEY)")
    elif lends and chosen is not None and state is not None:
        where = state.choice.path
        files = {name: chosen.tls_file(name, where.parent) for name in ("ca", "cert", "key")}
        tls = _tls(files, f"of profile {chosen.name!r} in {where}")
    return Connection(target, target_from, tls=tls, **credential)


def _fix(error: CentrumError, used: Connection | None) -> str:
    code = error.status
    if code == grpc.StatusCode.UNAUTHENTICATED:
        if used is None or used.credential_from is None:
            return (
                "pass a credential: --token, CENTRUM_TOKEN, CENTRUM_API_KEY, or a profile "
                "(--profile NAME or CENTRUM_PROFILE; see centrum profile list)"
            )
        return (
            f"the credential from {used.credential_from} was refused (expired, revoked or "
            "wrong); get a new one (centrum auth token) or fix it there"
        )
    if code == grpc.StatusCode.PERMISSION_DENIED:
        scope = error.metadata.get("scope")
        if scope:
            return f"use a credential holding the scope {scope!r} (or an admin role)"
        return "use a credential allowed to do this"
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED and error.retry_after is not None:
        return f"retry after {error.retry_after:g} s"
    if code == grpc.StatusCode.UNAVAILABLE:
        if error.retry_after is not None:
            return f"a backend of the server is down; retry after {error.retry_after:g} s"
        if used is not None and not error.reason:
            return (
                f"is the server running at {used.target} (from {used.target_from})? "
                "set --target, CENTRUM_TARGET or a profile; with TLS, check the CA"
            )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and used is not None:
        return f"the server at {used.target} did not answer in time; retry or check its health"
    return ""


def error_line(error: grpc.RpcError, used: Connection | None = None) -> str:
    """The one line for a failed call: `STATUS (REASON): message [violations]; fix: hint`."""
    parsed = from_rpc_error(error)
    text = str(parsed).replace("\n", " ")
    if parsed.field_violations:
        text += " [" + "; ".join(f"{v.field}: {v.description}" for v in parsed.field_violations)
        text += "]"
    fix = _fix(parsed, used)
    return f"{text}; fix: {fix}" if fix else text


def describe(error: grpc.RpcError) -> str:
    """One line for a failed call: status, reason and message."""
    return error_line(error)


def exit_code(error: grpc.RpcError) -> int:
    """The exit code for a failed call (see the module docstring)."""
    return _STATUS_EXIT.get(from_rpc_error(error).status, EXIT_CODES["failed"])


def report(error: grpc.RpcError, used: Connection | None = None) -> typer.Exit:
    """Prints the error line of a failed call; raise the returned Exit."""
    _line(error_line(error, used))
    return typer.Exit(code=exit_code(error))


@contextmanager
def rpc_errors(used: Connection | None = None) -> Iterator[None]:
    """Ends the command with one line and its exit code on an RPC error (or 130 on Ctrl-C)."""
    try:
        yield
    except grpc.RpcError as error:
        raise report(error, used) from None
    except KeyboardInterrupt:
        raise typer.Exit(code=EXIT_CODES["interrupted"]) from None


@contextmanager
def client(target: str, token: str | None, api_key: str | None = None) -> Iterator[sdk.Client]:
    """A connection (flag > environment > profile > default) whose failures end the command
    with one line and the exit code of the status."""
    used = connection(target, token, api_key)
    with rpc_errors(used), used.connect() as connected:
        _wait_until_connected(connected.channel, used)
        yield connected


def _wait_until_connected(channel: grpc.Channel, used: Connection) -> None:
    # The SDK lets idempotent calls wait for a server that is not up yet, which suits services;
    # an operator at a prompt wants to hear at once that nothing listens at the target.
    settled = threading.Event()
    outcome: list[grpc.ChannelConnectivity] = []

    def watch(state: grpc.ChannelConnectivity) -> None:
        if state in _SETTLED and not settled.is_set():
            outcome.append(state)
            settled.set()

    channel.subscribe(watch, try_to_connect=True)
    try:
        settled.wait(_connect_timeout_s())
    finally:
        channel.unsubscribe(watch)
    if outcome and outcome[0] == grpc.ChannelConnectivity.READY:
        return
    what = "refused or failed" if outcome else f"timed out after {_connect_timeout_s():g} s"
    raise fail(
        f"UNAVAILABLE: cannot connect to {used.target} ({what})",
        f"is the server running at {used.target} (from {used.target_from})? set --target, "
        "CENTRUM_TARGET or a profile; with TLS, check the CA and that the server uses TLS",
        code=EXIT_CODES["unavailable"],
    )


_SETTLED = (
    grpc.ChannelConnectivity.READY,
    grpc.ChannelConnectivity.TRANSIENT_FAILURE,
    grpc.ChannelConnectivity.SHUTDOWN,
)


def _connect_timeout_s() -> float:
    try:
        return float(os.environ.get("CENTRUM_CONNECT_TIMEOUT", "10"))
    except ValueError:
        return 10.0


def progress(as_json: bool = False) -> Progress:
    """A transfer progress bar on stderr; off with `--json` or when stderr is not a terminal."""
    err = Console(stderr=True)
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
        console=err,
        disable=as_json or not err.is_terminal,
    )


def print_json(value: message.Message | dict[str, Any] | list[Any]) -> None:
    """Prints a protobuf message (or plain data) as JSON on stdout."""
    if isinstance(value, message.Message):
        text = json_format.MessageToJson(value, preserving_proto_field_name=True)
    else:
        text = json.dumps(value, indent=2, sort_keys=True)
    sys.stdout.write(text + "\n")
