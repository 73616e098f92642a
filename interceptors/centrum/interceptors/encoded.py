"""Responses already in wire form: a handler hands gRPC the bytes, the chain sends them as they are.

A message built around a large bytes field costs three copies of the payload on its way out:
protobuf copies it into the message, `SerializeToString` copies it again, and gRPC copies the
result into its own buffer. A handler that streams such messages (a download's chunks) can
yield `BytesField(pb.DownloadResponse, "chunk").encode(chunk)` instead: one copy, the field's
wire prefix followed by the payload, which the chain's response serializer passes through.

The prefix comes from protobuf itself (a message whose field holds that many zero bytes,
serialized, the zeros cut off), so this module never spells out the wire format.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, final

from google.protobuf import message
from google.protobuf.descriptor import FieldDescriptor

__all__ = ["BytesField", "Encoded", "passing_encoded"]


@final
@dataclass(frozen=True, slots=True)
class Encoded:
    """A response message already serialized: `wire` is what goes to the caller.

    A wrapper rather than a `bytes` subclass, since building a `bytes` subclass copies the
    payload once more.
    """

    wire: bytes


class BytesField:
    """Encodes messages of `message_type` with only the singular bytes field `field` set."""

    def __init__(self, message_type: type[message.Message], field: str) -> None:
        found = message_type.DESCRIPTOR.fields_by_name.get(field)
        if found is None or found.type != FieldDescriptor.TYPE_BYTES or found.is_repeated:
            raise ValueError(f"{message_type.DESCRIPTOR.full_name}.{field} is no singular bytes")
        self._message_type = message_type
        self._field = field
        # Chunks come in a few lengths (the read size, a last short one), so a small cache
        # serves nearly every message; a miss costs about what the message would have.
        self._prefix: Callable[[int], bytes] = functools.lru_cache(maxsize=64)(self._prefix_of)

    def encode(self, payload: bytes) -> Encoded:
        """The message holding `payload` in the field, in wire form."""
        return Encoded(self._prefix(len(payload)) + payload)

    def _prefix_of(self, length: int) -> bytes:
        wire = self._message_type(**{self._field: bytes(length)}).SerializeToString()
        return wire[: len(wire) - length]


def passing_encoded(serializer: Callable[[Any], bytes] | None) -> Callable[[Any], bytes]:
    """A response serializer that sends an `Encoded` message as it is and hands any other
    message to `serializer` (none: the message is bytes already)."""
    if serializer is None:
        return _bytes_or_encoded
    serialize = serializer

    def serialize_or_pass(response: Any) -> bytes:
        if type(response) is Encoded:
            return response.wire
        return serialize(response)

    return serialize_or_pass


def _bytes_or_encoded(response: Any) -> bytes:
    if type(response) is Encoded:
        return response.wire
    result: bytes = response
    return result
