"""Plain Python values for `google.protobuf.Value`, and the value kinds the operators test."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2

__all__ = [
    "as_number",
    "dict_to_struct",
    "kind_of",
    "python_to_value",
    "same_value",
    "struct_to_dict",
    "value_to_python",
]

_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def value_to_python(value: struct_pb2.Value) -> Any:
    """The plain Python form of a Value: None, bool, float, str, dict or list."""
    which = value.WhichOneof("kind")
    if which == "bool_value":
        return value.bool_value
    if which == "number_value":
        return value.number_value
    if which == "string_value":
        return value.string_value
    if which == "struct_value":
        return struct_to_dict(value.struct_value)
    if which == "list_value":
        return [value_to_python(item) for item in value.list_value.values]
    return None


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """The plain Python form of a Struct."""
    return {key: value_to_python(item) for key, item in struct.fields.items()}


def python_to_value(obj: Any) -> struct_pb2.Value:
    """A Value holding a plain Python value (numbers become doubles)."""
    value = struct_pb2.Value()
    if obj is None:
        value.null_value = struct_pb2.NULL_VALUE
    elif isinstance(obj, bool):
        value.bool_value = obj
    elif isinstance(obj, int | float):
        value.number_value = float(obj)
    elif isinstance(obj, str):
        value.string_value = obj
    elif isinstance(obj, Mapping):
        value.struct_value.CopyFrom(dict_to_struct(obj))
    elif isinstance(obj, list | tuple):
        value.list_value.values.extend(python_to_value(item) for item in obj)
    else:
        raise TypeError(f"cannot represent {type(obj).__name__} as a protobuf Value")
    return value


def dict_to_struct(mapping: Mapping[str, Any]) -> struct_pb2.Struct:
    """A Struct holding a mapping of plain Python values."""
    struct = struct_pb2.Struct()
    for key, item in mapping.items():
        struct.fields[key].CopyFrom(python_to_value(item))
    return struct


def kind_of(obj: Any) -> str:
    """The JSON kind of a plain value: null, bool, number, string, object or list."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "bool"
    if isinstance(obj, int | float):
        return "number"
    if isinstance(obj, str):
        return "string"
    if isinstance(obj, Mapping):
        return "object"
    return "list"


def same_value(left: Any, right: Any) -> bool:
    """Equality of the same kind and value (1 equals 1.0, but True never equals 1)."""
    return kind_of(left) == kind_of(right) and bool(left == right)


def as_number(obj: Any) -> float | None:
    """The numeric value of a number or a decimal string; None for anything else."""
    if isinstance(obj, bool):
        return None
    if isinstance(obj, int | float):
        try:
            number = float(obj)
        except OverflowError:
            return None
        return None if math.isnan(number) else number
    if isinstance(obj, str) and _DECIMAL.match(obj):
        return float(obj)
    return None
