"""MurmurHash3 x86_32 and the rollout bucket it defines.

The `mmh3` extension is used when it is importable; the pure-Python fallback gives identical
results, so the SDK needs nothing beyond its declared dependencies.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

__all__ = ["BUCKETS", "bucket_of", "murmur3_32", "murmur3_32_pure"]

BUCKETS = 100_000
"""Number of rollout buckets; weights are in units of one bucket."""

_MASK = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593


def murmur3_32_pure(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86_32 of `data` as an unsigned 32-bit integer, in pure Python."""
    length = len(data)
    h = seed & _MASK
    nblocks = length // 4
    for (k,) in struct.iter_unpack("<I", data[: nblocks * 4]):
        k = (k * _C1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * _C2) & _MASK
        h ^= k
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[nblocks * 4 :]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if tail:
        k ^= tail[0]
        k = (k * _C1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * _C2) & _MASK
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


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


def bucket_of(salt: str, value: str) -> int:
    """The rollout bucket of `value`: murmur3_x86_32(UTF-8 of salt + "/" + value) mod 100000."""
    return murmur3_32(f"{salt}/{value}".encode(), 0) % BUCKETS
