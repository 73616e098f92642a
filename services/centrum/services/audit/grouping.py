"""Group commit for the Append RPC: concurrent calls share a transaction, a checkpoint and a read.

On its own an Append costs a write transaction, a checkpoint covering it (head read, signature,
insert) and a read of its inclusion proof. Calls that arrive while a group is being written
wait for the next one, which a single writer task writes for all of them: one `append` of
their events, one checkpoint covering every one, and one read of all their proofs. A group in
which an event id is stored already with other content is redone call by call, so only the
call that conflicts gets ALREADY_EXISTS. A caller that stops waiting (cancelled, past its
deadline) does not withdraw its event: an Append is idempotent on its event id, so a retry
finds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from centrum.audit.v1 import audit_pb2
from centrum.services.audit.log import AppendOutcome, EventConflict, SqlAuditLog, StoredCheckpoint
from centrum.services.audit.signing import Checkpointer

__all__ = ["AppendGroups", "Appended"]

_Waiting = tuple[audit_pb2.AuditEvent, asyncio.Future["Appended"]]


@dataclass(frozen=True, slots=True)
class Appended:
    """Where one event ended up: its outcome, a checkpoint covering it and its audit path in
    the tree of that checkpoint's size."""

    outcome: AppendOutcome
    checkpoint: StoredCheckpoint
    inclusion_proof: list[bytes]


class AppendGroups:
    """Appends single events in groups of whatever arrived while the previous group was written."""

    def __init__(
        self, log: SqlAuditLog, checkpointer: Checkpointer, *, max_group: int = 1000
    ) -> None:
        """`max_group`: most events written in one group."""
        self._log = log
        self._checkpointer = checkpointer
        self._max_group = max_group
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def append(self, event: audit_pb2.AuditEvent) -> Appended:
        """Appends `event` (strictly: another event stored under its id raises
        :class:`EventConflict`) with the next group."""
        done: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, done))
        if self._writer is None or self._writer.done():
            # The writer runs apart from the callers, so a cancelled caller stops no group.
            self._writer = asyncio.create_task(self._write_groups(), name="audit-append-groups")
        return await done

    async def _write_groups(self) -> None:
        while self._waiting:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
            try:
                await self._write(group)
            except Exception as exc:  # the store failed: each caller of the group hears why
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)

    async def _write(self, group: list[_Waiting]) -> None:
        for (_, done), result in zip(group, await self._place([e for e, _ in group]), strict=True):
            if done.done():
                continue
            if isinstance(result, EventConflict):
                done.set_exception(result)
            else:
                done.set_result(result)

    async def _place(self, events: list[audit_pb2.AuditEvent]) -> list[Appended | EventConflict]:
        """Appends `events` (one by one if any conflicts), then reads one checkpoint covering
        them all and their proofs in its tree."""
        try:
            outcomes: list[AppendOutcome | EventConflict] = list(
                await self._log.append(events, strict=True)
            )
        except EventConflict:
            if len(events) == 1:
                raise
            outcomes = [await self._alone(event) for event in events]
        written = [outcome.index for outcome in outcomes if isinstance(outcome, AppendOutcome)]
        if not written:
            return [outcome for outcome in outcomes if isinstance(outcome, EventConflict)]
        checkpoint = await self._checkpointer.issue()
        proofs = iter(await self._log.inclusion_proofs(written, checkpoint.tree_size))
        return [
            outcome
            if isinstance(outcome, EventConflict)
            else Appended(outcome, checkpoint, next(proofs))
            for outcome in outcomes
        ]

    async def _alone(self, event: audit_pb2.AuditEvent) -> AppendOutcome | EventConflict:
        try:
            (outcome,) = await self._log.append([event], strict=True)
        except EventConflict as conflict:
            return conflict
        return outcome
