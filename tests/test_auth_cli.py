"""`centrum auth user get/update/disable` and `centrum auth role delete`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from test_auth_kit import Admin, running_admin

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from harness.centrum import StartCentrum

CENTRUM = str(Path(sys.executable).with_name("centrum"))
Result = subprocess.CompletedProcess[str]

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def admin(start_centrum: StartCentrum) -> AsyncIterator[Admin]:
    """The bootstrap admin of a fresh server that locks accounts after two failures."""
    async with running_admin(start_centrum, auth={"lockout_threshold": 2}) as admin:
        yield admin


async def _cli(admin: Admin, *argv: str) -> Result:
    # In a thread: the server under test runs on this event loop.
    env = {**os.environ, "CENTRUM_TARGET": admin.target, "CENTRUM_TOKEN": admin.token}
    return await asyncio.to_thread(
        subprocess.run,
        [CENTRUM, "auth", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def _json(result: Result) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_user_get_update_disable_enable(admin: Admin) -> None:
    """get shows a user; update changes only the given fields; disable stops logins and
    `update --enable` lets the user log in again; an update with nothing to change is a usage
    error."""
    created = await admin.user("ada", PASSWORD, "auth.read")
    user_id = created.user.id
    shown = _json(await _cli(admin, "user", "get", user_id, "--json"))
    assert (shown["user"]["username"], shown["user"]["scopes"]) == ("ada", ["auth.read"])

    updated = _json(
        await _cli(
            admin,
            "user",
            "update",
            user_id,
            "--display-name",
            "Ada Lovelace",
            "--email",
            "ada@example.test",
            "--json",
        )
    )["user"]
    assert (updated["display_name"], updated["email"], updated["username"]) == (
        "Ada Lovelace",
        "ada@example.test",
        "ada",
    )

    assert _json(await _cli(admin, "user", "disable", user_id, "--json"))["user"]["disabled"]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.login("ada", PASSWORD)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    enabled = _json(await _cli(admin, "user", "update", user_id, "--enable", "--json"))["user"]
    assert "disabled" not in enabled
    await admin.login("ada", PASSWORD)

    nothing = await _cli(admin, "user", "update", user_id)
    assert nothing.returncode == 2
    assert "nothing to change" in nothing.stderr


async def test_user_update_unlock_ends_a_lockout(admin: Admin) -> None:
    """`user update --unlock` clears a lockout after failed logins."""
    created = await admin.user("grace", PASSWORD, "auth.read")
    for attempt in range(2):
        with pytest.raises(grpc.aio.AioRpcError):
            await admin.login("grace", f"wrong password {attempt}!")
    with pytest.raises(grpc.aio.AioRpcError):
        await admin.login("grace", PASSWORD)
    unlocked = _json(await _cli(admin, "user", "update", created.user.id, "--unlock", "--json"))
    assert "locked_until" not in unlocked["user"]
    await admin.login("grace", PASSWORD)


async def test_user_get_of_a_missing_user_fails_cleanly(admin: Admin) -> None:
    """A missing user is one error line with the status, exit code 3 (not found), no
    traceback, like every command group's."""
    result = await _cli(admin, "user", "get", "usr_missing")
    assert result.returncode == 3
    assert result.stderr.startswith("error: NOT_FOUND")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


async def test_role_delete_needs_force_while_assigned(admin: Admin) -> None:
    """role delete refuses an assigned role (FAILED_PRECONDITION) and deletes it with --force,
    which also takes its scopes from the assignees."""
    created = await admin.user("linus", PASSWORD, "config.read")
    (role_id,) = created.user.role_ids
    refused = await _cli(admin, "role", "delete", role_id)
    assert refused.returncode == 1
    assert "FAILED_PRECONDITION" in refused.stderr and "ROLE_ASSIGNED" in refused.stderr
    deleted = await _cli(admin, "role", "delete", role_id, "--force")
    assert deleted.returncode == 0, deleted.stderr
    roles = await admin.client.auth_admin.ListRoles(admin_pb.ListRolesRequest())
    assert role_id not in [role.id for role in roles.roles]
    user = await admin.client.auth_admin.GetUser(admin_pb.GetUserRequest(user_id=created.user.id))
    assert list(user.user.scopes) == []
