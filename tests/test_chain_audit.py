"""Audit in the chain: one event per audited call, redacted payloads, nothing lost on kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import psycopg
import pytest
import structlog
from google.protobuf import json_format

from centrum.audit.v1 import audit_pb2
from centrum.auth.v1 import auth_admin_service_pb2
from centrum.interceptors.redaction import redact
from centrum.interceptors.request_context import time_ordered_id
from centrum.server import CentrumApp
from centrum.services.audit.log import SqlAuditLog
from centrum.services.db import create_engine
from harness.backends import libpq_url
from harness.centrum import ServeProcess, bearer, channel
from harness.echo_client import SHAPES, EchoClient
from harness.tokens import TokenMint

PLANTED = "planted-secret-9f8e7d"


async def _events(app: CentrumApp) -> list[audit_pb2.AuditEvent]:
    await app.audit_pipeline.drain()
    return await app.audit_log.events(0, limit=10_000)


async def test_each_audited_shape_records_one_event(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """Every audited RPC shape leaves exactly one event; the NONE-level public RPC leaves none."""
    async with channel(centrum) as ch:
        client = EchoClient(ch)
        for shape in SHAPES:
            await client.shape(
                shape, (*bearer(token_mint.token(subject="auditor")), ("x-request-id", shape))
            )
        await client.stub.PublicEcho(client.pb2.PublicEchoRequest(message="x"))
    events = await _events(centrum)
    assert sorted(e.correlation.request_id for e in events) == sorted(SHAPES)
    for event in events:
        assert event.outcome == audit_pb2.AUDIT_OUTCOME_SUCCESS
        assert event.actor.principal_id == "auditor" and event.actor.tenant == "acme"
        assert event.rpc.status_code == 0 and event.rpc.method.startswith(
            "/centrum_test.v1.EchoService/"
        )
        assert event.actor.peer_address.startswith("ipv4:127.0.0.1")
        assert event.HasField("integrated_time")


async def test_denied_calls_are_audited_as_denied(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """A call refused by auth still leaves its event, with outcome DENIED."""
    async with channel(centrum) as ch:
        with pytest.raises(grpc.aio.AioRpcError):
            await EchoClient(ch).unary(bearer(token_mint.token(scopes=["none"])), message="x")
    (event,) = await _events(centrum)
    assert event.outcome == audit_pb2.AUDIT_OUTCOME_DENIED
    assert event.rpc.status_code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert event.rpc.error_reason == "MISSING_SCOPE"


async def test_full_level_records_the_request_redacted(
    centrum: CentrumApp, token_mint: TokenMint
) -> None:
    """At AUDIT_LEVEL_FULL the request is recorded with SECRET and PII fields redacted."""
    async with channel(centrum) as ch:
        await EchoClient(ch).unary(
            bearer(token_mint.token()), message="order-42", secret=PLANTED, email="a@b.c"
        )
    (event,) = await _events(centrum)
    request = json_format.MessageToDict(event.details)["request"]
    assert request == {"message": "order-42", "secret": "[REDACTED]", "email": "[REDACTED]"}
    assert (event.resource.type, event.resource.id) == ("echo", "order-42")


async def test_planted_secret_reaches_no_log_and_no_audit_record(
    centrum: CentrumApp, token_mint: TokenMint, capsys: pytest.CaptureFixture[str]
) -> None:
    """A secret sent in SECRET fields (unary and streamed) is in no log line and no stored byte."""
    with structlog.testing.capture_logs() as logs:
        async with channel(centrum) as ch:
            client = EchoClient(ch)
            await client.unary(bearer(token_mint.token()), message="x", secret=PLANTED)
            await client.client_stream(bearer(token_mint.token()))
            with pytest.raises(grpc.aio.AioRpcError):
                await client.unary(bearer("garbage"), message="x", secret=PLANTED)
    events = await _events(centrum)
    assert len(events) == 3
    assert PLANTED not in repr(logs) and "planted-stream-secret" not in repr(logs)
    captured = capsys.readouterr()
    assert PLANTED not in captured.out + captured.err
    for path in centrum.settings.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PLANTED.encode() not in data and b"planted-stream-secret" not in data, path


@pytest.mark.slow
async def test_kill_9_with_audit_store_down_loses_no_event(
    serve_process: Callable[..., ServeProcess],
    token_mint: TokenMint,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    """Store down, calls flowing, kill -9: after a restart every OK call has exactly one event."""
    import grpc as grpc_sync

    from support import echo

    dbname = f"{postgres_url.rsplit('/', 1)[1]}_kill9"
    admin = libpq_url(postgres_url).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    url = postgres_url.rsplit("/", 1)[0] + "/" + dbname
    env = {"CENTRUM_DATABASE_URL": url}
    data_dir = tmp_path / "kill9"
    server = serve_process(echo_service=True, jwks=[token_mint.jwk], env=env, data_dir=data_dir)

    def block_database(allow: bool) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS {"true" if allow else "false"}'
            )
            if not allow:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (dbname,),
                )

    pb2, pb2_grpc = echo.modules()
    acknowledged: list[str] = []
    block_database(allow=False)
    try:
        with grpc_sync.insecure_channel(server.target) as ch:
            stub = pb2_grpc.EchoServiceStub(ch)
            token = token_mint.token(scopes=["echo.read"], subject="kill9")
            for i in range(5):  # Echo admits a burst of 5 per principal
                request_id = f"kill9-{i}"
                stub.Echo(
                    pb2.EchoRequest(message=request_id),
                    metadata=(("authorization", f"Bearer {token}"), ("x-request-id", request_id)),
                    timeout=10,
                )
                acknowledged.append(request_id)
            os.kill(server.process.popen.pid, signal.SIGKILL)
        assert server.process.popen.wait(timeout=10) == -signal.SIGKILL
    finally:
        block_database(allow=True)
    assert len(acknowledged) == 5
    spool = data_dir / "audit-spool"
    assert any(p.stat().st_size for p in spool.rglob("*") if p.is_file()), "events were not spooled"

    restarted = serve_process(echo_service=True, jwks=[token_mint.jwk], env=env, data_dir=data_dir)
    engine = create_engine(url)
    log = SqlAuditLog(engine)
    deadline = time.monotonic() + 30
    while True:
        ids = [e.correlation.request_id for e in await log.events(0, limit=10_000)]
        if set(acknowledged) <= set(ids) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    await engine.dispose()
    restarted.process.stop()
    for request_id in acknowledged:
        assert ids.count(request_id) == 1, (request_id, ids)


def test_event_ids_are_uuid7_in_time_order() -> None:
    """Event ids key the log's (tenant, event_id) index: ids made in a later millisecond sort
    after earlier ones, so appends touch the index where it ends instead of anywhere."""
    first = time_ordered_id()
    started_ms = time.time_ns() // 1_000_000
    deadline = time.monotonic() + 5
    while time.time_ns() // 1_000_000 == started_ms:
        assert time.monotonic() < deadline, "the clock did not advance"
    later = time_ordered_id()
    assert first < later
    parsed = uuid.UUID(first)
    assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
    assert len({time_ordered_id() for _ in range(10_000)}) == 10_000


def test_a_malformed_well_known_value_is_recorded_field_by_field() -> None:
    """A Duration whose JSON form does not exist (seconds and nanos of opposite signs) reaches
    the audit record as its fields instead of losing the call's event."""
    request = auth_admin_service_pb2.CreateServiceAccountRequest()
    request.service_account.display_name = "ci"
    request.secret_ttl.seconds, request.secret_ttl.nanos = 349, -867
    assert redact(request)["secret_ttl"] == {"seconds": 349, "nanos": -867}
    request.secret_ttl.nanos = 867
    assert redact(request)["secret_ttl"] == "349.000000867s"
