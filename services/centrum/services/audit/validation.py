"""Request validators of the AuditService, run by the chain's validation step."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from google.protobuf import message

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.interceptors.errors import FieldViolation
from centrum.interceptors.validation import Validator

__all__ = ["validators"]

_SERVICE = "/centrum.audit.v1.AuditService/"
_TAXONOMY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", re.IGNORECASE)
_AMOUNT = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4 = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_MAX_KEY_BYTES = 1024


def _event(event: audit_pb2.AuditEvent, prefix: str) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    if not event.event_id or len(event.event_id) > 64:
        found.append(FieldViolation(f"{prefix}.event_id", "required, at most 64 characters"))
    if not event.category or len(event.category) > 64 or not _TAXONOMY.match(event.category):
        found.append(
            FieldViolation(f"{prefix}.category", "required, dot-separated, at most 64 characters")
        )
    if not event.action or len(event.action) > 128 or not _TAXONOMY.match(event.action):
        found.append(
            FieldViolation(f"{prefix}.action", "required, dot-separated, at most 128 characters")
        )
    if event.outcome == audit_pb2.AUDIT_OUTCOME_UNSPECIFIED:
        found.append(FieldViolation(f"{prefix}.outcome", "required"))
    if len(event.correlation.correlation_id) > 128:
        found.append(FieldViolation(f"{prefix}.correlation.correlation_id", "at most 128"))
    if event.HasField("financial"):
        money = event.financial
        if not money.transaction_id:
            found.append(FieldViolation(f"{prefix}.financial.transaction_id", "required"))
        if money.amount and not _AMOUNT.match(money.amount):
            found.append(
                FieldViolation(f"{prefix}.financial.amount", "a decimal string like 1234.50")
            )
        if money.currency and not _CURRENCY.match(money.currency):
            found.append(
                FieldViolation(f"{prefix}.financial.currency", "an ISO 4217 code like EUR")
            )
    return found


def _append(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.AppendRequest)
    if not request.HasField("event"):
        return [FieldViolation("event", "required")]
    return _event(request.event, "event")


def _batch(max_size: int) -> Validator:
    def validate(request: message.Message) -> Sequence[FieldViolation]:
        assert isinstance(request, audit_service_pb2.AppendBatchRequest)
        if not 1 <= len(request.events) <= max_size:
            return [FieldViolation("events", f"between 1 and {max_size} events")]
        found: list[FieldViolation] = []
        seen: set[str] = set()
        for i, event in enumerate(request.events):
            found.extend(_event(event, f"events[{i}]"))
            if event.event_id in seen:
                found.append(FieldViolation(f"events[{i}].event_id", "duplicate in the batch"))
            seen.add(event.event_id)
        return found

    return validate


def _filter(flt: audit_pb2.AuditFilter, prefix: str = "filter") -> list[FieldViolation]:
    if (
        flt.HasField("start_time")
        and flt.HasField("end_time")
        and flt.end_time.ToNanoseconds() <= flt.start_time.ToNanoseconds()
    ):
        return [FieldViolation(f"{prefix}.end_time", "must be after start_time")]
    return []


def _query(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.QueryRequest)
    return _filter(request.filter)


def _tail(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.TailRequest)
    return _filter(request.filter)


def _inclusion(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.GetInclusionProofRequest)
    if request.tree_size and request.index >= request.tree_size:
        return [FieldViolation("index", "must be smaller than tree_size")]
    return []


def _entry(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.GetEntryRequest)
    if request.tree_size and request.index >= request.tree_size:
        return [FieldViolation("tree_size", "must be greater than index")]
    return []


def _consistency(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.GetConsistencyProofRequest)
    if request.second_size and request.first_size > request.second_size:
        return [FieldViolation("first_size", "must be at most second_size")]
    return []


def _export(request: message.Message) -> Sequence[FieldViolation]:
    assert isinstance(request, audit_service_pb2.ExportRequest)
    found = _filter(request.filter)
    if request.end_index and request.end_index <= request.start_index:
        found.append(FieldViolation("end_index", "must be greater than start_index"))
    destination = request.destination
    if destination.HasField("file"):
        path = PurePosixPath(destination.file.path)
        if not destination.file.path or path.is_absolute() or ".." in path.parts:
            found.append(
                FieldViolation(
                    "destination.file.path", "a relative path inside the export directory"
                )
            )
    if destination.HasField("s3"):
        found.extend(_s3(destination.s3))
    return found


def _s3(s3: audit_service_pb2.S3Destination) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    bucket = s3.bucket
    if not _BUCKET.match(bucket) or ".." in bucket or _IPV4.match(bucket):
        found.append(
            FieldViolation(
                "destination.s3.bucket",
                "an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens",
            )
        )
    key = s3.key
    if (
        not key
        or len(key.encode()) > _MAX_KEY_BYTES
        or key.startswith("/")
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key)
        or ".." in PurePosixPath(key).parts
    ):
        found.append(
            FieldViolation(
                "destination.s3.key",
                "an object key of 1-1024 bytes, no leading slash, control characters or '..'",
            )
        )
    return found


def validators(max_batch_size: int) -> dict[str, Validator]:
    """The validator of each AuditService method that has rules beyond the generic ones."""
    return {
        _SERVICE + "Append": _append,
        _SERVICE + "AppendBatch": _batch(max_batch_size),
        _SERVICE + "Query": _query,
        _SERVICE + "Tail": _tail,
        _SERVICE + "GetEntry": _entry,
        _SERVICE + "GetInclusionProof": _inclusion,
        _SERVICE + "GetConsistencyProof": _consistency,
        _SERVICE + "Export": _export,
    }
