"""Envelope encryption of object bytes: segmented AES-256-GCM under a fresh data key per object.

An object's plaintext is cut into fixed-size segments; segment `i` is sealed with the nonce
`prefix || i` (an 8-byte random prefix per object, a 4-byte big-endian index) and associated data
that binds the object's blob id, the index and whether it is the final segment, so segments
cannot be reordered, moved between objects, or cut off at the end unnoticed. A ranged read
fetches and opens only the segments it touches.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "TAG_BYTES",
    "DataKey",
    "SegmentDecryptor",
    "SegmentEncryptor",
    "ciphertext_size",
    "segment_span",
]

TAG_BYTES = 16
_PREFIX_BYTES = 8
_AAD_LABEL = b"centrum.storage.v1.segment\x00"


@dataclass(frozen=True)
class DataKey:
    """A fresh data key with the nonce prefix of the one object it encrypts."""

    key: bytes
    nonce_prefix: bytes

    @classmethod
    def generate(cls) -> DataKey:
        """A random 256-bit key and nonce prefix."""
        return cls(secrets.token_bytes(32), secrets.token_bytes(_PREFIX_BYTES))


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _aad(blob_id: str, index: int, final: bool) -> bytes:
    return _AAD_LABEL + blob_id.encode() + b"\x00" + index.to_bytes(8, "big") + bytes([final])


def ciphertext_size(plaintext_size: int, segment_size: int) -> int:
    """Stored bytes of an encrypted object of `plaintext_size` bytes."""
    segments = max(1, -(-plaintext_size // segment_size))
    return plaintext_size + segments * TAG_BYTES


def segment_span(
    offset: int, end: int, plaintext_size: int, segment_size: int
) -> tuple[int, int, int, int]:
    """For plaintext range [offset, end): first and last segment, and the ciphertext range."""
    first = offset // segment_size
    last = max(first, (end - 1) // segment_size)
    stored = ciphertext_size(plaintext_size, segment_size)
    sealed = segment_size + TAG_BYTES
    return first, last, first * sealed, min(stored, (last + 1) * sealed)


class SegmentEncryptor:
    """Seals a plaintext stream segment by segment; feed chunks, then finish."""

    def __init__(self, data_key: DataKey, blob_id: str, segment_size: int) -> None:
        self._aead = AESGCM(data_key.key)
        self._prefix = data_key.nonce_prefix
        self._blob_id = blob_id
        self._size = segment_size
        self._pending = bytearray()
        self._index = 0

    def _seal(self, plaintext: bytes | memoryview, final: bool) -> bytes:
        sealed = self._aead.encrypt(
            _nonce(self._prefix, self._index), plaintext, _aad(self._blob_id, self._index, final)
        )
        self._index += 1
        return sealed

    def feed(self, chunk: bytes) -> bytes:
        """Seals every full segment that is known not to be the last; returns their bytes."""
        self._pending += chunk
        if len(self._pending) <= self._size:
            return b""
        view = memoryview(self._pending)
        out: list[bytes] = []
        start = 0
        # Keep at least one byte back: the last segment is sealed as final by finish().
        while len(self._pending) - start > self._size:
            out.append(self._seal(view[start : start + self._size], final=False))
            start += self._size
        view.release()
        del self._pending[:start]
        return b"".join(out)

    def finish(self) -> bytes:
        """Seals the remaining bytes as the final segment (an empty one for empty objects)."""
        sealed = self._seal(bytes(self._pending), final=True)
        self._pending.clear()
        return sealed


class SegmentDecryptor:
    """Opens the sealed segments of one object, whole or for a plaintext byte range."""

    def __init__(self, key: bytes, nonce_prefix: bytes, blob_id: str, segment_size: int) -> None:
        self._aead = AESGCM(key)
        self._prefix = nonce_prefix
        self._blob_id = blob_id
        self._size = segment_size

    def _open(self, sealed: bytes | bytearray | memoryview, index: int, final: bool) -> bytes:
        return self._aead.decrypt(
            _nonce(self._prefix, index), sealed, _aad(self._blob_id, index, final)
        )

    async def plaintext(
        self,
        sealed: AsyncIterator[bytes],
        *,
        first_segment: int,
        last_segment_of_object: int,
        skip: int,
        length: int,
    ) -> AsyncIterator[bytes]:
        """Opens the ciphertext stream starting at `first_segment`, yielding `length` bytes of
        plaintext after dropping the first `skip`; raises InvalidTag on tampering.

        Yields once per chunk that completes segments: their plaintext in one piece.
        """
        size = self._size
        sealed_size = size + TAG_BYTES
        index = first_segment
        remaining = length
        # The start of a segment the previous chunk cut off (less than a sealed segment).
        carry = bytearray()
        # Several segments are opened straight into one buffer, then copied out once, rather
        # than each into bytes of its own (zero-filled first) that are then joined.
        scratch = bytearray()

        async for chunk in sealed:
            count = min((len(carry) + len(chunk)) // sealed_size, -(-(skip + remaining) // size))
            if count == 0:
                carry += chunk
                continue
            data = memoryview(chunk)
            segments: list[bytearray | memoryview] = []
            head = 0
            if carry:
                head = sealed_size - len(carry)
                carry += data[:head]
                segments.append(carry)
            while len(segments) < count:
                segments.append(data[head : head + sealed_size])
                head += sealed_size
            if count == 1:
                plain = self._open(segments[0], index, index == last_segment_of_object)
                index += 1
                piece = plain[skip : skip + remaining]
            else:
                if len(scratch) < count * size:
                    scratch = bytearray(count * size)
                out = memoryview(scratch)
                for position, segment in enumerate(segments):
                    self._aead.decrypt_into(
                        _nonce(self._prefix, index),
                        segment,
                        _aad(self._blob_id, index, index == last_segment_of_object),
                        out[position * size : (position + 1) * size],
                    )
                    index += 1
                piece = bytes(out[skip : min(count * size, skip + remaining)])
            skip = 0
            remaining -= len(piece)
            yield piece
            if remaining <= 0:
                return
            carry = bytearray(data[head:])
        if remaining > 0:
            if not carry and index <= last_segment_of_object:
                raise InvalidTag
            plain = self._open(carry, index, index == last_segment_of_object)
            yield plain[skip : skip + remaining]
