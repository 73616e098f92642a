"""ConfigService values: revisions, compare-and-set, tombstones, history, rollback, listing.

The CAS and concurrent-writer tests run on real PostgreSQL; the rest on the embedded SQLite.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
import sqlalchemy.exc
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2

from centrum.config.v1 import config_service_pb2 as pb
from centrum.interceptors.errors import Unavailable
from centrum.sdk import aio
from centrum.server import CentrumApp
from centrum.services.config.values import KeyFilter, ValueStore
from centrum.services.db import create_engine, database_error, migrate, outage_message
from harness.centrum import StartCentrum
from harness.echo_client import detail
from harness.tokens import TokenMint

CONFIG_SCOPES = ("config.read", "config.write")


def connect(app: CentrumApp, token: str) -> aio.AsyncClient:
    """An SDK client to `app` presenting `token`."""
    return aio.connect(f"127.0.0.1:{app.port}", token=token)


def number(value: float) -> struct_pb2.Value:
    """A protobuf Value holding a number."""
    return struct_pb2.Value(number_value=value)


async def _error(call: Any) -> Any:
    with pytest.raises(grpc.RpcError) as failure:
        await call
    return failure.value


async def test_set_get_and_read_at_a_revision(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Each write gets a new revision; reads return the latest or the value at a revision."""
    app = await start_centrum()
    async with connect(app, token_mint.token(subject="ann", scopes=CONFIG_SCOPES)) as client:
        first = await client.config.SetValue(
            pb.SetValueRequest(
                environment="prod", key="pay/limit", value=number(1), description="d"
            )
        )
        second = await client.config.SetValue(
            pb.SetValueRequest(environment="prod", key="pay/limit", value=number(2))
        )
        latest = await client.config.GetValue(
            pb.GetValueRequest(environment="prod", key="pay/limit")
        )
        old = await client.config.GetValue(
            pb.GetValueRequest(environment="prod", key="pay/limit", revision=first.value.revision)
        )
    assert second.value.revision > first.value.revision and second.previous_revision == 1
    assert latest.value.value.number_value == 2 and latest.value.version == 2
    assert latest.value.description == "d"  # kept when the write gives none
    assert latest.value.create_revision == first.value.revision
    assert latest.value.updated_by == "ann" and latest.current_revision == second.value.revision
    assert old.value.value.number_value == 1


async def test_cas_conflict_is_aborted_with_the_current_revision(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str
) -> None:
    """A stale expected_revision is ABORTED, REVISION_MISMATCH naming the current revision."""
    app = await start_centrum(database_url=postgres_url)
    async with connect(app, token_mint.token(tenant="cas", scopes=CONFIG_SCOPES)) as client:
        first = await client.config.SetValue(
            pb.SetValueRequest(environment="prod", key="cas/k", value=number(1))
        )
        second = await client.config.SetValue(
            pb.SetValueRequest(
                environment="prod",
                key="cas/k",
                value=number(2),
                expected_revision=first.value.revision,
            )
        )
        error = await _error(
            client.config.SetValue(
                pb.SetValueRequest(
                    environment="prod",
                    key="cas/k",
                    value=number(3),
                    expected_revision=first.value.revision,
                )
            )
        )
        delete_error = await _error(
            client.config.DeleteValue(
                pb.DeleteValueRequest(
                    environment="prod", key="cas/k", expected_revision=first.value.revision
                )
            )
        )
    assert error.code() == grpc.StatusCode.ABORTED
    info = detail(error, error_details_pb2.ErrorInfo)
    assert info.reason == "REVISION_MISMATCH"
    assert info.metadata["current_revision"] == str(second.value.revision)
    assert delete_error.code() == grpc.StatusCode.ABORTED


async def test_concurrent_cas_writers_exactly_one_wins(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str
) -> None:
    """Ten writers racing on one expected revision: one succeeds, nine are ABORTED."""
    app = await start_centrum(database_url=postgres_url)
    async with connect(app, token_mint.token(tenant="race", scopes=CONFIG_SCOPES)) as client:
        base = await client.config.SetValue(
            pb.SetValueRequest(environment="prod", key="race/k", value=number(0))
        )
        results = await asyncio.gather(
            *(
                client.config.SetValue(
                    pb.SetValueRequest(
                        environment="prod",
                        key="race/k",
                        value=number(i),
                        expected_revision=base.value.revision,
                    )
                )
                for i in range(10)
            ),
            return_exceptions=True,
        )
    codes = [r.code() if isinstance(r, grpc.RpcError) else "OK" for r in results]
    assert codes.count("OK") == 1
    assert codes.count(grpc.StatusCode.ABORTED) == 9


async def test_create_only_refuses_an_existing_key(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """create_only succeeds once, then ALREADY_EXISTS; after a delete it succeeds again."""
    app = await start_centrum()
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        request = pb.SetValueRequest(environment="e", key="k", value=number(1), create_only=True)
        created = await client.config.SetValue(request)
        error = await _error(client.config.SetValue(request))
        await client.config.DeleteValue(pb.DeleteValueRequest(environment="e", key="k"))
        again = await client.config.SetValue(request)
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert again.value.create_revision > created.value.create_revision
    assert again.value.version == 1


async def test_delete_writes_a_tombstone_and_keeps_history(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A deleted key is NOT_FOUND, its history lists the tombstone, allow_missing is a no-op."""
    app = await start_centrum()
    async with connect(app, token_mint.token(subject="bo", scopes=CONFIG_SCOPES)) as client:
        put = await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="gone", value=number(1))
        )
        deleted = await client.config.DeleteValue(
            pb.DeleteValueRequest(environment="e", key="gone", reason="TICKET-1")
        )
        missing = await _error(
            client.config.GetValue(pb.GetValueRequest(environment="e", key="gone"))
        )
        again = await _error(
            client.config.DeleteValue(pb.DeleteValueRequest(environment="e", key="gone"))
        )
        tolerated = await client.config.DeleteValue(
            pb.DeleteValueRequest(environment="e", key="gone", allow_missing=True)
        )
        history = await client.config.GetHistory(pb.GetHistoryRequest(environment="e", key="gone"))
        at_put = await client.config.GetValue(
            pb.GetValueRequest(environment="e", key="gone", revision=put.value.revision)
        )
    assert deleted.previous_revision == put.value.revision
    assert missing.code() == again.code() == grpc.StatusCode.NOT_FOUND
    assert tolerated.revision == 0
    assert [c.type for c in history.changes] == [
        pb.CONFIG_CHANGE_TYPE_DELETE,
        pb.CONFIG_CHANGE_TYPE_PUT,
    ]
    assert history.changes[0].reason == "TICKET-1" and history.changes[0].actor == "bo"
    assert at_put.value.value.number_value == 1


async def test_rollback_restores_an_old_value_as_a_new_revision(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Rollback writes the old value and description again; a revision before the key fails."""
    app = await start_centrum()
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        first = await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="r", value=number(1), description="one")
        )
        await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="r", value=number(2), description="two")
        )
        rolled = await client.config.Rollback(
            pb.RollbackRequest(environment="e", key="r", revision=first.value.revision)
        )
        history = await client.config.GetHistory(pb.GetHistoryRequest(environment="e", key="r"))
        before = await _error(
            client.config.Rollback(
                pb.RollbackRequest(environment="e", key="r", revision=first.value.revision - 1)
            )
            if first.value.revision > 1
            else client.config.Rollback(pb.RollbackRequest(environment="e", key="nope", revision=1))
        )
    assert rolled.value.value.number_value == 1 and rolled.value.description == "one"
    assert rolled.restored_revision == first.value.revision
    assert rolled.value.version == 3
    assert history.changes[0].rollback_revision == first.value.revision
    assert before.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_list_values_by_prefix_pages_at_one_revision(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Pages follow key order under the prefix and ignore writes made between pages."""
    app = await start_centrum()
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        for key in ("a/1", "a/2", "a/3", "a_x", "b/1"):
            await client.config.SetValue(
                pb.SetValueRequest(environment="e", key=key, value=number(1))
            )
        await client.config.DeleteValue(pb.DeleteValueRequest(environment="e", key="a/2"))
        page = await client.config.ListValues(
            pb.ListValuesRequest(environment="e", prefix="a/", page_size=1)
        )
        await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="a/15", value=number(1))
        )
        rest = await client.config.ListValues(
            pb.ListValuesRequest(
                environment="e", prefix="a/", page_size=1, page_token=page.next_page_token
            )
        )
        bad = await _error(
            client.config.ListValues(
                pb.ListValuesRequest(environment="e", prefix="b/", page_token=page.next_page_token)
            )
        )
    assert [v.key for v in page.values] == ["a/1"] and page.next_page_token
    assert [v.key for v in rest.values] == ["a/3"] and rest.revision == page.revision
    assert not rest.next_page_token
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_invalid_requests_list_their_field_violations(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A bad key, a missing value and create_only with expected_revision are INVALID_ARGUMENT."""
    app = await start_centrum()
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        error = await _error(
            client.config.SetValue(
                pb.SetValueRequest(
                    environment="", key="bad key", create_only=True, expected_revision=3
                )
            )
        )
    fields = {v.field for v in detail(error, error_details_pb2.BadRequest).field_violations}
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fields == {"environment", "key", "value", "create_only"}


async def test_tenants_never_see_each_other(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Another tenant's key is NOT_FOUND and absent from listings."""
    app = await start_centrum()
    async with connect(app, token_mint.token(tenant="one", scopes=CONFIG_SCOPES)) as one:
        await one.config.SetValue(pb.SetValueRequest(environment="e", key="k", value=number(1)))
    async with connect(app, token_mint.token(tenant="two", scopes=CONFIG_SCOPES)) as two:
        error = await _error(two.config.GetValue(pb.GetValueRequest(environment="e", key="k")))
        listing = await two.config.ListValues(pb.ListValuesRequest(environment="e"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert not listing.values


async def test_reads_need_the_read_scope(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A token with config.read only may read but not write."""
    app = await start_centrum()
    async with connect(app, token_mint.token(scopes=["config.read"])) as client:
        error = await _error(
            client.config.SetValue(pb.SetValueRequest(environment="e", key="k", value=number(1)))
        )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_only_an_unreachable_database_is_reported_as_unavailable(postgres_url: str) -> None:
    """UNAVAILABLE tells a caller to retry, so it is kept for a database that is away or busy.
    A statement PostgreSQL refuses (here a NUL in a key, which the chain's validation keeps
    callers from sending) fails again on every retry: the store lets the driver's error through,
    and the error mapper answers it INTERNAL with an error id."""
    key = KeyFilter("t", "e", "a\x00b")
    await asyncio.to_thread(migrate, postgres_url)
    engine = create_engine(postgres_url)
    try:
        with pytest.raises(sqlalchemy.exc.DataError) as refused:
            await ValueStore(engine).get(key)
    finally:
        await engine.dispose()
    assert database_error(refused.value) is None
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/centrum")
    try:
        with pytest.raises(Unavailable) as away:
            await ValueStore(unreachable).get(key)
    finally:
        await unreachable.dispose()
    assert away.value.retry_after_s is not None


async def test_an_outage_message_leaves_out_the_statement_and_its_parameters(
    postgres_url: str,
) -> None:
    """SQLAlchemy's message of a failed statement repeats the statement and its parameters,
    which may hold user data; what the services log and pass on is the driver's own words."""
    engine = create_engine(postgres_url)
    try:
        with pytest.raises(sqlalchemy.exc.DataError) as refused:
            async with engine.connect() as connection:
                await connection.execute(
                    sqlalchemy.text("SELECT CAST(:value AS text)"), {"value": "user-data\x00"}
                )
    finally:
        await engine.dispose()
    assert "user-data" in str(refused.value)
    message = outage_message(refused.value)
    assert "user-data" not in message and "SELECT" not in message
    assert "NUL" in message
    assert outage_message(ConnectionRefusedError("refused")) == "refused"
