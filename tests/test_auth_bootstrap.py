"""Bootstrap, the CLI, and bad input to the auth RPCs."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from test_auth_kit import auth_settings, bootstrap_credentials, has_detail, start_auth

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.auth.v1 import principal_pb2
from harness.centrum import StartCentrum

CENTRUM = str(Path(sys.executable).with_name("centrum"))


async def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # In a thread: the server under test runs on this event loop.
    return await asyncio.to_thread(
        subprocess.run,
        [CENTRUM, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


async def test_first_start_bootstraps_once_and_prints_to_stderr_only(
    start_centrum: StartCentrum, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The first start prints the admin's credentials to stderr and a 0600 file; later starts
    of the same deployment create nothing."""
    settings = auth_settings(bootstrap_announce=True)
    app = await start_centrum(data_dir=tmp_path / "d", **settings)
    credentials = bootstrap_credentials(app)
    path = app.settings.data_dir / "bootstrap-credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    captured = capfd.readouterr()
    assert captured.err.count(credentials["client_secret"]) == 1
    assert credentials["client_secret"] not in captured.out
    path.unlink()
    await app.stop(grace_s=0)
    again = await start_centrum(data_dir=tmp_path / "d", **settings)
    assert not (again.settings.data_dir / "bootstrap-credentials").exists()
    assert credentials["client_secret"] not in capfd.readouterr().err


async def test_cli_bootstrap_token_introspect_and_apikey(start_centrum: StartCentrum) -> None:
    """`centrum auth bootstrap` adds an admin; token, introspect and apikey work through the CLI;
    an admin of another tenant sees none of this tenant and cannot rotate signing keys."""
    admin = await start_auth(start_centrum)
    env = {
        "CENTRUM_DATA_DIR": str(admin.app.settings.data_dir),
        "CENTRUM_AUTH__OPERATOR_TENANT": admin.tenant,
        "CENTRUM_TARGET": admin.target,
        "CENTRUM_LOG_FORMAT": "json",
    }
    made = await _run("auth", "bootstrap", "--name", "second-admin", env=env)
    assert made.returncode == 0, made.stderr
    values = dict(
        line.split("=", 1) for line in made.stderr.splitlines() if line.startswith("client_")
    )
    issued = await _run(
        "auth",
        "token",
        "--client-id",
        values["client_id"],
        env={**env, "CENTRUM_CLIENT_SECRET": values["client_secret"]},
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    looked = await _run("auth", "introspect", token, "--json", env=env)
    assert '"active": true' in looked.stdout
    created = await _run(
        "auth",
        "apikey",
        "create",
        "cli-key",
        "--scope",
        "auth.read",
        "--json",
        env={**env, "CENTRUM_TOKEN": token},
    )
    assert created.returncode == 0 and '"secret": "ck_' in created.stdout
    wrong = await _run(
        "auth",
        "token",
        "--client-id",
        values["client_id"],
        env={**env, "CENTRUM_CLIENT_SECRET": "cs_wrong"},
    )
    assert wrong.returncode == 1
    assert wrong.stderr.strip().startswith("error: UNAUTHENTICATED")
    assert "Traceback" not in wrong.stderr

    other = await _run("auth", "bootstrap", "--tenant", "other-tenant", env=env)
    outsider = dict(
        line.split("=", 1) for line in other.stderr.splitlines() if line.startswith("client_")
    )
    issued_other = await admin.token_for(outsider["client_id"], outsider["client_secret"])
    user = await admin.user("isolated", "correct horse battery staple")
    async with admin.connect(token=issued_other.tokens.access_token) as client:
        with pytest.raises(grpc.aio.AioRpcError) as hidden:
            await client.auth_admin.GetUser(admin_pb.GetUserRequest(user_id=user.user.id))
        assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await client.auth.RotateSigningKey(auth_pb.RotateSigningKeyRequest())
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await admin.close()


async def test_bad_input_is_invalid_argument_with_field_violations(
    start_centrum: StartCentrum,
) -> None:
    """Malformed requests fail before any handler with the offending fields named."""
    admin = await start_auth(start_centrum)
    cases: list[tuple[Any, Any, set[str] | None]] = [
        (admin.client.auth.Login, auth_pb.LoginRequest(), {"username", "password"}),
        (
            admin.client.auth.Token,
            auth_pb.TokenRequest(scopes=["Bad Scope"]),
            {"client_id", "client_secret", "scopes[0]"},
        ),
        (admin.client.auth.IntrospectToken, auth_pb.IntrospectTokenRequest(), {"token"}),
        (admin.client.auth.CreateApiKey, auth_pb.CreateApiKeyRequest(), {"name", "scopes"}),
        (
            admin.client.auth_admin.CreateUser,
            admin_pb.CreateUserRequest(user=principal_pb2.User(username="bad name", email="x")),
            {"user.username", "user.email"},
        ),
        (
            admin.client.auth_admin.CreateRole,
            admin_pb.CreateRoleRequest(role=principal_pb2.Role(name="Bad_Name")),
            {"role.name", "role.scopes"},
        ),
        (
            admin.client.auth_admin.AssignRole,
            admin_pb.AssignRoleRequest(),
            {"role_id", "principal.kind", "principal.id"},
        ),
        (
            admin.client.auth_admin.UpdateUser,
            admin_pb.UpdateUserRequest(user=principal_pb2.User(id="usr_x")),
            None,
        ),
    ]
    for method, request, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await method(request)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT, request
        if fields is not None:
            assert has_detail(failure.value, error_details_pb2.BadRequest)
            for field in fields:
                assert field in str(failure.value.details()), field
    with pytest.raises(grpc.aio.AioRpcError) as other_tenant:
        await admin.client.auth_admin.GetUser(admin_pb.GetUserRequest(user_id="usr_nobody"))
    assert other_tenant.value.code() == grpc.StatusCode.NOT_FOUND
    await admin.close()
