"""Inputs found by fuzzing the auth RPCs that once answered INTERNAL.

Each is a caller's mistake, and must fail as INVALID_ARGUMENT naming the field in a BadRequest,
before the handler runs (so nothing is created or changed). Some only broke on PostgreSQL (NUL
characters, values wider than a column), so those tests run on both databases. A secret holding
a NUL is the exception: it is answered like any wrong secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor, duration_pb2, field_mask_pb2, message_factory
from google.rpc import error_details_pb2
from test_auth_kit import Admin, error_info, running_admin

from centrum.auth.v1 import auth_admin_service_pb2, auth_service_pb2, principal_pb2
from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.interceptors.redaction import sensitivity_of
from centrum.interceptors.validation import _generic_violations
from centrum.policy.v1 import policy_pb2
from harness.centrum import StartCentrum
from harness.echo_client import detail

Duration = duration_pb2.Duration
_CENTURY_AND_MORE = Duration(seconds=101 * 365 * 86400)
_PROTOBUF_MAX = Duration(seconds=315_576_000_000)  # the largest Duration protobuf allows


@pytest.fixture
async def admin(start_centrum: StartCentrum) -> AsyncIterator[Admin]:
    """The bootstrap admin of a fresh server on SQLite (the fuzzer's database)."""
    async with running_admin(start_centrum) as admin:
        yield admin


@pytest.fixture
async def admin_on(start_centrum: StartCentrum, database: dict[str, Any]) -> AsyncIterator[Admin]:
    """The bootstrap admin of a fresh server on the selected database."""
    async with running_admin(start_centrum, **database) as admin:
        yield admin


async def _violations(call: Awaitable[Any]) -> list[str]:
    """The fields a call's INVALID_ARGUMENT names (fails the test on any other outcome)."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    error = failure.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    bad_request = detail(error, error_details_pb2.BadRequest)
    return [v.field for v in bad_request.field_violations]


async def _account_ids(admin: Admin) -> set[str]:
    listed = await admin.client.auth_admin.ListServiceAccounts(
        admin_pb.ListServiceAccountsRequest(page_size=1000, include_disabled=True)
    )
    return {account.id for account in listed.service_accounts}


def _update(account_id: str, path: str, **fields: Any) -> admin_pb.UpdateServiceAccountRequest:
    return admin_pb.UpdateServiceAccountRequest(
        service_account=principal_pb2.ServiceAccount(id=account_id, **fields),
        update_mask=field_mask_pb2.FieldMask(paths=[path]),
    )


async def test_the_fuzzed_create_service_account_is_invalid_argument(admin: Admin) -> None:
    """The flake: a secret_ttl of seconds=349, nanos=-867 was accepted, the account created,
    and the audit step then failed to write the request (INTERNAL)."""
    before = await _account_ids(admin)
    request = admin_pb.CreateServiceAccountRequest(
        service_account=principal_pb2.ServiceAccount(display_name=" "),
        secret_ttl=Duration(seconds=349, nanos=-867),
    )
    assert await _violations(admin.client.auth_admin.CreateServiceAccount(request)) == [
        "secret_ttl"
    ]
    assert await _account_ids(admin) == before, "a refused request created an account"


async def test_durations_of_mixed_signs_are_invalid_argument(admin: Admin) -> None:
    """Every Duration field of the auth RPCs refuses seconds and nanos of opposite signs."""
    account = (await admin.service_account()).service_account
    admin_rpc, auth_rpc = admin.client.auth_admin, admin.client.auth
    cases: list[tuple[Callable[[Any], Awaitable[Any]], Any, str]] = [
        (
            admin_rpc.CreateServiceAccount,
            admin_pb.CreateServiceAccountRequest(
                service_account=principal_pb2.ServiceAccount(
                    display_name="x", access_token_ttl=Duration(seconds=5, nanos=-1)
                )
            ),
            "service_account.access_token_ttl",
        ),
        (
            admin_rpc.CreateServiceAccount,
            admin_pb.CreateServiceAccountRequest(
                service_account=principal_pb2.ServiceAccount(display_name="x"),
                secret_ttl=Duration(seconds=-5, nanos=1),
            ),
            "secret_ttl",
        ),
        (
            admin_rpc.UpdateServiceAccount,
            _update(
                account.id, "access_token_ttl", access_token_ttl=Duration(seconds=60, nanos=-1)
            ),
            "service_account.access_token_ttl",
        ),
        (
            admin_rpc.RotateServiceAccountSecret,
            admin_pb.RotateServiceAccountSecretRequest(
                service_account_id=account.id, secret_ttl=Duration(seconds=60, nanos=-1)
            ),
            "secret_ttl",
        ),
        (
            admin_rpc.RotateServiceAccountSecret,
            admin_pb.RotateServiceAccountSecretRequest(
                service_account_id=account.id,
                previous_secret_grace_period=Duration(seconds=60, nanos=-1),
            ),
            "previous_secret_grace_period",
        ),
        (
            auth_rpc.CreateApiKey,
            auth_pb.CreateApiKeyRequest(
                name="k", scopes=["auth.read"], ttl=Duration(seconds=60, nanos=-1)
            ),
            "ttl",
        ),
    ]
    for method, request, field in cases:
        assert await _violations(method(request)) == [field], request
    unchanged = await admin_rpc.GetServiceAccount(
        admin_pb.GetServiceAccountRequest(service_account_id=account.id)
    )
    assert unchanged.service_account.etag == account.etag


async def test_lifetimes_must_end_at_a_representable_time(admin: Admin) -> None:
    """A secret or key lifetime beyond 100 years (its end could pass year 9999, which no
    Timestamp holds) is refused, as is a negative one; nothing is stored."""
    before = await _account_ids(admin)
    account = (await admin.service_account()).service_account
    admin_rpc = admin.client.auth_admin
    for ttl in (_PROTOBUF_MAX, _CENTURY_AND_MORE):
        create = admin_pb.CreateServiceAccountRequest(
            service_account=principal_pb2.ServiceAccount(display_name="far"), secret_ttl=ttl
        )
        assert await _violations(admin_rpc.CreateServiceAccount(create)) == ["secret_ttl"]
        rotate = admin_pb.RotateServiceAccountSecretRequest(
            service_account_id=account.id, secret_ttl=ttl
        )
        assert await _violations(admin_rpc.RotateServiceAccountSecret(rotate)) == ["secret_ttl"]
        key = auth_pb.CreateApiKeyRequest(name="far", scopes=["auth.read"], ttl=ttl)
        assert await _violations(admin.client.auth.CreateApiKey(key)) == ["ttl"]
    # A negative secret_ttl used to mean "never expires" on rotation.
    negative = admin_pb.RotateServiceAccountSecretRequest(
        service_account_id=account.id, secret_ttl=Duration(seconds=-60)
    )
    assert await _violations(admin_rpc.RotateServiceAccountSecret(negative)) == ["secret_ttl"]
    assert await _account_ids(admin) == before | {account.id}


async def test_nul_characters_are_invalid_argument(admin_on: Admin) -> None:
    """PostgreSQL text holds no NUL: every auth RPC refuses one in any string but a SECRET one,
    by field."""
    admin = admin_on
    account = (await admin.service_account()).service_account
    user = (await admin.user("nul-test", "correct horse battery staple")).user
    role_id = await admin.role("auth.read")
    admin_rpc, auth_rpc = admin.client.auth_admin, admin.client.auth
    sa = principal_pb2.ServiceAccount
    cases: list[tuple[Callable[[Any], Awaitable[Any]], Any, str]] = [
        (
            admin_rpc.CreateServiceAccount,
            admin_pb.CreateServiceAccountRequest(service_account=sa(display_name="a\x00")),
            "service_account.display_name",
        ),
        (
            admin_rpc.CreateServiceAccount,
            admin_pb.CreateServiceAccountRequest(
                service_account=sa(display_name="a", description="\x00")
            ),
            "service_account.description",
        ),
        (
            admin_rpc.CreateServiceAccount,
            admin_pb.CreateServiceAccountRequest(
                service_account=sa(display_name="a"), role_ids=["\x00"]
            ),
            "role_ids",
        ),
        (
            admin_rpc.GetServiceAccount,
            admin_pb.GetServiceAccountRequest(service_account_id="\x00"),
            "service_account_id",
        ),
        (
            admin_rpc.ListServiceAccounts,
            admin_pb.ListServiceAccountsRequest(query="\x00"),
            "query",
        ),
        (
            admin_rpc.UpdateServiceAccount,
            _update(account.id, "description", description="\x00"),
            "service_account.description",
        ),
        (
            admin_rpc.DeleteServiceAccount,
            admin_pb.DeleteServiceAccountRequest(service_account_id="\x00", allow_missing=True),
            "service_account_id",
        ),
        (
            admin_rpc.CreateUser,
            admin_pb.CreateUserRequest(user=principal_pb2.User(username="u", display_name="\x00")),
            "user.display_name",
        ),
        (
            admin_rpc.UpdateUser,
            admin_pb.UpdateUserRequest(
                user=principal_pb2.User(id=user.id, labels={"k": "\x00"}),
                update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
            ),
            "user.labels",
        ),
        (
            admin_rpc.DeleteUser,
            admin_pb.DeleteUserRequest(user_id="\x00", allow_missing=True),
            "user_id",
        ),
        (
            admin_rpc.UpdateRole,
            admin_pb.UpdateRoleRequest(
                role=principal_pb2.Role(id=role_id, description="\x00"),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            ),
            "role.description",
        ),
        (admin_rpc.GetRole, admin_pb.GetRoleRequest(name="\x00"), "name"),
        (
            admin_rpc.AssignRole,
            admin_pb.AssignRoleRequest(
                role_id=role_id,
                principal=principal_pb2.PrincipalRef(
                    kind=principal_pb2.PRINCIPAL_KIND_USER, id="\x00"
                ),
            ),
            "principal.id",
        ),
        (
            auth_rpc.Token,
            auth_pb.TokenRequest(client_id="\x00", client_secret="x"),
            "client_id",
        ),
        (auth_rpc.RevokeSession, auth_pb.RevokeSessionRequest(session_id="\x00"), "session_id"),
    ]
    for method, request, field in cases:
        assert await _violations(method(request)) == [field], request
    # Introspection and revocation answer any invalid token as inactive / OK (RFC 7662, 7009).
    for token in ("\x00", "crt_\x00.x", "ck_\x00.x", "ck_a.\x00"):
        found = await auth_rpc.IntrospectToken(auth_pb.IntrospectTokenRequest(token=token))
        assert not found.active
        await auth_rpc.RevokeToken(auth_pb.RevokeTokenRequest(token=token))


async def test_values_wider_than_their_column_are_invalid_argument(admin_on: Admin) -> None:
    """An update's display name and a SPIFFE identity are checked against the column width."""
    admin = admin_on
    account = (await admin.service_account()).service_account
    admin_rpc = admin.client.auth_admin
    long_name = _update(account.id, "display_name", display_name="n" * 256)
    assert await _violations(admin_rpc.UpdateServiceAccount(long_name)) == [
        "service_account.display_name"
    ]
    empty_name = _update(account.id, "display_name", display_name="")
    assert await _violations(admin_rpc.UpdateServiceAccount(empty_name)) == [
        "service_account.display_name"
    ]
    negative_ttl = _update(account.id, "access_token_ttl", access_token_ttl=Duration(seconds=-1))
    assert await _violations(admin_rpc.UpdateServiceAccount(negative_ttl)) == [
        "service_account.access_token_ttl"
    ]
    spiffe = "spiffe://example.org/" + "p" * 600
    create = admin_pb.CreateServiceAccountRequest(
        service_account=principal_pb2.ServiceAccount(
            display_name="wide", certificate_identities=[spiffe]
        )
    )
    assert await _violations(admin_rpc.CreateServiceAccount(create)) == [
        "service_account.certificate_identities[0]"
    ]


def test_the_nul_rule_reaches_every_auth_rpc() -> None:
    """The chain's generic rule refuses NUL, auth validators or not: each string field of every
    auth request is named, except the SECRET ones, which reach the service."""
    secret_fields: set[str] = set()
    for module, name in (
        (auth_service_pb2, "AuthService"),
        (auth_admin_service_pb2, "AuthAdminService"),
    ):
        for method in module.DESCRIPTOR.services_by_name[name].methods:
            request_type = message_factory.GetMessageClass(method.input_type)
            for field in method.input_type.fields:
                if field.type != descriptor.FieldDescriptor.TYPE_STRING:
                    continue
                request = request_type()
                if field.is_repeated:
                    getattr(request, field.name).append("\x00")
                else:
                    setattr(request, field.name, "\x00")
                secret = sensitivity_of(field) == policy_pb2.SENSITIVITY_SECRET
                if secret:
                    secret_fields.add(f"{method.name}.{field.name}")
                expected = [] if secret else [field.name]
                assert [v.field for v in _generic_violations(request)] == expected, request
    assert {"Login.password", "Token.client_secret", "IntrospectToken.token"} <= secret_fields


async def _refusal(call: Awaitable[Any]) -> tuple[grpc.StatusCode, str, str]:
    """The code, message and ErrorInfo reason a call failed with."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    return failure.value.code(), failure.value.details() or "", error_info(failure.value).reason


async def test_secrets_holding_nul_are_wrong_credentials(admin_on: Admin) -> None:
    """A NUL in a password, client secret or refresh token is no caller mistake to point out:
    it reaches the service (secrets are stored only hashed) and is answered exactly like a wrong
    secret, for a known or unknown user or client, on PostgreSQL too (no lookup by it)."""
    admin = admin_on
    auth = admin.client.auth
    password = "correct horse battery staple"
    await admin.user("nul-secret", password)
    created = await admin.service_account()
    client_id, client_secret = created.service_account.client_id, created.client_secret

    wrong_login = await _refusal(admin.login("nul-secret", password + "!"))
    assert wrong_login[0] == grpc.StatusCode.UNAUTHENTICATED
    for username in ("nul-secret", "nobody"):
        assert await _refusal(admin.login(username, password + "\x00")) == wrong_login
    wrong_client = await _refusal(admin.token_for(client_id, client_secret + "!"))
    assert wrong_client[0] == grpc.StatusCode.UNAUTHENTICATED
    for unknown_or_known in (client_id, "cl_unknown"):
        assert await _refusal(admin.token_for(unknown_or_known, "\x00")) == wrong_client
        assert await _refusal(admin.token_for(unknown_or_known, client_secret + "\x00")) == (
            wrong_client
        )
    wrong_refresh = await _refusal(auth.Refresh(auth_pb.RefreshRequest(refresh_token="crt_a.b")))
    assert wrong_refresh[0] == grpc.StatusCode.UNAUTHENTICATED
    for token in ("\x00", "crt_\x00.b", "crt_a.\x00"):
        refresh = auth.Refresh(auth_pb.RefreshRequest(refresh_token=token))
        assert await _refusal(refresh) == wrong_refresh
    # The failures locked nothing that a right secret cannot open, and a password holding a NUL
    # is stored (hashed) like any other.
    await admin.login("nul-secret", password)
    await admin.token_for(client_id, client_secret)
    await admin.user("nul-password", password + "\x00")
    assert (await admin.login("nul-password", password + "\x00")).session_id
