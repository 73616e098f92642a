"""Field sensitivity: turning a request into a payload that is safe to record.

Fields marked `SENSITIVITY_PII` or `SENSITIVITY_SECRET` in the contract are replaced by a marker,
at any depth (nested messages, repeated fields, maps, oneofs). The per-message-type list of
sensitive fields is computed once and cached.
"""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

from google.protobuf import descriptor, json_format, message

from centrum.policy.v1 import policy_pb2

__all__ = ["REDACTED", "redact", "sensitivity_of"]

REDACTED = "[REDACTED]"

_REDACTED_LEVELS = frozenset({policy_pb2.SENSITIVITY_PII, policy_pb2.SENSITIVITY_SECRET})


@cache
def sensitivity_of(field: descriptor.FieldDescriptor) -> int:
    """Returns the declared sensitivity of a field (SENSITIVITY_UNSPECIFIED when none)."""
    options: Any = field.GetOptions()
    if options.HasExtension(policy_pb2.sensitivity):
        return int(options.Extensions[policy_pb2.sensitivity])
    return policy_pb2.SENSITIVITY_UNSPECIFIED


def redact(msg: message.Message) -> dict[str, Any]:
    """Returns `msg` as a JSON-compatible dict with every PII or SECRET field redacted."""
    result: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if sensitivity_of(field) in _REDACTED_LEVELS:
            result[field.name] = REDACTED
        elif _is_map(field):
            value_field = _message_type(field).fields_by_name["value"]
            result[field.name] = {str(k): _value(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            result[field.name] = [_value(field, item) for item in value]
        else:
            result[field.name] = _value(field, value)
    return result


def _is_map(field: descriptor.FieldDescriptor) -> bool:
    return (
        field.type == descriptor.FieldDescriptor.TYPE_MESSAGE
        and _message_type(field).GetOptions().map_entry
    )


def _message_type(field: descriptor.FieldDescriptor) -> descriptor.Descriptor:
    assert field.message_type is not None
    return field.message_type


def _value(field: descriptor.FieldDescriptor, value: Any) -> Any:
    if field.type == descriptor.FieldDescriptor.TYPE_MESSAGE:
        if _message_type(field).full_name.startswith("google.protobuf."):
            try:
                return json_format.MessageToDict(value)
            except ValueError:
                # A value its JSON form refuses (a Duration of mixed signs): its fields as
                # they are, so the call's record is kept rather than lost.
                return redact(value)
        return redact(value)
    if field.type == descriptor.FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode()
    if field.type == descriptor.FieldDescriptor.TYPE_ENUM:
        enum_type = field.enum_type
        enum_value = enum_type.values_by_number.get(value) if enum_type is not None else None
        return enum_value.name if enum_value else value
    return value
