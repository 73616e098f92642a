"""First-start bootstrap: an admin service account so a new deployment can be administered.

On the first start (no service account in the operator tenant yet) the server creates the
builtin role `admin` (scope `*`) and a service account holding it, then prints its client_id and
client secret once to stderr — never to the structured log — and, for local use, writes them to
`data_dir/bootstrap-credentials` (0600; delete it once the secret is stored elsewhere).
`centrum auth bootstrap` creates a further admin account on demand.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from centrum.interceptors.errors import AlreadyExists, NotFound
from centrum.services.auth.directory import Directory
from centrum.services.auth.tables import service_accounts

__all__ = ["ADMIN_ROLE", "BootstrapCredentials", "announce", "create_admin", "first_start"]

ADMIN_ROLE = "admin"
CREDENTIALS_FILE = "bootstrap-credentials"


@dataclass(frozen=True)
class BootstrapCredentials:
    """The credentials of a bootstrap admin service account."""

    tenant: str
    client_id: str
    client_secret: str


async def _admin_role_id(directory: Directory, tenant: str, *, create: bool) -> str | None:
    try:
        return str((await directory.get_role(tenant, name=ADMIN_ROLE)).id)
    except NotFound:
        if not create:
            return None
    try:
        row = await directory.create_role(
            tenant, ADMIN_ROLE, "Administers the tenant (every scope).", ["*"], builtin=True
        )
    except AlreadyExists:
        return None
    return str(row.id)


async def create_admin(directory: Directory, tenant: str, name: str) -> BootstrapCredentials:
    """Creates an admin service account (and the admin role when missing)."""
    role_id = await _admin_role_id(directory, tenant, create=True)
    if role_id is None:
        role_id = str((await directory.get_role(tenant, name=ADMIN_ROLE)).id)
    row, secret = await directory.create_service_account(
        tenant,
        display_name=name,
        description="Created by bootstrap; holds the admin role.",
        disabled=False,
        allowed_audiences=(),
        access_token_ttl_s=0.0,
        labels={"created-by": "bootstrap"},
        role_ids=[role_id],
        secret_ttl_s=0.0,
    )
    return BootstrapCredentials(tenant, row.client_id, secret)


async def first_start(directory: Directory, tenant: str) -> BootstrapCredentials | None:
    """Creates the bootstrap admin when the operator tenant has no service account yet.

    Creating the builtin admin role doubles as the lock: of replicas starting together, only the
    one that creates it bootstraps.
    """
    async with directory.engine.connect() as connection:
        existing = (
            await connection.execute(
                sa.select(service_accounts.c.id).where(service_accounts.c.tenant == tenant).limit(1)
            )
        ).first()
    if existing is not None:
        return None
    if await _admin_role_id(directory, tenant, create=False) is not None:
        return None
    role_id = await _admin_role_id(directory, tenant, create=True)
    if role_id is None:
        return None
    return await create_admin(directory, tenant, "bootstrap-admin")


def announce(credentials: BootstrapCredentials, data_dir: Path | None) -> None:
    """Prints the credentials once to stderr and, when given a directory, writes them 0600."""
    text = (
        f"tenant={credentials.tenant}\n"
        f"client_id={credentials.client_id}\n"
        f"client_secret={credentials.client_secret}\n"
    )
    if data_dir is None:
        print(
            "\n=== Centrum bootstrap admin (shown once; store the secret safely) ===\n"
            + text
            + "Get a token: centrum auth token --client-id <client_id> --client-secret <secret>\n",
            file=sys.stderr,
            flush=True,
        )
        return
    path = data_dir / CREDENTIALS_FILE
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
