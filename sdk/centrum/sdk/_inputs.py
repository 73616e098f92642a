"""Client-side checks of helper arguments, failing like the server would, before any call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import grpc
from google.protobuf import struct_pb2, timestamp_pb2

from centrum.sdk.errors import CentrumError, FieldViolation
from centrum.sdk.flags import dict_to_struct

__all__ = ["InvalidInput", "invalid", "plain_struct", "timestamp"]


class InvalidInput(CentrumError, ValueError):
    """A helper refused its arguments before calling the server.

    It is an INVALID_ARGUMENT `CentrumError` with field violations shaped like the server's (so
    one `except CentrumError` handles both), and a `ValueError` for code that expects one.
    """


def invalid(violations: Sequence[FieldViolation]) -> InvalidInput:
    """The error for `violations` (one or more bad arguments)."""
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
    return InvalidInput(
        status=grpc.StatusCode.INVALID_ARGUMENT,
        message=summary,
        reason="INVALID_REQUEST",
        domain="centrum.dev",
        field_violations=tuple(violations),
    )


def timestamp(field: str, value: dt.datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp of an aware datetime; a naive one is refused as ambiguous."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid([FieldViolation(field, "must be timezone-aware (e.g. tzinfo=UTC)")])
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC))
    return stamp


def _plain(value: Any) -> Any:
    """`value` with Decimals and dates as strings, forms a Struct can hold exactly."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def plain_struct(field: str, mapping: Mapping[str, Any]) -> struct_pb2.Struct:
    """A Struct of a mapping of JSON-like values (Decimals and dates become strings)."""
    try:
        return dict_to_struct(_plain(mapping))
    except TypeError as exc:
        raise invalid([FieldViolation(field, f"must hold JSON-like values: {exc}")]) from None
