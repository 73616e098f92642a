"""The AuditService over gRPC: appends with checkpoints and proofs, reads, tenancy, tails,
exports, append-only triggers, rollback/fork detection in the SDK, and replicas on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.sdk import aio as sdk_aio
from centrum.sdk import audit as sdk_audit
from centrum.sdk.errors import CentrumError
from centrum.server import CentrumApp
from centrum.services.audit.log import SqlAuditLog
from centrum.services.audit.verify import verify_log
from centrum.services.db import create_engine
from harness.centrum import StartCentrum, bearer
from harness.tokens import TokenMint

SCOPES = ("audit.write", "audit.read", "audit.admin")


def event(event_id: str, **fields: object) -> audit_pb2.AuditEvent:
    """A valid event; fields override the defaults."""
    built = audit_pb2.AuditEvent(
        event_id=event_id,
        category="financial",
        action="payment.refund",
        outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
    )
    for name, value in fields.items():
        if isinstance(value, str | int):
            setattr(built, name, value)
        else:
            getattr(built, name).CopyFrom(value)
    return built


def client(app: CentrumApp, mint: TokenMint, tenant: str = "acme") -> sdk_aio.AsyncClient:
    """An SDK client of `tenant` with every audit scope."""
    return sdk_aio.connect(
        f"127.0.0.1:{app.port}", token=mint.token(subject="writer", tenant=tenant, scopes=SCOPES)
    )


def stream_auth(mint: TokenMint, tenant: str = "acme") -> tuple[tuple[str, str], ...]:
    """Call metadata for server-streaming calls, which the aio SDK sends without credentials."""
    return bearer(mint.token(subject="writer", tenant=tenant, scopes=SCOPES))


async def verifier_for(stub: object) -> sdk_audit.LogVerifier:
    """A LogVerifier pinned to the log's origin and keys (trust on first use)."""
    info = await stub.GetLogInfo(audit_service_pb2.GetLogInfoRequest())  # type: ignore[attr-defined]
    return sdk_audit.LogVerifier(info.origin, [k.verifier_key for k in info.public_keys])


async def test_append_batch_returns_indices_checkpoint_and_verifiable_proofs(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """AppendBatch returns dense indices and a signed checkpoint; each proof verifies in the SDK."""
    async with client(centrum, token_mint) as c:
        verifier = await verifier_for(c.audit)
        money = audit_pb2.Financial(transaction_id="tx-1", amount="12.50", currency="EUR")
        response = await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(
                events=[event(f"b-{i}", financial=money) for i in range(5)],
                include_inclusion_proofs=True,
            )
        )
        indices = [r.index for r in response.results]
        assert indices == list(range(indices[0], indices[0] + 5))
        checkpoint = verifier.advance(response.checkpoint.note, [])
        assert checkpoint.tree_size >= indices[-1] + 1
        for result in response.results:
            sdk_audit.verify_inclusion(
                result.leaf_hash,
                result.index,
                checkpoint.tree_size,
                list(result.inclusion_proof.hashes),
                checkpoint.root_hash,
            )
        got = await c.audit.GetEntry(
            audit_service_pb2.GetEntryRequest(
                index=indices[2], include_leaf_value=True, include_inclusion_proof=True
            )
        )
        await verifier.refresh(c.audit)
        proof = await c.audit.GetInclusionProof(
            audit_service_pb2.GetInclusionProofRequest(
                index=indices[2],
                tree_size=verifier.latest.tree_size,  # type: ignore[union-attr]
            )
        )
        verifier.verify_entry(got.entry, proof.inclusion_proof)
        stored = audit_pb2.AuditEvent.FromString(got.entry.leaf_value)
        assert stored.financial.amount == "12.50" and stored.submitter.id == "writer"
        assert stored.actor.tenant == "acme" and stored.HasField("integrated_time")


async def test_append_is_idempotent_and_refuses_a_conflicting_event_id(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """The same event twice is deduplicated to one index; other content under its id conflicts."""
    async with client(centrum, token_mint) as c:
        first = await c.audit.Append(audit_service_pb2.AppendRequest(event=event("same")))
        again = await c.audit.Append(audit_service_pb2.AppendRequest(event=event("same")))
        assert (again.index, again.deduplicated) == (first.index, True)
        assert again.leaf_hash == first.leaf_hash
        with pytest.raises(CentrumError) as failure:
            await c.audit.Append(
                audit_service_pb2.AppendRequest(event=event("same", action="payment.capture"))
            )
    assert failure.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert failure.value.reason == "EVENT_ID_CONFLICT"


async def test_bad_appends_are_invalid_argument(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """Missing outcome, a float-like amount, duplicate ids in a batch and another tenant fail."""
    async with client(centrum, token_mint) as c:
        bad = event("x", outcome=0, financial=audit_pb2.Financial(transaction_id="t", amount="1e3"))
        with pytest.raises(CentrumError) as failure:
            await c.audit.Append(audit_service_pb2.AppendRequest(event=bad))
        fields = {v.field for v in failure.value.field_violations}
        assert fields == {"event.outcome", "event.financial.amount"}
        with pytest.raises(CentrumError) as failure:
            await c.audit.AppendBatch(
                audit_service_pb2.AppendBatchRequest(events=[event("d"), event("d")])
            )
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        other = event("t", actor=audit_pb2.Actor(tenant="globex"))
        with pytest.raises(CentrumError) as failure:
            await c.audit.Append(audit_service_pb2.AppendRequest(event=other))
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(CentrumError) as failure:
            await c.audit.GetInclusionProof(
                audit_service_pb2.GetInclusionProofRequest(index=5, tree_size=5)
            )
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_reads_are_confined_to_the_callers_tenant(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Another tenant's index is NOT_FOUND for GetEntry and proofs, and absent from Query."""
    async with (
        client(centrum, token_mint, "acme") as acme,
        client(centrum, token_mint, "globex") as globex,
    ):
        mine = await acme.audit.Append(audit_service_pb2.AppendRequest(event=event("secret")))
        for call in (
            globex.audit.GetEntry(audit_service_pb2.GetEntryRequest(index=mine.index)),
            globex.audit.GetInclusionProof(
                audit_service_pb2.GetInclusionProofRequest(index=mine.index)
            ),
        ):
            with pytest.raises(CentrumError) as failure:
                await call
            assert failure.value.code() == grpc.StatusCode.NOT_FOUND
        page = await globex.audit.Query(audit_service_pb2.QueryRequest())
        assert all(e.event.actor.tenant == "globex" for e in page.entries)
        assert mine.index not in [e.index for e in page.entries]


async def test_query_filters_and_pages_without_shifting(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Pages of a filtered query cover every match once, even with appends between pages."""
    async with client(centrum, token_mint) as c:
        correlation = audit_pb2.Correlation(correlation_id="order-7")
        await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(
                events=[event(f"q-{i}", correlation=correlation) for i in range(7)]
                + [event("noise", action="user.login")]
            )
        )
        request = audit_service_pb2.QueryRequest(
            filter=audit_pb2.AuditFilter(correlation_id="order-7"),
            page_size=3,
            order=audit_service_pb2.SORT_ORDER_ASCENDING,
        )
        seen: list[str] = []
        while True:
            page = await c.audit.Query(request)
            seen += [e.event.event_id for e in page.entries]
            await c.audit.Append(
                audit_service_pb2.AppendRequest(
                    event=event(f"late-{len(seen)}", correlation=correlation)
                )
            )
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
        assert seen == [f"q-{i}" for i in range(7)]
        request.filter.action = "other"
        with pytest.raises(CentrumError) as failure:
            await c.audit.Query(request)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_tail_streams_existing_then_new_entries_and_resumes(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Tail from an index delivers old entries, then new ones; next_index resumes it."""
    async with client(centrum, token_mint) as c:
        first = await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(events=[event("t-0"), event("t-1")])
        )
        start = first.results[0].index
        stream = c.audit.Tail(
            audit_service_pb2.TailRequest(start_index=start), metadata=stream_auth(token_mint)
        )
        received: list[str] = []
        resume = 0
        async for item in stream:
            if item.HasField("entry"):
                received.append(item.entry.event.event_id)
                resume = item.next_index
            if received == ["t-0", "t-1"]:
                await c.audit.Append(audit_service_pb2.AppendRequest(event=event("t-2")))
            if len(received) == 3:
                stream.cancel()
                break
        assert received == ["t-0", "t-1", "t-2"]
        again = c.audit.Tail(
            audit_service_pb2.TailRequest(start_index=resume - 1), metadata=stream_auth(token_mint)
        )
        async for item in again:
            if item.HasField("entry"):
                assert item.entry.event.event_id == "t-2"
                again.cancel()
                break


async def test_export_to_file_carries_checkpoint_and_verifying_proofs(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """An export file has a header with the checkpoint, entries with proofs, and a trailer."""
    app = await start_centrum(
        audit={"export_dir": tmp_path / "exports"},
        rate_limits={"audit.export": {"disabled": True}},
    )
    async with client(app, token_mint) as c:
        await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(events=[event(f"x-{i}") for i in range(4)])
        )
        items = [
            i
            async for i in c.audit.Export(
                audit_service_pb2.ExportRequest(
                    destination=audit_service_pb2.ExportDestination(
                        file=audit_service_pb2.FileDestination(path="2026/acme.jsonl")
                    )
                ),
                metadata=stream_auth(token_mint),
            )
        ]
        summary = items[-1].summary
        assert summary.entry_count == 4
        with pytest.raises(grpc.RpcError) as failure:
            async for _ in c.audit.Export(
                audit_service_pb2.ExportRequest(
                    destination=audit_service_pb2.ExportDestination(
                        file=audit_service_pb2.FileDestination(path="../escape.jsonl")
                    )
                ),
                metadata=stream_auth(token_mint),
            ):
                pass
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    lines = (tmp_path / "exports" / "2026" / "acme.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    header, trailer = records[0]["header"], records[-1]["trailer"]
    assert trailer["entryCount"] == "4"
    keys = [k["verifierKey"] for k in header["publicKeys"]]
    verifier = sdk_audit.LogVerifier(header["origin"], keys)
    checkpoint = verifier.advance(header["checkpoint"]["note"], [])
    from google.protobuf import json_format

    for record in records[1:-1]:
        exported = json_format.ParseDict(record["entry"], audit_pb2.ExportedEntry())
        verifier.verify_entry(exported.entry, exported.inclusion_proof)
        assert exported.inclusion_proof.tree_size == checkpoint.tree_size


async def test_log_refuses_update_and_delete_but_allows_the_prune(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Triggers refuse UPDATE and DELETE; a prune clears payloads and proofs still verify."""
    async with client(centrum, token_mint) as c:
        batch = await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(events=[event(f"p-{i}") for i in range(16)])
        )
    appended = batch.results[0]
    engine = create_engine(centrum.settings.sqlalchemy_url)
    for statement in (
        "UPDATE audit_entries SET payload = x'00'",
        "UPDATE audit_entries SET leaf_hash = NULL, payload = NULL",
        "DELETE FROM audit_entries",
        "DELETE FROM audit_checkpoints",
        "UPDATE audit_tree_nodes SET hash = x'00'",
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(sa.text(statement))
    log = SqlAuditLog(engine)
    assert await log.prune(before_ns=2**62) >= 1
    await engine.dispose()
    async with client(centrum, token_mint) as c:
        verifier = await verifier_for(c.audit)
        await verifier.refresh(c.audit)
        got = await c.audit.GetEntry(
            audit_service_pb2.GetEntryRequest(
                index=appended.index,
                include_inclusion_proof=True,
                tree_size=verifier.latest.tree_size,  # type: ignore[union-attr]
            )
        )
        assert got.entry.payload_pruned and not got.entry.HasField("event")
        verifier.verify_entry(got.entry, got.inclusion_proof)


async def test_sdk_with_an_old_checkpoint_detects_rewritten_history(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """After the server rewrites or truncates its log, the SDK raises ForkError / RollbackError."""
    async with client(centrum, token_mint) as c:
        await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(events=[event(f"h-{i}") for i in range(6)])
        )
        verifier = await verifier_for(c.audit)
        known = await verifier.refresh(c.audit)
        state = sdk_audit.LogVerifier(verifier.origin, verifier.keys)
        state.latest = known
        _rewrite_history(centrum.settings.data_dir / "centrum.db", keep=known.tree_size - 3)
        await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(events=[event(f"forged-{i}") for i in range(9)])
        )
        with pytest.raises(sdk_audit.ForkError):
            await verifier.refresh(c.audit)
        _rewrite_history(centrum.settings.data_dir / "centrum.db", keep=2)
        await c.audit.Append(audit_service_pb2.AppendRequest(event=event("short")))
        with pytest.raises(sdk_audit.RollbackError):
            await state.refresh(c.audit)


def _rewrite_history(database: Path, keep: int) -> None:
    """What a compromised server would do: drop the triggers and cut the log back to `keep`."""
    from centrum.services.audit import merkle

    with sqlite3.connect(database) as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            if name.startswith("audit_"):
                db.execute(f"DROP TRIGGER {name}")
        leaves = [
            bytes(r[0]) for r in db.execute("SELECT leaf_hash FROM audit_entries ORDER BY idx")
        ]
        compact = merkle.CompactRange()
        compact.extend(leaves[:keep])
        db.execute("DELETE FROM audit_entries WHERE idx >= ?", (keep,))
        db.execute("DELETE FROM audit_tree_nodes WHERE ((idx + 1) << level) > ?", (keep,))
        db.execute("DELETE FROM audit_checkpoints")
        db.execute(
            "UPDATE audit_head SET tree_size = ?, compact_range = ?", (keep, compact.encode())
        )


async def test_two_replicas_on_postgres_append_one_consistent_log(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str
) -> None:
    """Concurrent batches through two servers on one database give one dense, verifying log."""
    apps = [await start_centrum(database_url=postgres_url) for _ in range(2)]
    clients = [client(app, token_mint, tenant="replicas") for app in apps]
    verifier = await verifier_for(clients[0].audit)
    await verifier.refresh(clients[0].audit)

    async def writer(n: int) -> list[int]:
        response = await clients[n % 2].audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(
                events=[event(f"r-{n}-{i}") for i in range(10)], known_tree_size=0
            )
        )
        return [r.index for r in response.results]

    indices = [i for batch in await asyncio.gather(*(writer(n) for n in range(12))) for i in batch]
    assert len(set(indices)) == 120
    for c in clients:
        verifier.keys = (await verifier_for(c.audit)).keys
        await verifier.refresh(c.audit)
    engine = create_engine(apps[0].settings.sqlalchemy_url)
    report = await verify_log(SqlAuditLog(engine))
    await engine.dispose()
    assert report.ok, report.problems
    for c in clients:
        await c.close()
