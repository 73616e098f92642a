"""The full lifecycle of each principal kind, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from test_auth_kit import Admin, error_info, start_auth

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.auth.v1 import credential_pb2, principal_pb2
from harness.centrum import StartCentrum

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def admin(start_centrum: StartCentrum, database: dict[str, Any]) -> Any:
    """The bootstrap admin of a fresh server on the selected database."""
    admin = await start_auth(start_centrum, **database)
    yield admin
    await admin.close()


async def _code(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    return failure.value.code()


async def test_service_account_lifecycle(admin: Admin) -> None:
    """Create, token, introspect, rotate secret (grace and none), disable, enable, delete."""
    created = await admin.service_account("auth.read", "auth.write")
    account = created.service_account
    assert account.client_id.startswith("cl_") and created.client_secret.startswith("cs_")
    issued = await admin.token_for(account.client_id, created.client_secret)
    assert issued.tokens.token_type == "Bearer" and not issued.tokens.refresh_token
    assert issued.tokens.scope == "auth.read auth.write"
    token = issued.tokens.access_token
    async with admin.connect(token=token) as client:
        await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
        assert (
            await _code(client.auth_admin.ListUsers(admin_pb.ListUsersRequest()))
            == grpc.StatusCode.PERMISSION_DENIED
        )

    fetched = await admin.client.auth_admin.GetServiceAccount(
        admin_pb.GetServiceAccountRequest(client_id=account.client_id)
    )
    assert fetched.service_account.scopes == ["auth.read", "auth.write"]
    assert fetched.service_account.HasField("last_token_time")
    listed = await admin.client.auth_admin.ListServiceAccounts(
        admin_pb.ListServiceAccountsRequest(query=account.display_name[:6])
    )
    assert [a.id for a in listed.service_accounts] == [account.id]

    narrowed = await admin.token_for(account.client_id, created.client_secret, ["auth.read"])
    assert narrowed.tokens.scope == "auth.read"
    assert (
        await _code(admin.token_for(account.client_id, created.client_secret, ["auth.admin"]))
        == grpc.StatusCode.INVALID_ARGUMENT
    )

    rotated = await admin.client.auth_admin.RotateServiceAccountSecret(
        admin_pb.RotateServiceAccountSecretRequest(
            service_account_id=account.id,
            previous_secret_grace_period=duration_pb2.Duration(seconds=600),
        )
    )
    await admin.token_for(account.client_id, created.client_secret)
    await admin.token_for(account.client_id, rotated.client_secret)
    leaked = await admin.client.auth_admin.RotateServiceAccountSecret(
        admin_pb.RotateServiceAccountSecretRequest(service_account_id=account.id)
    )
    for stale in (created.client_secret, rotated.client_secret):
        assert await _code(admin.token_for(account.client_id, stale)) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
    await admin.token_for(account.client_id, leaked.client_secret)

    disabled = await admin.client.auth_admin.UpdateServiceAccount(
        admin_pb.UpdateServiceAccountRequest(
            service_account=principal_pb2.ServiceAccount(id=account.id, disabled=True),
            update_mask=field_mask_pb2.FieldMask(paths=["disabled"]),
        )
    )
    assert disabled.service_account.disabled
    async with admin.connect(token=token) as client:
        assert await _code(client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
    assert await _code(admin.token_for(account.client_id, leaked.client_secret)) == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    await admin.client.auth_admin.UpdateServiceAccount(
        admin_pb.UpdateServiceAccountRequest(
            service_account=principal_pb2.ServiceAccount(id=account.id, disabled=False),
            update_mask=field_mask_pb2.FieldMask(paths=["disabled"]),
        )
    )
    fresh = await admin.token_for(account.client_id, leaked.client_secret)

    await admin.client.auth_admin.DeleteServiceAccount(
        admin_pb.DeleteServiceAccountRequest(service_account_id=account.id)
    )
    introspected = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=fresh.tokens.access_token)
    )
    assert not introspected.active
    assert (
        await _code(
            admin.client.auth_admin.GetServiceAccount(
                admin_pb.GetServiceAccountRequest(service_account_id=account.id)
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    await admin.client.auth_admin.DeleteServiceAccount(
        admin_pb.DeleteServiceAccountRequest(service_account_id=account.id, allow_missing=True)
    )


async def test_user_lifecycle(admin: Admin) -> None:
    """Create (policy, duplicates), login, sessions, refresh, password change, disable, delete."""
    with pytest.raises(grpc.aio.AioRpcError) as weak:
        await admin.user("ada", "short")
    assert weak.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as contains_name:
        await admin.user("ada", "my name is ada, ok?")
    assert contains_name.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    created = await admin.user("ada", PASSWORD, "auth.read", "auth.write")
    user = created.user
    assert user.password_set and user.scopes == ["auth.read", "auth.write"]
    assert await _code(admin.user("ADA", PASSWORD)) == grpc.StatusCode.ALREADY_EXISTS

    login = await admin.login("ada", PASSWORD)
    assert login.user.id == user.id and login.tokens.refresh_token.startswith("crt_")
    async with admin.connect(token=login.tokens.access_token) as client:
        sessions = await client.auth.ListSessions(auth_pb.ListSessionsRequest())
        assert [s.id for s in sessions.sessions] == [login.session_id]
        assert sessions.sessions[0].current

    refreshed = await admin.client.auth.Refresh(
        auth_pb.RefreshRequest(refresh_token=login.tokens.refresh_token)
    )
    assert refreshed.session_id == login.session_id
    assert refreshed.tokens.refresh_token != login.tokens.refresh_token

    async with admin.connect(token=refreshed.tokens.access_token) as client:
        logout = await client.auth.Logout(auth_pb.LogoutRequest())
        assert list(logout.revoked_session_ids) == [login.session_id]
        assert await _code(client.auth.ListSessions(auth_pb.ListSessionsRequest())) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
    assert (
        await _code(
            admin.client.auth.Refresh(
                auth_pb.RefreshRequest(refresh_token=refreshed.tokens.refresh_token)
            )
        )
        == grpc.StatusCode.UNAUTHENTICATED
    )

    second = await admin.login("ada", PASSWORD)
    await admin.client.auth_admin.SetUserPassword(
        admin_pb.SetUserPasswordRequest(user_id=user.id, password=PASSWORD + " again")
    )
    async with admin.connect(token=second.tokens.access_token) as client:
        assert await _code(client.auth.ListSessions(auth_pb.ListSessionsRequest())) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
    assert await _code(admin.login("ada", PASSWORD)) == grpc.StatusCode.UNAUTHENTICATED
    third = await admin.login("ada", PASSWORD + " again")

    updated = await admin.client.auth_admin.UpdateUser(
        admin_pb.UpdateUserRequest(
            user=principal_pb2.User(id=user.id, disabled=True, display_name="Ada L."),
            update_mask=field_mask_pb2.FieldMask(paths=["disabled", "display_name"]),
        )
    )
    assert updated.user.disabled and updated.user.display_name == "Ada L."
    assert await _code(admin.login("ada", PASSWORD + " again")) == (grpc.StatusCode.UNAUTHENTICATED)
    introspected = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=third.tokens.access_token)
    )
    assert not introspected.active
    stale = await _code(
        admin.client.auth_admin.UpdateUser(
            admin_pb.UpdateUserRequest(
                user=principal_pb2.User(id=user.id, display_name="x", etag=user.etag),
                update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
            )
        )
    )
    assert stale == grpc.StatusCode.ABORTED

    listed = await admin.client.auth_admin.ListUsers(
        admin_pb.ListUsersRequest(include_disabled=True, page_size=1)
    )
    assert [u.username for u in listed.users] == ["ada"]
    await admin.client.auth_admin.DeleteUser(admin_pb.DeleteUserRequest(user_id=user.id))
    assert (
        await _code(admin.client.auth_admin.GetUser(admin_pb.GetUserRequest(user_id=user.id)))
        == grpc.StatusCode.NOT_FOUND
    )


async def test_api_key_lifecycle(admin: Admin) -> None:
    """Create (secret once, visible prefix), use, list, narrow, introspect, revoke twice."""
    owner = await admin.service_account("auth.read", "auth.write")
    created = await admin.client.auth.CreateApiKey(
        auth_pb.CreateApiKeyRequest(
            owner=principal_pb2.PrincipalRef(
                kind=principal_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT,
                id=owner.service_account.id,
            ),
            name="ci-deploy",
            scopes=["auth.read"],
            ttl=duration_pb2.Duration(seconds=3600),
        )
    )
    key = created.api_key
    assert created.secret.startswith(key.prefix + ".") and key.prefix.startswith("ck_")
    async with admin.connect(api_key=created.secret) as client:
        mine = await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
        assert [k.id for k in mine.api_keys] == [key.id]
        assert created.secret.split(".", 1)[1] not in str(mine)
        assert (
            await _code(
                client.auth.CreateApiKey(
                    auth_pb.CreateApiKeyRequest(name="x", scopes=["auth.read"])
                )
            )
            == grpc.StatusCode.PERMISSION_DENIED
        )

    introspected = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=created.secret)
    )
    assert introspected.active and introspected.jti == key.id
    assert introspected.client_id == owner.service_account.client_id
    assert introspected.token_use == credential_pb2.TOKEN_KIND_API_KEY

    everything = await admin.client.auth.ListApiKeys(auth_pb.ListApiKeysRequest(all_owners=True))
    assert key.id in [k.id for k in everything.api_keys]
    revoked = await admin.client.auth.RevokeApiKey(auth_pb.RevokeApiKeyRequest(api_key_id=key.id))
    assert revoked.api_key.state == credential_pb2.CREDENTIAL_STATE_REVOKED
    again = await admin.client.auth.RevokeApiKey(auth_pb.RevokeApiKeyRequest(api_key_id=key.id))
    assert again.api_key.revoke_time == revoked.api_key.revoke_time
    async with admin.connect(api_key=created.secret) as client:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(failure.value).reason in {"API_KEY_REVOKED", "API_KEY_INVALID"}
    active = await admin.client.auth.ListApiKeys(
        auth_pb.ListApiKeysRequest(all_owners=True, prefix=key.prefix)
    )
    assert not active.api_keys


async def test_role_lifecycle(admin: Admin) -> None:
    """Create, duplicate, assign (idempotent), update scopes, refuse deleting while assigned."""
    role = (
        await admin.client.auth_admin.CreateRole(
            admin_pb.CreateRoleRequest(
                role=principal_pb2.Role(name="config-editor", scopes=["config.read"])
            )
        )
    ).role
    assert (
        await _code(
            admin.client.auth_admin.CreateRole(
                admin_pb.CreateRoleRequest(
                    role=principal_pb2.Role(name="config-editor", scopes=["config.read"])
                )
            )
        )
        == grpc.StatusCode.ALREADY_EXISTS
    )
    account = (await admin.service_account()).service_account
    ref = principal_pb2.PrincipalRef(
        kind=principal_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT, id=account.id
    )
    for _ in range(2):
        assigned = await admin.client.auth_admin.AssignRole(
            admin_pb.AssignRoleRequest(role_id=role.id, principal=ref)
        )
        assert list(assigned.role_ids) == [role.id] and list(assigned.scopes) == ["config.read"]
    updated = await admin.client.auth_admin.UpdateRole(
        admin_pb.UpdateRoleRequest(
            role=principal_pb2.Role(id=role.id, scopes=["config.read", "config.write"]),
            update_mask=field_mask_pb2.FieldMask(paths=["scopes"]),
        )
    )
    assert list(updated.role.scopes) == ["config.read", "config.write"]
    assert (
        await _code(admin.client.auth_admin.DeleteRole(admin_pb.DeleteRoleRequest(role_id=role.id)))
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    builtin = await admin.client.auth_admin.GetRole(admin_pb.GetRoleRequest(name="admin"))
    assert builtin.role.builtin
    assert (
        await _code(
            admin.client.auth_admin.DeleteRole(
                admin_pb.DeleteRoleRequest(role_id=builtin.role.id, force=True)
            )
        )
        == grpc.StatusCode.FAILED_PRECONDITION
    )
    unassigned = await admin.client.auth_admin.UnassignRole(
        admin_pb.UnassignRoleRequest(role_id=role.id, principal=ref)
    )
    assert not unassigned.role_ids
    await admin.client.auth_admin.DeleteRole(admin_pb.DeleteRoleRequest(role_id=role.id))
    listed = await admin.client.auth_admin.ListRoles(admin_pb.ListRolesRequest())
    assert role.id not in [r.id for r in listed.roles]
