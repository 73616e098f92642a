"""Query filters as SQL conditions, and AIP-158 page tokens that pin the tree size."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa

from centrum.audit.v1 import audit_pb2
from centrum.services.audit.tables import audit_entries

__all__ = ["PageToken", "filter_condition", "filter_fingerprint"]

_EQUALS = {
    "actor_principal_id": audit_entries.c.actor_id,
    "resource_type": audit_entries.c.resource_type,
    "resource_id": audit_entries.c.resource_id,
    "action": audit_entries.c.action,
    "request_id": audit_entries.c.request_id,
    "trace_id": audit_entries.c.trace_id,
    "correlation_id": audit_entries.c.correlation_id,
    "transaction_id": audit_entries.c.transaction_id,
}


def filter_condition(tenant: str, flt: audit_pb2.AuditFilter) -> sa.ColumnElement[bool]:
    """The SQL condition selecting the tenant's entries that match `flt`."""
    parts: list[sa.ColumnElement[bool]] = [audit_entries.c.tenant == tenant]
    if flt.HasField("start_time"):
        parts.append(audit_entries.c.integrated_ns >= flt.start_time.ToNanoseconds())
    if flt.HasField("end_time"):
        parts.append(audit_entries.c.integrated_ns < flt.end_time.ToNanoseconds())
    for field, column in _EQUALS.items():
        value = getattr(flt, field)
        if value:
            parts.append(column == value)
    if flt.category:
        parts.append(
            sa.or_(
                audit_entries.c.category == flt.category,
                audit_entries.c.category.startswith(flt.category + ".", autoescape=True),
            )
        )
    if flt.outcomes:
        parts.append(audit_entries.c.outcome.in_([int(o) for o in flt.outcomes]))
    if flt.min_severity:
        parts.append(audit_entries.c.severity >= int(flt.min_severity))
    return sa.and_(*parts)


def filter_fingerprint(*parts: bytes) -> str:
    """A short digest of the request fields a page token is bound to."""
    return hashlib.sha256(b"\x00".join(parts)).hexdigest()[:16]


@dataclass(frozen=True)
class PageToken:
    """Where the next page starts: the pinned tree size and the last index returned."""

    tree_size: int
    cursor: int
    fingerprint: str

    def encode(self) -> str:
        """The opaque token handed to the caller."""
        raw = json.dumps([self.tree_size, self.cursor, self.fingerprint]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PageToken:
        """Parses a token; raises ValueError when it is not one of ours."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            size, cursor, fingerprint = json.loads(raw)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise ValueError("malformed page token") from exc
        if not isinstance(size, int) or not isinstance(cursor, int):
            raise ValueError("malformed page token")
        return cls(size, cursor, str(fingerprint))
