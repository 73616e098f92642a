"""Tokens of the auth service: refresh reuse, lockout, rotation, revocation, introspection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import jwt
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from test_auth_kit import Admin, error_info, start_auth

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.auth.v1 import credential_pb2, principal_pb2
from harness.centrum import StartCentrum

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def admin(start_centrum: StartCentrum) -> AsyncIterator[Admin]:
    """The bootstrap admin of a fresh server; JWKS max_age short enough for rotation tests."""
    admin = await start_auth(
        start_centrum,
        auth={"jwks_max_age_s": 0.3, "key_refresh_s": 0.1, "lockout_threshold": 3},
    )
    yield admin
    await admin.close()


async def test_refresh_reuse_revokes_the_family(admin: Admin) -> None:
    """A used refresh token presented again revokes the session and every token it issued."""
    await admin.user("grace", PASSWORD, "auth.read")
    login = await admin.login("grace", PASSWORD)
    first = await admin.client.auth.Refresh(
        auth_pb.RefreshRequest(refresh_token=login.tokens.refresh_token)
    )
    with pytest.raises(grpc.aio.AioRpcError) as reuse:
        await admin.client.auth.Refresh(
            auth_pb.RefreshRequest(refresh_token=login.tokens.refresh_token)
        )
    assert reuse.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(reuse.value).reason == "REFRESH_REUSED"
    with pytest.raises(grpc.aio.AioRpcError) as successor:
        await admin.client.auth.Refresh(
            auth_pb.RefreshRequest(refresh_token=first.tokens.refresh_token)
        )
    assert successor.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for token in (login.tokens.access_token, first.tokens.access_token):
        async with admin.connect(token=token) as client:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await client.auth.ListSessions(auth_pb.ListSessionsRequest())
            assert error_info(refused.value).reason == "TOKEN_REVOKED"
    sessions = await admin.client.auth.ListSessions(
        auth_pb.ListSessionsRequest(all_users=True, include_inactive=True)
    )
    (session,) = [s for s in sessions.sessions if s.id == login.session_id]
    assert session.revoke_reason == credential_pb2.REVOCATION_REASON_REFRESH_TOKEN_REUSE


async def test_concurrent_refreshes_of_one_token_let_one_win(admin: Admin) -> None:
    """Two refreshes racing with the same token: at most one succeeds, the family is revoked."""
    await admin.user("racer", PASSWORD, "auth.read")
    login = await admin.login("racer", PASSWORD)
    request = auth_pb.RefreshRequest(refresh_token=login.tokens.refresh_token)
    results = await asyncio.gather(
        admin.client.auth.Refresh(request),
        admin.client.auth.Refresh(request),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) <= 1
    assert any(isinstance(r, grpc.aio.AioRpcError) for r in results)


async def test_login_errors_do_not_enumerate_and_lock_out(admin: Admin) -> None:
    """Unknown user, wrong password and locked account answer alike; lockout backs off."""
    await admin.user("linus", PASSWORD, "auth.read")
    answers = []
    for username, password in (("nobody", PASSWORD), ("linus", "wrong password!!")):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await admin.login(username, password)
        answers.append(
            (failure.value.code(), failure.value.details(), error_info(failure.value).reason)
        )
    assert answers[0] == answers[1]
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError):
            await admin.login("linus", "wrong password!!")
    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await admin.login("linus", PASSWORD)
    assert (locked.value.code(), locked.value.details()) == answers[0][:2]
    users = await admin.client.auth_admin.ListUsers(admin_pb.ListUsersRequest(query="lin"))
    (user,) = users.users
    assert user.failed_login_count == 3 and user.HasField("locked_until")
    assert user.locked_until.seconds >= time.time() + 20
    await admin.client.auth_admin.UpdateUser(
        admin_pb.UpdateUserRequest(
            user=principal_pb2.User(id=user.id),
            update_mask=field_mask_pb2.FieldMask(paths=["locked_until"]),
        )
    )
    await admin.login("linus", PASSWORD)


async def test_rotation_keeps_old_tokens_valid_and_new_tokens_carry_the_new_kid(
    admin: Admin,
) -> None:
    """The next key is published before it signs; old tokens keep verifying after it activates.

    The chain's verifier refetches keys at most every 10 s, so the new key is published 10.5 s
    before it signs (production uses the JWKS max_age, 300 s by default).
    """
    old_token = admin.token
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    rotated = await admin.client.auth.RotateSigningKey(
        auth_pb.RotateSigningKeyRequest(
            reason="scheduled", activation_delay=duration_pb2.Duration(seconds=10, nanos=5 * 10**8)
        )
    )
    new_kid = rotated.signing_key.kid
    assert rotated.signing_key.state == credential_pb2.SIGNING_KEY_STATE_PENDING
    jwks = await admin.client.auth.GetJwks(auth_pb.GetJwksRequest())
    assert {old_kid, new_kid} <= {k.kid for k in jwks.keys}
    credentials = await admin.service_account("auth.read")
    deadline = time.monotonic() + 30
    while True:
        issued = await admin.token_for(
            credentials.service_account.client_id, credentials.client_secret
        )
        if jwt.get_unverified_header(issued.tokens.access_token)["kid"] == new_kid:
            break
        assert time.monotonic() < deadline, "the new key never started signing"
        await asyncio.sleep(0.2)
    for token in (old_token, issued.tokens.access_token):
        async with admin.connect(token=token) as client:
            await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    jwks = await admin.client.auth.GetJwks(auth_pb.GetJwksRequest())
    assert {old_kid, new_kid} <= {k.kid for k in jwks.keys}
    with pytest.raises(grpc.aio.AioRpcError) as too_soon:
        await admin.client.auth.RotateSigningKey(
            auth_pb.RotateSigningKeyRequest(activation_delay=duration_pb2.Duration(nanos=1000))
        )
    assert too_soon.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_compromised_key_rotation_refuses_its_tokens(admin: Admin) -> None:
    """retire_current_immediately withdraws the old key: tokens it signed stop verifying."""
    credentials = await admin.service_account("auth.read")
    victim = await admin.token_for(credentials.service_account.client_id, credentials.client_secret)
    before = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=victim.tokens.access_token)
    )
    assert before.active
    await admin.client.auth.RotateSigningKey(
        auth_pb.RotateSigningKeyRequest(retire_current_immediately=True, reason="leak")
    )
    introspected = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=victim.tokens.access_token)
    )
    assert not introspected.active
    fresh = await admin.token_for(credentials.service_account.client_id, credentials.client_secret)
    assert (
        jwt.get_unverified_header(fresh.tokens.access_token)["kid"]
        != jwt.get_unverified_header(victim.tokens.access_token)["kid"]
    )
    answer = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=fresh.tokens.access_token)
    )
    assert answer.active


async def test_revoke_token_follows_rfc_7009(admin: Admin) -> None:
    """Access and refresh tokens are revoked; unknown tokens and second revocations answer OK."""
    await admin.user("rfc", PASSWORD, "auth.read", "auth.write")
    login = await admin.login("rfc", PASSWORD)
    async with admin.connect(token=login.tokens.access_token) as client:
        await client.auth.RevokeToken(auth_pb.RevokeTokenRequest(token="garbage"))
        other = await admin.service_account("auth.read")
        other_token = await admin.token_for(other.service_account.client_id, other.client_secret)
        with pytest.raises(grpc.aio.AioRpcError) as foreign:
            await client.auth.RevokeToken(
                auth_pb.RevokeTokenRequest(token=other_token.tokens.access_token)
            )
        assert foreign.value.code() == grpc.StatusCode.PERMISSION_DENIED
        await client.auth.RevokeToken(auth_pb.RevokeTokenRequest(token=login.tokens.refresh_token))
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await client.auth.ListSessions(auth_pb.ListSessionsRequest())
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for token in (other_token.tokens.access_token, login.tokens.refresh_token) * 2:
        await admin.client.auth.RevokeToken(auth_pb.RevokeTokenRequest(token=token))
    answer = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=other_token.tokens.access_token)
    )
    assert not answer.active


async def test_introspection_answers_rfc_7662(admin: Admin) -> None:
    """Active tokens report their claims; required scopes, garbage and refresh tokens work."""
    await admin.user("intro", PASSWORD, "auth.read")
    login = await admin.login("intro", PASSWORD)
    answer = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=login.tokens.access_token)
    )
    assert answer.active and answer.username == "intro" and answer.sid == login.session_id
    assert (
        answer.token_type == "Bearer"
        and answer.iss == "centrum"
        and list(answer.aud) == ["centrum"]
    )
    assert answer.exp.seconds - answer.iat.seconds == 900
    refresh = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=login.tokens.refresh_token)
    )
    assert refresh.active and refresh.token_use == credential_pb2.TOKEN_KIND_REFRESH_TOKEN
    assert refresh.jti == login.session_id
    lacking = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(
            token=login.tokens.access_token, required_scopes=["auth.write"]
        )
    )
    assert lacking == auth_pb.IntrospectTokenResponse(active=False)
    for garbage in ("x", "a.b.c", "crt_x.y", "ck_x.y"):
        answer = await admin.client.auth.IntrospectToken(
            auth_pb.IntrospectTokenRequest(token=garbage)
        )
        assert answer == auth_pb.IntrospectTokenResponse(active=False)


async def test_revoke_session_ends_its_tokens_and_is_idempotent(admin: Admin) -> None:
    """An admin revoking a user's session refuses its access token; revoking again is a no-op."""
    await admin.user("sess", PASSWORD, "auth.read")
    login = await admin.login("sess", PASSWORD)
    first = await admin.client.auth.RevokeSession(
        auth_pb.RevokeSessionRequest(session_id=login.session_id)
    )
    assert first.session.state == credential_pb2.CREDENTIAL_STATE_REVOKED
    second = await admin.client.auth.RevokeSession(
        auth_pb.RevokeSessionRequest(session_id=login.session_id)
    )
    assert second.session.revoke_time == first.session.revoke_time
    async with admin.connect(token=login.tokens.access_token) as client:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.auth.ListSessions(auth_pb.ListSessionsRequest())
    assert error_info(refused.value).reason == "TOKEN_REVOKED"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await admin.client.auth.RevokeSession(auth_pb.RevokeSessionRequest(session_id="ses_x"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
