"""MurmurHash3 x86_32 and the rollout bucket it defines.

The `mmh3` extension is used when it is importable; the pure-Python fallback gives identical
results, so the SDK needs nothing beyond its declared dependencies.

A rollout hashes `salt + "/" + value` for many values under one salt. `bucketer(salt)` compiles
that: the 4-byte blocks the salt fills are mixed into the hash state once, so the pure-Python
hash only works through the blocks that hold the value (about half of the work for a typical
flag key and user id).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

__all__ = ["BUCKETS", "bucket_of", "bucketer", "murmur3_32", "murmur3_32_pure"]

BUCKETS = 100_000
"""Number of rollout buckets; weights are in units of one bucket."""

_MASK = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593
_UNPACKERS = [struct.Struct(f"<{n}I").unpack_from for n in range(64)]
"""Unpackers of n little-endian 32-bit blocks at once, for the usual short inputs."""


def _murmur_from(h: int, data: bytes, skipped: int) -> int:
    """Finishes MurmurHash3 x86_32 of a message from state `h` after `skipped` bytes of it.

    `skipped` is a multiple of 4 (whole blocks already mixed into `h`); `data` is the rest.
    """
    length = len(data)
    blocks = length >> 2
    words = (
        _UNPACKERS[blocks](data)
        if blocks < len(_UNPACKERS)
        else [k for (k,) in struct.iter_unpack("<I", data[: blocks * 4])]
    )
    # Rotations skip their own mask: the bits they push past 32 vanish in the masked product.
    for k in words:
        k = (k * _C1) & _MASK
        k = ((k << 15 | k >> 17) * _C2) & _MASK
        h ^= k
        h = ((h << 13 | h >> 19) * 5 + 0xE6546B64) & _MASK
    tail = length & 3
    if tail:
        base = length - tail
        k = data[base]
        if tail > 1:
            k ^= data[base + 1] << 8
            if tail > 2:
                k ^= data[base + 2] << 16
        k = (k * _C1) & _MASK
        h ^= ((k << 15 | k >> 17) * _C2) & _MASK
    h ^= length + skipped
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    return h ^ (h >> 16)


def murmur3_32_pure(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86_32 of `data` as an unsigned 32-bit integer, in pure Python."""
    return _murmur_from(seed & _MASK, data, 0)


def _native() -> Callable[[bytes, int], int] | None:
    try:
        import mmh3
    except ImportError:
        return None

    def native(data: bytes, seed: int = 0) -> int:
        return int(mmh3.hash(data, seed, signed=False))

    return native


murmur3_32: Callable[[bytes, int], int] = _native() or murmur3_32_pure
"""MurmurHash3 x86_32 (unsigned): `mmh3` when importable, else the pure-Python version."""
_NATIVE = murmur3_32


def bucket_of(salt: str, value: str) -> int:
    """The rollout bucket of `value`: murmur3_x86_32(UTF-8 of salt + "/" + value) mod 100000."""
    return murmur3_32(f"{salt}/{value}".encode(), 0) % BUCKETS


def bucketer(salt: str) -> Callable[[str], int]:
    """`bucket_of` with the salt fixed, compiled for the hash in use when it is called."""
    prefix = f"{salt}/"
    hash32 = murmur3_32
    if hash32 is murmur3_32_pure:
        return _pure_bucketer(prefix.encode())
    if hash32 is _NATIVE:
        import mmh3

        native_hash = mmh3.hash

        def native(value: str) -> int:
            return int(native_hash(prefix + value, 0, False)) % BUCKETS

        return native

    def other(value: str) -> int:
        return hash32((prefix + value).encode(), 0) % BUCKETS

    return other


def _pure_bucketer(prefix: bytes) -> Callable[[str], int]:
    skipped = len(prefix) & ~3
    state = 0
    for (k,) in struct.iter_unpack("<I", prefix[:skipped]):
        # The block step of _murmur_from (inlined there: it is the hot loop).
        k = (k * _C1) & _MASK
        k = ((k << 15 | k >> 17) * _C2) & _MASK
        state ^= k
        state = ((state << 13 | state >> 19) * 5 + 0xE6546B64) & _MASK
    rest = prefix[skipped:]

    def pure(value: str) -> int:
        return _murmur_from(state, rest + value.encode(), skipped) % BUCKETS

    return pure
