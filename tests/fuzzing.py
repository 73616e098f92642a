"""Request generation for fuzzing: a hypothesis strategy for any protobuf message type.

Values are drawn from each field's type, with the boundaries and malformed shapes that break
servers: empty and very long strings, odd Unicode, extreme integers, unknown enum numbers, deep
nesting, many repeated elements and, rarely, an oversized field.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor, message, message_factory
from hypothesis import strategies as st

FD = descriptor.FieldDescriptor
_INT_RANGES = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
}
_TRICKY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "..",
        "../etc/passwd",
        "/abs",
        "a/../../b",
        "\u0000",
        "é",
        "e\u0301",
        "🙂",
        "%00",
        "' OR 1=1 --",
        "{{ 7*7 }}",
        "${jndi:ldap://x}",
        "a" * 1025,
        "*",
        "\n",
        "null",
    ]
)


def _text() -> st.SearchStrategy[str]:
    return st.one_of(_TRICKY_TEXT, st.text(max_size=40), st.text(min_size=300, max_size=5000))


def _scalar(field: descriptor.FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        return st.one_of(
            st.sampled_from([low, high, 0, 1, -1 if low < 0 else 2]), st.integers(low, high)
        )
    if kind in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return st.floats(
            allow_nan=True, allow_infinity=True, width=32 if kind == FD.TYPE_FLOAT else 64
        )
    if kind == FD.TYPE_BOOL:
        return st.booleans()
    if kind == FD.TYPE_STRING:
        return _text()
    if kind == FD.TYPE_BYTES:
        return st.one_of(
            st.binary(max_size=64),
            st.just(b"\x89PNG\r\n\x1a\n" + bytes(16)),
            st.just(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"),
        )
    if kind == FD.TYPE_ENUM:
        assert field.enum_type is not None
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.integers(-5, 1000))
    raise AssertionError(f"unexpected field type {kind}")


def messages(
    message_type: descriptor.Descriptor, depth: int = 0
) -> st.SearchStrategy[message.Message]:
    """Messages of `message_type` with random, boundary and malformed field values."""
    cls = message_factory.GetMessageClass(message_type)
    if message_type.full_name == "google.protobuf.Value":
        return st.builds(
            lambda v: _value(cls, v),
            st.recursive(
                st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), _text()),
                lambda inner: st.one_of(
                    st.lists(inner, max_size=3), st.dictionaries(_text(), inner, max_size=3)
                ),
                max_leaves=6,
            ),
        )
    if message_type.full_name == "google.protobuf.Struct":
        return st.builds(lambda d: _struct(cls, d), st.dictionaries(_text(), _text(), max_size=4))
    if message_type.full_name.startswith("google.protobuf.") and message_type.full_name not in (
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
    ):
        return st.just(cls())
    field_strategies: dict[str, st.SearchStrategy[Any]] = {}
    for field in message_type.fields:
        strategy = _field(field, depth)
        if strategy is not None:
            field_strategies[field.name] = strategy
    return st.fixed_dictionaries({}, optional=field_strategies).map(
        lambda values: _build(cls, values)
    )


def _field(field: descriptor.FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
    if field.type == FD.TYPE_MESSAGE:
        assert field.message_type is not None
        if depth >= 3:
            return None
        if field.message_type.GetOptions().map_entry:
            key = _scalar(field.message_type.fields_by_name["key"])
            value_field = field.message_type.fields_by_name["value"]
            value = (
                messages(value_field.message_type, depth + 1)
                if value_field.message_type
                else _scalar(value_field)
            )
            return st.dictionaries(key, value, max_size=3)
        inner = messages(field.message_type, depth + 1)
    else:
        inner = _scalar(field)
    if field.is_repeated:
        return st.one_of(st.lists(inner, max_size=3), st.lists(inner, min_size=50, max_size=60))
    return inner


def _build(cls: Any, values: dict[str, Any]) -> message.Message:
    msg: message.Message = cls()
    for name, value in values.items():
        field = msg.DESCRIPTOR.fields_by_name[name]
        entry = field.message_type
        try:
            if entry is not None and entry.GetOptions().map_entry:
                target = getattr(msg, name)
                for k, v in value.items():
                    if isinstance(v, message.Message):
                        target[k].CopyFrom(v)
                    else:
                        target[k] = v
            elif field.is_repeated:
                getattr(msg, name).extend(value)
            elif field.type == FD.TYPE_MESSAGE:
                getattr(msg, name).CopyFrom(value)
            else:
                setattr(msg, name, value)
        except (ValueError, TypeError):
            continue  # a value the type cannot hold (e.g. an unknown enum in proto2 semantics)
    return msg


def _value(cls: Any, python_value: Any) -> message.Message:
    from google.protobuf import json_format

    parsed: message.Message = json_format.ParseDict(python_value, cls())
    return parsed


def _struct(cls: Any, python_value: dict[str, Any]) -> message.Message:
    msg: Any = cls()
    msg.update(python_value)
    built: message.Message = msg
    return built
