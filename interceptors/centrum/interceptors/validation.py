"""The validation step: requests checked before any handler sees them.

Generic rules hold for every RPC (AIP-158 page sizes); each service registers a validator per
method for the rest. All violations of a request are reported at once, as one INVALID_ARGUMENT
with `BadRequest` field violations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from google.protobuf import message
from google.protobuf.descriptor import FieldDescriptor as FD

from centrum.interceptors.chain import Call
from centrum.interceptors.errors import FieldViolation, InvalidArgument
from centrum.interceptors.step import Step

__all__ = ["MAX_PAGE_SIZE", "ValidationStep", "Validator"]

MAX_PAGE_SIZE = 1000

Validator = Callable[[message.Message], Sequence[FieldViolation]]
"""Returns the violations of a request; empty when it is valid."""


class ValidationStep(Step):
    """Runs the generic rules and the method's own validator on unary requests."""

    def __init__(self, validators: Mapping[str, Validator] | None = None) -> None:
        self._validators = dict(validators or {})

    async def before(self, call: Call) -> None:
        """Raises InvalidArgument listing every violation of the request."""
        request = call.request
        if request is None:
            return
        violations = list(_generic_violations(request))
        validator = self._validators.get(call.policy.method)
        if validator is not None and not violations:  # service rules may assume sane values
            violations.extend(validator(request))
        if violations:
            raise InvalidArgument(
                "the request is invalid: "
                + "; ".join(f"{v.field}: {v.description}" for v in violations),
                reason="INVALID_REQUEST",
                field_violations=violations,
            )


def _generic_violations(request: message.Message) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    fields = request.DESCRIPTOR.fields_by_name
    if "page_size" in fields:
        size: int = getattr(request, "page_size")  # noqa: B009 - only some messages have it
        if not 0 <= size <= MAX_PAGE_SIZE:
            found.append(FieldViolation("page_size", f"must be between 0 and {MAX_PAGE_SIZE}"))
    _check_ranges(request, "", found, depth=0)
    return found


_MAX_INT64 = 2**63 - 1
_UNSIGNED_64 = frozenset({FD.TYPE_UINT64, FD.TYPE_FIXED64})
_TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)  # 0001-01-01 .. 9999-12-31 (RFC 3339)
_DURATION_SECONDS = 315_576_000_000  # about 10,000 years, the protobuf limit


def _check_ranges(
    msg: message.Message, prefix: str, found: list[FieldViolation], depth: int
) -> None:
    """Values no backend can store: unsigned 64-bit above 2^63-1, out-of-range or malformed
    times."""
    if depth > 8:
        return
    for field, value in msg.ListFields():
        path = f"{prefix}{field.name}"
        if field.type in _UNSIGNED_64:
            values = value if field.is_repeated else [value]
            if any(v > _MAX_INT64 for v in values):
                found.append(FieldViolation(path, f"must be at most {_MAX_INT64}"))
        elif field.type == FD.TYPE_MESSAGE and not _is_map(field):
            items = value if field.is_repeated else [value]
            for item in items:
                problem = _time_problem(item)
                if problem:
                    found.append(FieldViolation(path, problem))
                else:
                    _check_ranges(item, path + ".", found, depth + 1)


def _time_problem(msg: message.Message) -> str:
    name = msg.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        seconds, nanos = getattr(msg, "seconds"), getattr(msg, "nanos")  # noqa: B009
        low, high = _TIMESTAMP_SECONDS
        if not low <= seconds <= high or not 0 <= nanos < 1_000_000_000:
            return "must be a time between years 1 and 9999"
    elif name == "google.protobuf.Duration":
        seconds, nanos = getattr(msg, "seconds"), getattr(msg, "nanos")  # noqa: B009
        if abs(seconds) > _DURATION_SECONDS or abs(nanos) >= 1_000_000_000:
            return "must be a duration within 10,000 years"
        # Protobuf defines no value for seconds and nanos of opposite signs: the JSON form (the
        # audit record's) cannot be written, so it is refused here rather than after the handler.
        if (seconds > 0 and nanos < 0) or (seconds < 0 and nanos > 0):
            return "seconds and nanos must have the same sign"
    return ""


def _is_map(field: FD) -> bool:
    entry = field.message_type
    return entry is not None and entry.GetOptions().map_entry
