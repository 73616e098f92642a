"""The validation step: requests checked before any handler sees them.

Generic rules hold for every RPC (AIP-158 page sizes, values no backend can store: unsigned 64-bit
values beyond int64, out-of-range times, NUL characters in any string but a SECRET one); each
service registers a validator per method for the rest. All violations of a request are reported
at once, as one INVALID_ARGUMENT with `BadRequest` field violations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from google.protobuf import message
from google.protobuf.descriptor import FieldDescriptor as FD

from centrum.interceptors.chain import Call
from centrum.interceptors.errors import FieldViolation, InvalidArgument
from centrum.interceptors.redaction import sensitivity_of
from centrum.interceptors.step import Step
from centrum.policy.v1 import policy_pb2

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
_NUL = "\x00"
_NO_NUL = "must not contain NUL characters"
_TOO_LARGE = f"must be at most {_MAX_INT64}"

# How `_check_ranges` treats a field, by `_kind`.
_SKIP, _TEXT, _TEXTS, _MESSAGE, _MESSAGES, _TIME, _TIMES, _MAP, _UINT64, _UINT64S = range(10)
_TIME_TYPES = frozenset({"google.protobuf.Timestamp", "google.protobuf.Duration"})


def _check_ranges(
    msg: message.Message, prefix: str, found: list[FieldViolation], depth: int
) -> None:
    """Values no backend can store: unsigned 64-bit above 2^63-1, out-of-range or malformed
    times, and NUL characters in strings (PostgreSQL text holds none), at any depth, map keys
    and values included."""
    if depth > 8:
        return
    # One pass over the set fields; explicit loops, as generators cost more than these checks.
    for field, value in msg.ListFields():
        kind = _kind(field)
        if kind == _TEXT:
            if _NUL in value:
                found.append(FieldViolation(prefix + field.name, _NO_NUL))
        elif kind == _SKIP:
            continue
        elif kind == _TEXTS:
            for item in value:
                if _NUL in item:
                    found.append(FieldViolation(prefix + field.name, _NO_NUL))
                    break
        elif kind == _MESSAGE:
            _check_ranges(value, prefix + field.name + ".", found, depth + 1)
        elif kind == _MESSAGES:
            nested = prefix + field.name + "."
            for item in value:
                _check_ranges(item, nested, found, depth + 1)
        elif kind == _TIME:
            _check_time(value, prefix + field.name, found)
        elif kind == _TIMES:
            for item in value:
                _check_time(item, prefix + field.name, found)
        elif kind == _MAP:
            _check_map(field, value, prefix + field.name, found, depth)
        elif kind == _UINT64:
            if value > _MAX_INT64:
                found.append(FieldViolation(prefix + field.name, _TOO_LARGE))
        else:  # _UINT64S
            for item in value:
                if item > _MAX_INT64:
                    found.append(FieldViolation(prefix + field.name, _TOO_LARGE))
                    break


def _check_time(msg: message.Message, path: str, found: list[FieldViolation]) -> None:
    problem = _time_problem(msg)
    if problem:
        found.append(FieldViolation(path, problem))


def _check_map(field: FD, entries: Any, path: str, found: list[FieldViolation], depth: int) -> None:
    """A map's string keys and values are checked like strings, its other values like those of
    a singular field; every violation is named by the map field."""
    check_keys, kind = _map_kinds(field)
    if check_keys:
        for key in entries:
            if _NUL in key:
                found.append(FieldViolation(path, _NO_NUL))
                break
    if kind == _SKIP:
        return
    for item in entries.values():
        if kind == _TEXT:
            if _NUL in item:
                found.append(FieldViolation(path, _NO_NUL))
                break
        elif kind == _MESSAGE:
            _check_ranges(item, path + ".", found, depth + 1)
        elif kind == _TIME:
            _check_time(item, path, found)
        elif item > _MAX_INT64:  # _UINT64
            found.append(FieldViolation(path, _TOO_LARGE))
            break


@cache
def _kind(field: FD) -> int:
    """How `_check_ranges` treats a field (cached: descriptor and option reads are slow)."""
    repeated = field.is_repeated
    if field.type == FD.TYPE_STRING:
        # A secret is only ever stored hashed or encrypted, and one holding a NUL must reach its
        # service, which answers it like any wrong credential (inactive for introspection,
        # UNAUTHENTICATED for a login) rather than telling which field was malformed.
        if sensitivity_of(field) == policy_pb2.SENSITIVITY_SECRET:
            return _SKIP
        return _TEXTS if repeated else _TEXT
    if field.type == FD.TYPE_MESSAGE:
        entry = field.message_type
        assert entry is not None
        if entry.GetOptions().map_entry:
            return _MAP
        if entry.full_name in _TIME_TYPES:
            return _TIMES if repeated else _TIME
        return _MESSAGES if repeated else _MESSAGE
    if field.type in _UNSIGNED_64:
        return _UINT64S if repeated else _UINT64
    return _SKIP


@cache
def _map_kinds(field: FD) -> tuple[bool, int]:
    """Whether a map field's keys are checked for NUL, and how its values are treated
    (`_SKIP`, `_TEXT`, `_MESSAGE`, `_TIME` or `_UINT64`). A SECRET map's keys and values are
    not checked for NUL."""
    entry = field.message_type
    assert entry is not None
    key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
    secret = sensitivity_of(field) == policy_pb2.SENSITIVITY_SECRET
    kind = _kind(value)
    return key.type == FD.TYPE_STRING and not secret, _SKIP if secret and kind == _TEXT else kind


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
