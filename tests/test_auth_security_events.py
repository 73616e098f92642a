"""Security events the auth service audits itself: account lockout and refresh token reuse."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import json_format
from test_auth_kit import Admin, running_admin

from centrum.audit.v1 import audit_pb2
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from harness.centrum import StartCentrum

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def admin(start_centrum: StartCentrum) -> AsyncIterator[Admin]:
    """The bootstrap admin of a fresh server that locks accounts after two failures."""
    async with running_admin(start_centrum, auth={"lockout_threshold": 2}) as admin:
        yield admin


async def _security_events(admin: Admin, action: str) -> list[audit_pb2.AuditEvent]:
    await admin.app.audit_pipeline.drain()
    events = await admin.app.audit_log.events(0, limit=10_000)
    return [e for e in events if e.category == "security" and e.action == action]


async def test_lockout_is_audited_as_an_alert(admin: Admin) -> None:
    """The failed login that locks an account records one ALERT event naming the user, the
    failure count and the lock duration, and never the password; failures below the threshold
    record none."""
    created = await admin.user("mallory", PASSWORD, "auth.read")
    with pytest.raises(grpc.aio.AioRpcError):
        await admin.login("mallory", "wrong password #1")
    assert await _security_events(admin, "auth.account_locked") == []
    with pytest.raises(grpc.aio.AioRpcError):
        await admin.login("mallory", "wrong password #2")
    (event,) = await _security_events(admin, "auth.account_locked")
    assert event.severity == audit_pb2.AUDIT_SEVERITY_ALERT
    assert event.outcome == audit_pb2.AUDIT_OUTCOME_DENIED
    assert (event.resource.type, event.resource.id) == ("user", created.user.id)
    assert event.actor.tenant == admin.tenant
    assert event.correlation.request_id
    details = json_format.MessageToDict(event.details)
    assert details["failed_logins"] == 2 and details["locked_for_s"] > 0
    assert "wrong password" not in event.SerializeToString().decode("utf-8", "replace")


async def test_refresh_token_reuse_is_audited_as_critical(admin: Admin) -> None:
    """Presenting a used refresh token records one CRITICAL event naming the revoked session."""
    created = await admin.user("trudy", PASSWORD, "auth.read")
    login = await admin.login("trudy", PASSWORD)
    request = auth_pb.RefreshRequest(refresh_token=login.tokens.refresh_token)
    await admin.client.auth.Refresh(request)
    assert await _security_events(admin, "auth.refresh_token_reused") == []
    with pytest.raises(grpc.aio.AioRpcError):
        await admin.client.auth.Refresh(request)
    (event,) = await _security_events(admin, "auth.refresh_token_reused")
    assert event.severity == audit_pb2.AUDIT_SEVERITY_CRITICAL
    assert (event.resource.type, event.resource.id) == ("session", login.session_id)
    assert json_format.MessageToDict(event.details)["user_id"] == created.user.id
    assert login.tokens.refresh_token not in event.SerializeToString().decode("utf-8", "replace")
