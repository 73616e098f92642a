"""`centrum serve`, `worker`, `migrate`, `bootstrap`, `profile` and each service's command group.

`main` is the entry point: it turns anything a command lets escape into one error line and an
exit code from `centrum.cli._common` (never a traceback, unless `CENTRUM_DEBUG=1`).
"""

from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from pydantic import ValidationError
from rich.console import Console

from centrum.cli._common import EXIT_CODES, EXIT_CODES_HELP, ProfileChoice, fail, report
from centrum.interceptors.logging import configure_logging
from centrum.server.settings import ALL_SERVICES, ServiceName, Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="centrum",
    help="Centrum: auth, config, flags, secrets, notifications, storage and audit over gRPC.",
    epilog="Connection: flag > environment (CENTRUM_TARGET, CENTRUM_TOKEN, CENTRUM_API_KEY, ...) "
    "> profile (--profile, CENTRUM_PROFILE, else the one named 'default') > 127.0.0.1:50051.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_err = Console(stderr=True)


@app.callback()
def root(
    profile: Annotated[
        str | None,
        typer.Option(
            envvar="CENTRUM_PROFILE",
            help="Profile of the profile file to connect with (default: the one named 'default').",
        ),
    ] = None,
) -> None:
    """Selects the profile that commands connecting to a server use (loaded when needed)."""
    ProfileChoice(profile).install()


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Loads the settings; a bad or unsafe setting ends the command with one readable line."""
    if config is not None:
        os.environ["CENTRUM_CONFIG_FILE"] = str(config)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise fail(
            f"invalid settings: {problems}", "fix the TOML file (--config) or CENTRUM_* variables"
        ) from None
    except ValueError as exc:
        raise fail(f"invalid settings: {' '.join(str(exc).split())}") from None


ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="TOML settings file.", exists=True)
]


@app.command()
def serve(
    config: ConfigOption = None,
    listen: Annotated[str | None, typer.Option(help="host:port to listen on.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Directory of the embedded backends.")
    ] = None,
    services: Annotated[
        str | None, typer.Option(help=f"Comma-separated subset of: {', '.join(ALL_SERVICES)}.")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes sharing the port (needs PostgreSQL and Redis).")
    ] = 1,
) -> None:
    """Runs the Centrum services until SIGTERM or SIGINT, in one process or in `--workers`."""
    chosen: tuple[ServiceName, ...] | None = None
    if services:
        names = tuple(s.strip() for s in services.split(",") if s.strip())
        unknown = [n for n in names if n not in ALL_SERVICES]
        if unknown:
            raise fail(
                f"unknown service(s): {', '.join(unknown)}",
                f"choose from {', '.join(ALL_SERVICES)}",
            )
        chosen = names  # type: ignore[assignment]
    settings = load_settings(config, listen=listen, data_dir=data_dir, services=chosen)
    configure_logging(settings.log_level, settings.log_format)
    os.umask(0o077)  # every file of the embedded backends is private to the server's user
    from centrum.server.app import CentrumApp
    from centrum.server.runner import (
        ShutdownTimeout,
        serve_until_signalled,
        serve_workers,
        workers_refusal,
    )

    if workers == 1:
        try:
            asyncio.run(serve_until_signalled(CentrumApp(settings)))
        except ShutdownTimeout:
            raise typer.Exit(code=1) from None
        return
    refusal = workers_refusal(settings)
    if refusal:
        raise fail(f"--workers {workers}: {refusal}")
    raise typer.Exit(code=serve_workers(settings, workers))


@app.command()
def worker(config: ConfigOption = None) -> None:
    """Runs notification dispatch only, against the shared database (scale-out delivery)."""
    from centrum.services.notification.worker import run_worker

    settings = load_settings(config)
    configure_logging(settings.log_level, settings.log_format)
    os.umask(0o077)
    asyncio.run(run_worker(settings))


@app.command()
def migrate(config: ConfigOption = None) -> None:
    """Applies the database migrations and exits."""
    from centrum.services.db import migrate as apply

    settings = load_settings(config)
    configure_logging(settings.log_level, settings.log_format)
    apply(settings.sqlalchemy_url)
    _err.print("database is up to date")


def _add_service_commands() -> None:
    """Adds the command group of every service that has one (`centrum.cli.<service>.app`)."""
    for name in ("auth", "config", "flag", "secret", "notify", "template", "storage", "audit"):
        module_name = f"centrum.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        app.add_typer(module.app, name=name)


def _add_operator_commands() -> None:
    from centrum.cli import bootstrap, profile

    app.command("bootstrap")(bootstrap.bootstrap)
    app.add_typer(profile.app, name="profile")


_add_operator_commands()
_add_service_commands()


def main() -> None:
    """Entry point of the `centrum` command: one line and an exit code for every failure."""
    try:
        app()
    except grpc.RpcError as error:
        raise SystemExit(report(error).exit_code) from None
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise SystemExit(
            fail(f"{error.strerror or error}{where}", code=EXIT_CODES["failed"]).exit_code
        ) from None
    except Exception as error:
        if os.environ.get("CENTRUM_DEBUG"):
            raise
        raise SystemExit(
            fail(
                f"unexpected {type(error).__name__}: {error}",
                "rerun with CENTRUM_DEBUG=1 for the traceback, and report it",
                code=EXIT_CODES["failed"],
            ).exit_code
        ) from None
