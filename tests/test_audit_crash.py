"""kill -9 amid a stream of appends: every acknowledged event survives and the tree verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable

import grpc

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.sdk import connect
from centrum.services.audit.log import SqlAuditLog
from centrum.services.audit.verify import verify_log
from centrum.services.db import create_engine
from harness.centrum import ServeProcess
from harness.tokens import TokenMint

SCOPES = ("audit.write", "audit.read")


def test_kill_9_during_appends_keeps_every_acknowledged_event(
    serve_process: Callable[..., ServeProcess], token_mint: TokenMint
) -> None:
    """Appends acknowledged before a SIGKILL are all in the log afterwards, and it verifies."""
    server = serve_process(echo_service=True, jwks=[token_mint.jwk])
    token = token_mint.token(subject="crash", tenant="acme", scopes=SCOPES)
    acknowledged: list[str] = []
    enough = threading.Event()

    def append_until_killed() -> None:
        with connect(server.target, token=token, retries=False) as client:
            for i in range(100_000):
                event_id = f"crash-{i}"
                event = audit_pb2.AuditEvent(
                    event_id=event_id,
                    category="test",
                    action="append",
                    outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
                )
                try:
                    client.audit.Append(audit_service_pb2.AppendRequest(event=event), timeout=10)
                except grpc.RpcError:
                    return  # the server died under us: this one was never acknowledged
                acknowledged.append(event_id)
                if len(acknowledged) >= 40:
                    enough.set()

    writer = threading.Thread(target=append_until_killed)
    writer.start()
    assert enough.wait(timeout=60), "appends did not get going"
    os.kill(server.process.popen.pid, signal.SIGKILL)
    writer.join(timeout=30)
    assert server.process.popen.wait(timeout=10) == -signal.SIGKILL

    async def inspect() -> tuple[set[str], bool, int]:
        engine = create_engine(f"sqlite+aiosqlite:///{server.data_dir / 'centrum.db'}")
        log = SqlAuditLog(engine)
        stored = {e.event_id for e in await log.events(0, limit=1_000_000)}
        report = await verify_log(log)
        await engine.dispose()
        return stored, report.ok, report.tree_size

    stored, verified, size = asyncio.run(inspect())
    missing = [event_id for event_id in acknowledged if event_id not in stored]
    assert missing == [], f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert verified and size >= len(acknowledged)
