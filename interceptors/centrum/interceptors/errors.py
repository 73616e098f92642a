"""One exception per gRPC status code, for servicers and interceptors to raise.

Each exception carries what a caller needs to act on the error, as `google.rpc` details
(AIP-193): a `BadRequest` with field violations, an `ErrorInfo` with a machine-readable reason in
the `centrum.dev` domain, a `RetryInfo` saying when to try again, a `ResourceInfo` naming the
resource. The error-mapping step of the chain turns them into a status with those details.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

__all__ = [
    "DOMAIN",
    "Aborted",
    "AlreadyExists",
    "Cancelled",
    "CentrumError",
    "DataLoss",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
]

DOMAIN = "centrum.dev"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One invalid field of a request: its path (`header.key`) and what is wrong with it."""

    field: str
    description: str


class CentrumError(Exception):
    """Base of the status exceptions; raise a subclass, never this class."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        info: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        retry_after_s: float | None = None,
        resource: tuple[str, str] | None = None,
        trailing_metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.info = dict(info or {})
        self.field_violations = tuple(field_violations)
        self.retry_after_s = retry_after_s
        self.resource = resource
        self.trailing_metadata = tuple(trailing_metadata)

    def to_status(self) -> status_pb2.Status:
        """Returns the `google.rpc.Status` with every detail this error carries."""
        details: list[any_pb2.Any] = []
        if self.reason:
            details.append(
                _pack(
                    error_details_pb2.ErrorInfo(
                        reason=self.reason, domain=DOMAIN, metadata=self.info
                    )
                )
            )
        if self.field_violations:
            details.append(
                _pack(
                    error_details_pb2.BadRequest(
                        field_violations=[
                            error_details_pb2.BadRequest.FieldViolation(
                                field=v.field, description=v.description
                            )
                            for v in self.field_violations
                        ]
                    )
                )
            )
        if self.retry_after_s is not None:
            delay = duration_pb2.Duration()
            delay.FromNanoseconds(int(self.retry_after_s * 1e9))
            details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
        if self.resource:
            resource_type, resource_name = self.resource
            details.append(
                _pack(
                    error_details_pb2.ResourceInfo(
                        resource_type=resource_type, resource_name=resource_name
                    )
                )
            )
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


class Cancelled(CentrumError):
    """The caller cancelled the operation."""

    code = grpc.StatusCode.CANCELLED


class Unknown(CentrumError):
    """An error whose cause cannot be told; prefer a more precise class."""

    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(CentrumError):
    """The request is malformed whatever the state of the system; list the bad fields."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(CentrumError):
    """The deadline passed before the operation completed."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(CentrumError):
    """The resource does not exist, or the caller may not know that it does."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(CentrumError):
    """A resource the caller tried to create exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(CentrumError):
    """The caller is known but lacks the permission (name the missing scope)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(CentrumError):
    """A quota or rate limit is exhausted; say when to retry."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(CentrumError):
    """The system is not in a state the operation needs; retrying alone will not help."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(CentrumError):
    """A concurrency conflict (compare-and-set lost); re-read and retry."""

    code = grpc.StatusCode.ABORTED


class OutOfRange(CentrumError):
    """The request reads or seeks past the valid range (an offset past the end)."""

    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(CentrumError):
    """The operation is not implemented or not enabled on this server."""

    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(CentrumError):
    """An invariant broke inside the server; never for a caller's mistake."""

    code = grpc.StatusCode.INTERNAL


class Unavailable(CentrumError):
    """A backend is unreachable for now; say when to retry."""

    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(CentrumError):
    """Data is lost or corrupt beyond recovery."""

    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(CentrumError):
    """The call carries no valid credential."""

    code = grpc.StatusCode.UNAUTHENTICATED
