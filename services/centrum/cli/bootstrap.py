"""`centrum bootstrap`: initialise a deployment from its settings, once.

It applies the database migrations, creates the master key if it is missing and creates the first
admin service account of the operator tenant (`centrum.services.auth.bootstrap`, the same code
the server runs on its first start). It prints the client id and secret once, and
`--save-profile NAME` stores them with the target in the profile file (0600), so
`centrum --profile NAME ...` works at once.

Idempotent: once the operator tenant has a service account, running it again changes nothing and
exits 4 ("already exists"); `--force` creates a further admin account instead.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from centrum.cli import profiles
from centrum.cli._common import EXIT_CODES, AsJson, fail, print_json

if TYPE_CHECKING:
    from centrum.server.settings import Settings
    from centrum.services.auth.bootstrap import BootstrapCredentials

__all__ = ["bootstrap", "initialise_admin"]

# Wildcard listen addresses are reached through loopback from this machine.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


async def initialise_admin(
    settings: Settings, tenant: str, name: str, *, force: bool
) -> BootstrapCredentials | None:
    """Creates the master key if missing and an admin service account of `tenant`.

    Without `force` only the first one: None when the tenant already has a service account.
    The database must be migrated.
    """
    from centrum.interceptors.credentials import MemoryRevocations
    from centrum.services.auth import bootstrap as boot
    from centrum.services.auth.wiring import open_domain
    from centrum.services.db import create_engine
    from centrum.services.keys import MasterKey

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = create_engine(settings.sqlalchemy_url)
    try:
        domain = await open_domain(
            settings,
            engine,
            MasterKey.load_or_create(settings.master_key_path),
            MemoryRevocations(),
        )
        if force:
            return await boot.create_admin(domain.directory, tenant, name)
        return await boot.first_start(domain.directory, tenant)
    finally:
        await engine.dispose()


def _target_of(settings: Settings) -> str:
    host, _, port = settings.listen.rpartition(":")
    bare = host.strip("[]")
    if port in ("", "0"):
        raise fail(
            f"cannot tell the target from listen = {settings.listen!r}",
            "pass --target HOST:PORT (the address clients use)",
        )
    loopback = _LOOPBACK.get(bare, bare)
    return f"[{loopback}]:{port}" if ":" in loopback else f"{loopback}:{port}"


def _check_profile_free(name: str, force: bool) -> None:
    try:
        existing = profiles.load_unchecked().get(name)
    except profiles.ProfileError as exc:
        raise fail(exc.message, exc.fix) from None
    if existing is not None and not force:
        raise fail(
            f"profile {name!r} already exists in {profiles.profiles_path()}",
            "choose another --save-profile name, delete it (centrum profile delete), or --force",
        )


def bootstrap(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file.", exists=True)
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Directory of the embedded backends.")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant of the admin (default: the operator tenant).")
    ] = None,
    name: Annotated[
        str, typer.Option(help="Display name of a further admin made with --force.")
    ] = "admin",
    force: Annotated[
        bool,
        typer.Option(
            help="Create another admin even if the tenant has one (and replace the profile)."
        ),
    ] = False,
    save_profile: Annotated[
        str | None,
        typer.Option(help="Store the credentials (and target) as this profile, file mode 0600."),
    ] = None,
    profile_target: Annotated[
        str | None,
        typer.Option(
            "--target",
            envvar="CENTRUM_TARGET",
            help="Target written to the profile (default: the settings' listen address).",
        ),
    ] = None,
    ca: Annotated[
        str | None, typer.Option(help="PEM file of the server's CA, written to the profile.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Initialises a deployment: migrations, master key, first admin; prints its secret once.

    Run again, it changes nothing and exits 4; --force creates another admin.
    """
    from centrum.cli.main import load_settings
    from centrum.services.db import migrate

    settings = load_settings(config, data_dir=data_dir)
    os.umask(0o077)
    owner = tenant or settings.auth.operator_tenant
    target = None
    if save_profile is not None:
        target = profile_target or _target_of(settings)
        try:
            profiles.Profile(name=save_profile, target=target, ca=ca)
        except profiles.ProfileError as exc:
            raise fail(exc.message, exc.fix) from None
        _check_profile_free(save_profile, force)
    migrate(settings.sqlalchemy_url)
    created = asyncio.run(initialise_admin(settings, owner, name, force=force))
    if created is None:
        if as_json:
            print_json({"created": False, "tenant": owner})
        typer.echo(
            f"already bootstrapped: tenant {owner!r} has a service account; nothing changed "
            "(--force creates another admin)",
            err=True,
        )
        raise typer.Exit(code=EXIT_CODES["exists"])
    saved: Path | None = None
    if save_profile is not None:
        saved = profiles.save(
            profiles.Profile(
                name=save_profile,
                target=target,
                client_id=created.client_id,
                client_secret=created.client_secret,
                ca=ca,
            )
        )
    if as_json:
        print_json(
            {
                "created": True,
                "tenant": created.tenant,
                "client_id": created.client_id,
                "client_secret": created.client_secret,
                "profile": save_profile,
                "profiles_file": str(saved) if saved else None,
            }
        )
        return
    typer.echo("admin service account created; the secret is shown once, store it safely", err=True)
    typer.echo(
        f"tenant={created.tenant}\n"
        f"client_id={created.client_id}\n"
        f"client_secret={created.client_secret}"
    )
    if saved is not None:
        typer.echo(
            f"saved as profile {save_profile!r} ({target}) in {saved}: "
            f"centrum --profile {save_profile} ...",
            err=True,
        )
