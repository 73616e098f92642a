"""Full verification of the stored log: recompute the tree and compare it with what is stored.

Checked, in index order: each leaf value against its leaf hash (exact index), each stored subtree
hash against the recomputed one (names the first leaf of the subtree), the root at every
checkpoint's size against the checkpoint (and the checkpoint's signature against the stored
public keys), and finally the head's compact range. The report names the first index found to
differ: exactly for an altered leaf value; for a leaf hash rewritten to match an altered value,
the first leaf of the smallest stored subtree or checkpointed range that no longer matches.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

from centrum.sdk.audit import NoteError, VerifierKey, parse_checkpoint, verify_note
from centrum.services.audit import merkle
from centrum.services.audit.log import SqlAuditLog, StoredCheckpoint

__all__ = ["VerifyReport", "verify_log"]

_MAX_PROBLEMS = 50
_C = TypeVar("_C")


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_log`."""

    tree_size: int = 0
    root_hash: bytes = b""
    checkpoint_size: int = 0
    checkpoints_checked: int = 0
    pruned: int = 0
    first_bad_index: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return not self.problems

    def fail(self, index: int | None, problem: str) -> None:
        """Records a problem; the smallest index recorded is the one reported."""
        if index is not None and (self.first_bad_index is None or index < self.first_bad_index):
            self.first_bad_index = index
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(problem)


async def verify_log(log: SqlAuditLog, *, chunk: int = 20_000) -> VerifyReport:
    """Recomputes the whole tree from the stored entries and checks it against the store."""
    report = VerifyReport()
    keys = [VerifierKey(k.key_name, k.key_id, k.public_key) for k in await log.signing_keys()]
    checkpoints = {c.tree_size: c for c in await _all_checkpoints(log)}
    head = await log.head()
    compact = merkle.CompactRange()
    emitted: list[tuple[int, int, bytes]] = []

    def emit(level: int, index: int, value: bytes) -> None:
        emitted.append((level, index, value))

    good = 0  # size of the last checkpoint that matched
    if 0 in checkpoints:
        _check_checkpoint(report, checkpoints[0], compact, keys, good)
    async for rows in _read_ahead(log.scan(chunk)):
        for entry in rows:
            if entry.index != compact.size:
                report.fail(compact.size, f"index {compact.size} is missing")
                return report
            if entry.payload is None:
                report.pruned += 1
            elif merkle.leaf_hash(entry.payload) != entry.leaf_hash:
                report.fail(entry.index, f"entry {entry.index}: payload does not match leaf hash")
            compact.append(entry.leaf_hash, emit)
            checkpoint = checkpoints.get(compact.size)
            if checkpoint is not None and _check_checkpoint(
                report, checkpoint, compact, keys, good
            ):
                good = compact.size
        await _check_nodes(log, report, emitted)
        emitted.clear()
    report.tree_size = compact.size
    report.root_hash = compact.root()
    if compact.size != head.size or compact.hashes != head.compact.hashes:
        report.fail(
            min(compact.size, head.size),
            f"the head records {head.size} leaves and another tree than the entries",
        )
    latest = max(checkpoints, default=0)
    report.checkpoint_size = latest
    if latest > compact.size:
        report.fail(compact.size, f"checkpoint of {latest} leaves, but {compact.size} stored")
    return report


async def _read_ahead(chunks: AsyncIterator[_C]) -> AsyncIterator[_C]:
    """`chunks` with the next one read while the caller hashes the current one."""
    pending = asyncio.ensure_future(anext(chunks, None))
    try:
        while (current := await pending) is not None:
            pending = asyncio.ensure_future(anext(chunks, None))
            yield current
    finally:
        pending.cancel()


async def _all_checkpoints(log: SqlAuditLog) -> list[StoredCheckpoint]:
    found: list[StoredCheckpoint] = []
    after = -1
    while batch := await log.checkpoints(after_size=after, limit=10_000):
        found.extend(batch)
        after = batch[-1].tree_size
    return found


def _check_checkpoint(
    report: VerifyReport,
    checkpoint: StoredCheckpoint,
    compact: merkle.CompactRange,
    keys: list[VerifierKey],
    good: int,
) -> bool:
    """Checks one checkpoint against the recomputed tree; `good` is the last matching size."""
    report.checkpoints_checked += 1
    size = checkpoint.tree_size
    try:
        body, _ = verify_note(checkpoint.note, keys)
        signed = parse_checkpoint(body)
    except NoteError as exc:
        report.fail(None, f"checkpoint {size}: {exc}")
        return False
    if signed.tree_size != size or signed.root_hash != checkpoint.root_hash:
        report.fail(None, f"checkpoint {size}: the signed note says otherwise than its row")
        return False
    if compact.root() != signed.root_hash:
        report.fail(
            good,
            f"the tree of {size} leaves does not match its signed checkpoint (leaves {good}.."
            f"{size - 1} differ from what was signed)",
        )
        return False
    return True


async def _check_nodes(
    log: SqlAuditLog, report: VerifyReport, emitted: list[tuple[int, int, bytes]]
) -> None:
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for level, index, value in emitted:
        by_level.setdefault(level, []).append((index, value))
    for level, nodes in sorted(by_level.items()):
        stored = await log.stored_nodes(level, nodes[0][0], nodes[-1][0] + 1)
        for index, value in nodes:
            if stored.get(index) != value:
                first = index << level
                report.fail(
                    first,
                    f"subtree of leaves {first}..{((index + 1) << level) - 1} differs from its "
                    "stored hash",
                )
                return
