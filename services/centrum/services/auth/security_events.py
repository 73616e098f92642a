"""Security events the auth service audits itself, beyond the chain's one event per call.

The chain records that a Login or Refresh call failed; these events record what the failure
*meant*: an account locked after repeated failed logins (ALERT), and a used refresh token
presented again, which revoked its whole session (CRITICAL: the token was probably stolen).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from google.protobuf import struct_pb2

from centrum.audit.v1 import audit_pb2
from centrum.interceptors.audit import AuditRecorder
from centrum.interceptors.context import current_request
from centrum.interceptors.request_context import time_ordered_id

__all__ = ["ACCOUNT_LOCKED", "REFRESH_TOKEN_REUSED", "SecurityEvents"]

ACCOUNT_LOCKED = "auth.account_locked"
REFRESH_TOKEN_REUSED = "auth.refresh_token_reused"  # noqa: S105 - an action name


class SecurityEvents:
    """Writes the auth service's security events to the audit log (durably, like the chain)."""

    def __init__(
        self, recorder: AuditRecorder | None, clock: Callable[[], float] = time.time
    ) -> None:
        self._recorder = recorder
        self._clock = clock

    async def account_locked(
        self, tenant: str, user_id: str, *, failed_logins: int, locked_for_s: float
    ) -> None:
        """A user's account locked after `failed_logins` failures, for `locked_for_s` seconds."""
        await self._record(
            ACCOUNT_LOCKED,
            audit_pb2.AUDIT_SEVERITY_ALERT,
            tenant,
            ("user", user_id),
            {"failed_logins": failed_logins, "locked_for_s": locked_for_s},
        )

    async def refresh_token_reused(self, tenant: str, user_id: str, session_id: str) -> None:
        """A used refresh token came back; its session and every token of it are revoked."""
        await self._record(
            REFRESH_TOKEN_REUSED,
            audit_pb2.AUDIT_SEVERITY_CRITICAL,
            tenant,
            ("session", session_id),
            {"user_id": user_id, "session_revoked": True},
        )

    async def _record(
        self,
        action: str,
        severity: audit_pb2.AuditSeverity,
        tenant: str,
        resource: tuple[str, str],
        details: dict[str, Any],
    ) -> None:
        if self._recorder is None:
            return
        request = current_request()
        payload = struct_pb2.Struct()
        payload.update(details)
        event = audit_pb2.AuditEvent(
            event_id=time_ordered_id(),
            category="security",
            action=action,
            outcome=audit_pb2.AUDIT_OUTCOME_DENIED,
            severity=severity,
            actor=audit_pb2.Actor(
                principal_kind=audit_pb2.PRINCIPAL_KIND_ANONYMOUS,
                tenant=tenant,
                peer_address=request.peer if request else "",
            ),
            resource=audit_pb2.Resource(type=resource[0], id=resource[1]),
            correlation=audit_pb2.Correlation(
                request_id=request.request_id if request else "",
                trace_id=request.trace_id if request else "",
            ),
            details=payload,
        )
        event.event_time.FromNanoseconds(int(self._clock() * 1e9))
        await self._recorder.record(event.SerializeToString())
