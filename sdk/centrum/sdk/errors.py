"""One exception for every failed call, carrying the status and its parsed `google.rpc` details.

    try:
        client.config.SetValue(request)
    except CentrumError as error:
        if error.code == grpc.StatusCode.ABORTED: ...      # a compare-and-set conflict
        error.reason                                       # "REVISION_MISMATCH" (ErrorInfo)
        error.field_violations                             # [("key", "must not be empty")]
        error.retry_after                                  # seconds, from RetryInfo

`CentrumError` is a `grpc.RpcError`, so code that catches `grpc.RpcError` keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

__all__ = ["CentrumError", "FieldViolation", "from_rpc_error"]

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One invalid field of a request."""

    field: str
    description: str


@dataclass(eq=False)
class CentrumError(grpc.RpcError):
    """A failed call: status code, message and the details a caller can act on."""

    status: grpc.StatusCode
    message: str
    reason: str = ""
    """`ErrorInfo.reason`: machine-readable cause, stable across releases."""
    domain: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """`ErrorInfo.metadata`: e.g. the missing scope, the current revision."""
    field_violations: Sequence[FieldViolation] = ()
    retry_after: float | None = None
    """Seconds to wait before retrying (`RetryInfo`), when the server said."""
    resource: tuple[str, str] | None = None
    """(type, name) of the resource concerned (`ResourceInfo`)."""
    trailers: Sequence[tuple[str, Any]] = ()

    def __str__(self) -> str:
        reason = f" ({self.reason})" if self.reason else ""
        return f"{self.status.name}{reason}: {self.message}"

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed later without changes (UNAVAILABLE, rate limits)."""
        return self.status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)

    def code(self) -> grpc.StatusCode:
        """The status code (the `grpc.RpcError`/`grpc.Call` accessor)."""
        return self.status

    def details(self) -> str:
        """The status message (the `grpc.Call` accessor)."""
        return self.message

    def trailing_metadata(self) -> Any:
        """The call's trailing metadata."""
        return tuple(self.trailers)


def from_rpc_error(error: grpc.RpcError) -> CentrumError:
    """Parses a failed call into a CentrumError (returns it unchanged if it already is one)."""
    if isinstance(error, CentrumError):
        return error
    code_of = getattr(error, "code", None)
    details_of = getattr(error, "details", None)
    trailers_of = getattr(error, "trailing_metadata", None)
    code = code_of() if callable(code_of) else grpc.StatusCode.UNKNOWN
    trailers = tuple(trailers_of() or ()) if callable(trailers_of) else ()
    parsed = CentrumError(
        status=code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN,
        message=(details_of() if callable(details_of) else "") or "",
        trailers=trailers,
    )
    for key, value in trailers:
        if key == _DETAILS_KEY and isinstance(value, bytes):
            _apply_details(parsed, status_pb2.Status.FromString(value))
    return parsed


def _apply_details(error: CentrumError, status: status_pb2.Status) -> None:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            error.reason, error.domain, error.metadata = (
                info.reason,
                info.domain,
                dict(info.metadata),
            )
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            error.field_violations = tuple(
                FieldViolation(v.field, v.description) for v in bad.field_violations
            )
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            error.retry_after = retry.retry_delay.ToNanoseconds() / 1e9
        elif detail.Is(error_details_pb2.ResourceInfo.DESCRIPTOR):
            resource = error_details_pb2.ResourceInfo()
            detail.Unpack(resource)
            error.resource = (resource.resource_type, resource.resource_name)
