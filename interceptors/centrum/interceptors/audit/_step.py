"""The audit step: one audit event per call whose policy asks for it.

The event names the actor, tenant, method, resource, outcome, latency, peer, request id and trace
id; at AUDIT_LEVEL_FULL it also holds the request with every PII or SECRET field redacted. It goes
to the `AuditPipeline`, which returns once the event is durable, so a call that returns OK never
loses its event.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import grpc
import structlog
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from centrum.audit.v1 import audit_pb2
from centrum.interceptors.chain import Call
from centrum.interceptors.context import CredentialKind
from centrum.interceptors.errors import Unavailable
from centrum.interceptors.policy import AuditLevel
from centrum.interceptors.redaction import redact
from centrum.interceptors.request_context import time_ordered_id
from centrum.interceptors.step import Step

__all__ = ["AuditRecorder", "AuditStep", "build_event"]

_log = structlog.get_logger("centrum.audit")

_DENIED = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
_SERVER_FAULTS = frozenset(
    {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS}
)
_KINDS = {
    CredentialKind.JWT: audit_pb2.PRINCIPAL_KIND_USER,
    CredentialKind.API_KEY: audit_pb2.PRINCIPAL_KIND_API_KEY,
    CredentialKind.MTLS: audit_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT,
}


class AuditRecorder(Protocol):
    """Takes serialized events; returns once each is durable."""

    async def record(self, event: bytes) -> None:
        """Makes one serialized AuditEvent durable."""
        ...


class AuditStep(Step):
    """Produces the audit event of each audited call."""

    def __init__(self, recorder: AuditRecorder) -> None:
        self._recorder = recorder

    async def after(self, call: Call) -> None:
        """Records the call's event; a call whose event cannot be kept does not succeed."""
        event = build_event(call)
        try:
            await self._recorder.record(event.SerializeToString())
        except Exception as exc:
            _log.error("audit event not recorded", method=call.policy.method, error=repr(exc))
            if call.ok:
                raise Unavailable(
                    "the audit log cannot take the event of this call; retry later",
                    reason="AUDIT_UNAVAILABLE",
                    retry_after_s=1.0,
                ) from exc


def build_event(call: Call) -> audit_pb2.AuditEvent:
    """Builds the audit event of a finished call."""
    policy = call.policy
    service, _, method = policy.method[1:].partition("/")
    now = time.time_ns()
    event = audit_pb2.AuditEvent(
        event_id=time_ordered_id(),
        category=service,
        action=method,
        outcome=_outcome(call.code),
        severity=audit_pb2.AUDIT_SEVERITY_INFO if call.ok else audit_pb2.AUDIT_SEVERITY_NOTICE,
        event_time=timestamp_pb2.Timestamp(seconds=now // 1_000_000_000, nanos=now % 1_000_000_000),
        rpc=audit_pb2.RpcCall(
            method=policy.method,
            status_code=call.code.value[0],
            duration=duration_pb2.Duration(nanos=0, seconds=0),
            error_reason=getattr(call.error, "reason", None) or "",
        ),
    )
    event.rpc.duration.FromNanoseconds(int(call.duration_s * 1e9))
    principal = call.principal
    event.actor.peer_address = call.peer
    event.actor.user_agent = call.metadata.get("user-agent", "")
    if principal is not None:
        event.actor.principal_id = principal.subject
        event.actor.principal_kind = _KINDS.get(
            principal.kind, audit_pb2.PRINCIPAL_KIND_UNSPECIFIED
        )
        event.actor.tenant = principal.tenant
        event.actor.credential_id = principal.credential_id
        event.authorization.scopes.extend(policy.scopes)
    else:
        event.actor.principal_kind = audit_pb2.PRINCIPAL_KIND_ANONYMOUS
    event.correlation.request_id = call.request_id
    event.correlation.trace_id = call.trace_id
    if call.request is not None:
        event.resource.type = policy.resource_type
        event.resource.id = "/".join(
            str(v) for v in (_field(call.request, path) for path in policy.resource_id_fields) if v
        )
        if policy.audit_level == AuditLevel.AUDIT_LEVEL_FULL:
            details = struct_pb2.Struct()
            details.update({"request": redact(call.request)})
            event.details.CopyFrom(details)
    return event


def _outcome(code: grpc.StatusCode) -> audit_pb2.AuditOutcome:
    if code is grpc.StatusCode.OK:
        return audit_pb2.AUDIT_OUTCOME_SUCCESS
    if code in _DENIED:
        return audit_pb2.AUDIT_OUTCOME_DENIED
    if code in _SERVER_FAULTS:
        return audit_pb2.AUDIT_OUTCOME_ERROR
    return audit_pb2.AUDIT_OUTCOME_FAILURE


def _field(message: Any, path: str) -> Any:
    """Reads a dotted field path (`header.key`) of a message; empty when unset."""
    value = message
    for name in path.split("."):
        if not hasattr(value, name):
            return ""
        value = getattr(value, name)
    return value
