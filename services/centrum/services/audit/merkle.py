"""The RFC 6962 Merkle tree of the audit log, maintained incrementally.

Storage model: level 0 of the tree is the leaf hashes (one per entry). Of the interior nodes only
the complete subtrees at levels that are multiples of :data:`STRIDE` are stored (levels 4, 8, 12,
... for subtrees of 16, 256, 4096, ... leaves), one row each, written in the append's transaction;
that costs about one extra row per 15 leaves. Any other complete node is rebuilt from at most
``2**(STRIDE-1)`` stored nodes (or leaf hashes) one stored level below it. The right border of the
tree is kept as a :class:`CompactRange` (one hash per set bit of the tree size) in the head row,
so an append hashes only the new leaves and the nodes they complete, never the old log.

Proofs follow RFC 6962 section 2.1: every proof element is the hash of a range of leaves, which
decomposes into at most log2(n) complete subtrees. :func:`inclusion_ranges` and
:func:`consistency_ranges` name those ranges, :func:`nodes_of_range` the complete subtrees, and
:func:`fetch_plan` what to read from the store, so a proof reads O(log n) stored hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from centrum.sdk.audit import leaf_hash, node_hash

__all__ = [
    "STRIDE",
    "CompactRange",
    "FetchPlan",
    "NodeId",
    "consistency_ranges",
    "fetch_plan",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "nodes_of_range",
    "range_hash",
    "stored_level",
]

STRIDE = 4
"""Interior nodes are stored at levels that are multiples of this (subtrees of 16**k leaves)."""

NodeId = tuple[int, int]
"""A complete subtree: (level, index); it covers leaves [index * 2**level, (index+1) * 2**level)."""

Emit = Callable[[int, int, bytes], None]
"""Receives (level, index, hash) of every newly completed stored node."""

_HASH_BYTES = 32


def stored_level(level: int) -> bool:
    """Tells whether complete nodes of `level` (> 0) have rows of their own."""
    return level % STRIDE == 0


@dataclass
class CompactRange:
    """The right border of a tree of `size` leaves: one subtree hash per set bit of the size.

    `hashes` runs from the largest subtree (the highest set bit) to the smallest.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def decode(cls, size: int, blob: bytes | None) -> CompactRange:
        """The compact range stored as concatenated hashes for a tree of `size` leaves."""
        data = blob or b""
        hashes = [data[i : i + _HASH_BYTES] for i in range(0, len(data), _HASH_BYTES)]
        if len(hashes) != size.bit_count():
            raise ValueError(f"a compact range of size {size} needs {size.bit_count()} hashes")
        return cls(size, hashes)

    def encode(self) -> bytes:
        """The hashes concatenated, for the head row."""
        return b"".join(self.hashes)

    def append(self, leaf: bytes, emit: Emit | None = None) -> None:
        """Adds one leaf hash; `emit` receives every stored-level node the leaf completes."""
        index = self.size
        current = leaf
        level = 0
        hashes = self.hashes
        sha256 = hashlib.sha256
        while (index >> level) & 1:
            current = sha256(b"\x01" + hashes.pop() + current).digest()
            level += 1
            if emit is not None and level % STRIDE == 0:
                emit(level, index >> level, current)
        hashes.append(current)
        self.size = index + 1

    def extend(self, leaves: Iterable[bytes], emit: Emit | None = None) -> None:
        """Appends several leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf, emit)

    def root(self) -> bytes:
        """The RFC 6962 root hash of the tree (SHA-256 of nothing for the empty tree)."""
        if not self.hashes:
            return hashlib.sha256(b"").digest()
        current = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            current = node_hash(left, current)
        return current


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly smaller than `n` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the audit path of leaf `index` in a tree of `size`.

    RFC 6962 PATH(m, D[n]), bottom-up: the sibling of the leaf first, the root's child last.
    """
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of {size} leaves")
    path: list[tuple[int, int]] = []
    low, high = 0, size
    while high - low > 1:
        split = low + _largest_power_below(high - low)
        if index < split:
            path.append((split, high))
            high = split
        else:
            path.append((low, split))
            low = split
    path.reverse()
    return path


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the consistency proof from `first` to `second` leaves.

    RFC 6962 PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty when first is 0 or equals second.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first == 0 or first == second:
        return []
    trailing: list[tuple[int, int]] = []
    low, high, m, complete = 0, second, first, True
    while True:
        n = high - low
        if m == n:
            head = [] if complete else [(low, high)]
            break
        k = _largest_power_below(n)
        if m <= k:
            trailing.append((low + k, high))
            high = low + k
        else:
            trailing.append((low, low + k))
            low, m, complete = low + k, m - k, False
    trailing.reverse()
    return head + trailing


def nodes_of_range(low: int, high: int) -> list[NodeId]:
    """The complete subtrees that make up leaves [low, high), largest (leftmost) first.

    For the ranges of RFC 6962 proofs (low aligned to a power of two at least high - low) the
    sizes strictly decrease, and the range's hash is the right fold of theirs (:func:`range_hash`).
    """
    nodes: list[NodeId] = []
    while low < high:
        level = (low & -low).bit_length() - 1 if low else (high - low).bit_length() - 1
        while low + (1 << level) > high:
            level -= 1
        nodes.append((level, low >> level))
        low += 1 << level
    return nodes


def range_hash(nodes: Sequence[NodeId], hashes: Mapping[NodeId, bytes]) -> bytes:
    """The hash of a range from the hashes of its complete subtrees (:func:`nodes_of_range`)."""
    current = hashes[nodes[-1]]
    for node in reversed(nodes[:-1]):
        current = node_hash(hashes[node], current)
    return current


@dataclass
class FetchPlan:
    """What to read from the store to know the hashes of some complete subtrees.

    `leaf_ranges` are index ranges of leaf hashes; `node_ranges` are (level, first, end) ranges of
    stored nodes. :meth:`resolve` then builds every requested node from what was read.
    """

    wanted: list[NodeId]
    leaf_ranges: list[tuple[int, int]]
    node_ranges: list[tuple[int, int, int]]

    def resolve(
        self, leaves: Mapping[int, bytes], stored: Mapping[NodeId, bytes]
    ) -> dict[NodeId, bytes]:
        """The hash of every wanted node, from the leaf hashes and stored nodes read.

        Raises KeyError when the store lacks a row the plan needs.
        """
        result: dict[NodeId, bytes] = {}
        for level, index in self.wanted:
            base = level - level % STRIDE
            width = 1 << (level - base)
            first = index * width
            if base == 0:
                row = [leaves[i] for i in range(first, first + width)]
            else:
                row = [stored[(base, i)] for i in range(first, first + width)]
            while len(row) > 1:
                row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
            result[(level, index)] = row[0]
        return result


def fetch_plan(nodes: Iterable[NodeId]) -> FetchPlan:
    """The reads that give the hashes of `nodes` (each rebuilt from one stored level below)."""
    wanted = sorted(set(nodes))
    leaf_ranges: list[tuple[int, int]] = []
    node_ranges: list[tuple[int, int, int]] = []
    for level, index in wanted:
        base = level - level % STRIDE
        width = 1 << (level - base)
        if base == 0:
            leaf_ranges.append((index * width, (index + 1) * width))
        else:
            node_ranges.append((base, index * width, (index + 1) * width))
    return FetchPlan(wanted, leaf_ranges, node_ranges)
