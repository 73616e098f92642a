"""Group commit of the Append RPC: calls waiting together share one transaction, checkpoint and
read; a conflict fails only its own call; a caller that stops waiting withdraws nothing; a
store that is down fails every call of the group."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_audit_service import client, event, verifier_for

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.sdk import audit as sdk_audit
from centrum.server import CentrumApp
from centrum.services.audit.grouping import Appended, AppendGroups
from centrum.services.audit.log import EventConflict, SqlAuditLog
from centrum.services.audit.signing import Checkpointer
from centrum.services.db import BackendUnavailable, create_engine, migrate
from centrum.services.keys import MasterKey
from harness.tokens import TokenMint


def _event(event_id: str, action: str = "append") -> audit_pb2.AuditEvent:
    built = audit_pb2.AuditEvent(event_id=event_id, category="test", action=action)
    built.actor.tenant = "acme"
    return built


def _groups(log: SqlAuditLog, directory: Path) -> AppendGroups:
    master_key = MasterKey.load_or_create(directory / "master.key")
    return AppendGroups(log, Checkpointer(log, master_key, "test.centrum.dev/audit"))


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[SqlAuditLog]:
    """An empty audit log on SQLite."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    yield SqlAuditLog(engine)
    await engine.dispose()


def _verify(placed: Appended) -> None:
    outcome, checkpoint = placed.outcome, placed.checkpoint
    sdk_audit.verify_inclusion(
        outcome.leaf_hash,
        outcome.index,
        checkpoint.tree_size,
        placed.inclusion_proof,
        checkpoint.root_hash,
    )


async def test_calls_waiting_together_are_written_as_one_group(
    log: SqlAuditLog, tmp_path: Path
) -> None:
    """Twenty Appends queued at once get indices 0..19 from one group, share one checkpoint of
    the twenty, and each audit path verifies against its root."""
    groups = _groups(log, tmp_path)
    placed = await asyncio.gather(*(groups.append(_event(f"e{i}")) for i in range(20)))
    assert [p.outcome.index for p in placed] == list(range(20))
    assert {p.checkpoint.tree_size for p in placed} == {20}
    assert [c.tree_size for c in await log.checkpoints()] == [20]
    for one in placed:
        _verify(one)


async def test_a_conflict_fails_only_its_own_call(log: SqlAuditLog, tmp_path: Path) -> None:
    """A group holding an event whose id is stored with other content is redone call by call:
    that call gets EventConflict, the others are appended, and a repeat of the stored event is
    deduplicated to its index."""
    groups = _groups(log, tmp_path)
    taken = await groups.append(_event("taken"))
    a, conflict, again, b = await asyncio.gather(
        groups.append(_event("a")),
        groups.append(_event("taken", action="other")),
        groups.append(_event("taken")),
        groups.append(_event("b")),
        return_exceptions=True,
    )
    assert isinstance(conflict, EventConflict) and conflict.index == taken.outcome.index
    assert isinstance(a, Appended) and isinstance(b, Appended) and isinstance(again, Appended)
    assert (again.outcome.index, again.outcome.deduplicated) == (taken.outcome.index, True)
    assert {a.outcome.index, b.outcome.index} == {1, 2}
    assert await log.size() == 3
    for one in (a, again, b):
        _verify(one)


async def test_a_caller_that_stops_waiting_withdraws_nothing(
    log: SqlAuditLog, tmp_path: Path
) -> None:
    """A caller past its deadline leaves its event to the group, and the group's other calls
    are answered as usual."""
    groups = _groups(log, tmp_path)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            await groups.append(_event("impatient"))
    placed = await asyncio.gather(*(groups.append(_event(f"p{i}")) for i in range(3)))
    assert await log.size() == 4
    assert [e.event_id for e in await log.events(0)] == ["impatient", "p0", "p1", "p2"]
    for one in placed:
        _verify(one)


async def test_a_store_that_is_down_fails_every_call_of_the_group(tmp_path: Path) -> None:
    """With the database unreachable, each waiting call gets BackendUnavailable (which the
    servicer answers UNAVAILABLE with RetryInfo); none waits forever."""
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/centrum")
    try:
        groups = _groups(SqlAuditLog(engine), tmp_path)
        results = await asyncio.gather(
            *(groups.append(_event(f"d{i}")) for i in range(3)), return_exceptions=True
        )
    finally:
        await engine.dispose()
    assert all(isinstance(result, BackendUnavailable) for result in results), results


async def test_concurrent_appends_over_grpc_each_get_a_verifiable_proof(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Twenty-four Appends at once through the server (below its limit of calls in progress):
    distinct, dense indices, and each response's checkpoint is signed by the log and includes
    the event by its proof."""
    async with client(centrum, token_mint) as c:
        verifier = await verifier_for(c.audit)
        responses = await asyncio.gather(
            *(
                c.audit.Append(audit_service_pb2.AppendRequest(event=event(f"g-{i}")))
                for i in range(24)
            )
        )
    indices = sorted(r.index for r in responses)
    assert indices == list(range(indices[0], indices[0] + 24))
    for response in responses:
        checkpoint = verifier.verify_checkpoint(response.checkpoint.note)
        assert response.inclusion_proof.tree_size == checkpoint.tree_size > response.index
        sdk_audit.verify_inclusion(
            response.leaf_hash,
            response.index,
            checkpoint.tree_size,
            list(response.inclusion_proof.hashes),
            checkpoint.root_hash,
        )
