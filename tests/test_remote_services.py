"""A process without Auth or Audit reaches them remotely, through the SDK.

Process A runs Auth and Audit, process B runs Config and Storage with `remote.auth` and
`remote.audit` pointing at A, each on a database of its own, so whatever B knows of A's keys and
whatever reaches A's audit log travelled over gRPC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
import pytest
from google.protobuf import struct_pb2
from pydantic import SecretStr, ValidationError

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2, principal_pb2
from centrum.config.v1 import config_service_pb2
from centrum.sdk import CentrumError, ClientCredentials, aio
from centrum.server import Settings
from centrum.server.settings import RemoteSettings, UnsafeSettingsError
from harness.centrum import ServeProcess, StartCentrum, bootstrap_credentials
from harness.tokens import TokenMint


def _bootstrap_credentials(server: ServeProcess) -> ClientCredentials:
    """The admin credentials the server wrote into its data directory on first start."""
    fields = bootstrap_credentials(server.data_dir)
    return ClientCredentials(client_id=fields["client_id"], client_secret=fields["client_secret"])


async def _relay_account(client: aio.AsyncClient) -> tuple[str, str]:
    """Creates a service account that may relay audit events; returns its id and secret."""
    role = await client.auth_admin.CreateRole(
        admin_pb.CreateRoleRequest(
            role=principal_pb2.Role(name="relay", scopes=["audit.write", "audit.relay"])
        )
    )
    created = await client.auth_admin.CreateServiceAccount(
        admin_pb.CreateServiceAccountRequest(
            service_account=principal_pb2.ServiceAccount(display_name="config-storage-relay"),
            role_ids=[role.role.id],
        )
    )
    return created.service_account.client_id, created.client_secret


def _relaying(
    services: str, auth: str, audit: str, relay_id: str, relay_secret: str
) -> dict[str, str]:
    """The environment of a process running `services` with Auth and Audit remote."""
    return {
        "CENTRUM_SERVICES": services,
        "CENTRUM_REMOTE__AUTH": auth,
        "CENTRUM_REMOTE__AUDIT": audit,
        "CENTRUM_REMOTE__CLIENT_ID": relay_id,
        "CENTRUM_REMOTE__CLIENT_SECRET": relay_secret,
    }


async def _set_value_events(client: aio.AsyncClient) -> int:
    """How many successful SetValue events A's audit log holds for the caller's tenant."""
    response = await client.audit.Query(
        audit_service_pb2.QueryRequest(
            filter=audit_pb2.AuditFilter(
                category="centrum.config.v1.ConfigService",
                action="SetValue",
                outcomes=[audit_pb2.AUDIT_OUTCOME_SUCCESS],
            )
        )
    )
    return len(response.entries)


async def test_tokens_and_audit_events_cross_to_remote_services(
    serve_process: Callable[..., ServeProcess],
) -> None:
    """B accepts A's tokens, refuses others, and its calls' audit events land in A's log,
    also those made while A was down (from B's spool once A is back)."""
    a = serve_process(env={"CENTRUM_SERVICES": '["auth", "audit"]'})
    async with aio.connect(a.target, client_credentials=_bootstrap_credentials(a)) as on_a:
        relay_id, relay_secret = await _relay_account(on_a)
        token = (
            await on_a.auth.Token(
                auth_service_pb2.TokenRequest(
                    client_id=_bootstrap_credentials(a).client_id,
                    client_secret=_bootstrap_credentials(a).client_secret,
                )
            )
        ).tokens.access_token
        b = serve_process(
            env=_relaying('["config", "storage"]', a.target, a.target, relay_id, relay_secret)
        )
        async with aio.connect(b.target, token=token) as on_b:
            request = config_service_pb2.SetValueRequest(
                environment="production",
                key="remote/first",
                value=struct_pb2.Value(number_value=1),
            )
            await on_b.config.SetValue(request)
            async with aio.connect(b.target, token=token[:-4] + "AAAA") as forged:
                with pytest.raises(CentrumError) as refused:
                    await forged.config.SetValue(request)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

            async def logged(count: int) -> bool:
                return await _set_value_events(on_a) == count

            await _poll(lambda: logged(1), "B's first SetValue event in A's log")

            a.process.stop()
            second = config_service_pb2.SetValueRequest(
                environment="production",
                key="remote/second",
                value=struct_pb2.Value(number_value=2),
            )
            await on_b.config.SetValue(second)  # keys cached, event spooled while A is down
            a.process.start()
            await _poll(lambda: logged(2), "the event spooled while A was down, in A's log")


async def test_audit_relay_takes_its_tokens_from_the_central_auth(
    serve_process: Callable[..., ServeProcess],
) -> None:
    """Auth, Audit and Config in three processes: B relays to C with tokens from A, whom C
    trusts, although C itself issues none."""
    a = serve_process(env={"CENTRUM_SERVICES": '["auth"]'})
    admin = _bootstrap_credentials(a)
    async with aio.connect(a.target, client_credentials=admin) as on_a:
        relay_id, relay_secret = await _relay_account(on_a)
    c = serve_process(env={"CENTRUM_SERVICES": '["audit"]', "CENTRUM_REMOTE__AUTH": a.target})
    b = serve_process(env=_relaying('["config"]', a.target, c.target, relay_id, relay_secret))
    async with (
        aio.connect(b.target, client_credentials=admin, token_target=a.target) as on_b,
        aio.connect(c.target, client_credentials=admin, token_target=a.target) as on_c,
    ):
        await on_b.config.SetValue(
            config_service_pb2.SetValueRequest(
                environment="production", key="relayed", value=struct_pb2.Value(number_value=1)
            )
        )

        async def logged() -> bool:
            return await _set_value_events(on_c) == 1

        await _poll(logged, "B's SetValue event in C's log, relayed with A's token")
        with pytest.raises(CentrumError) as no_auth_here:
            await on_c.auth.Token(
                auth_service_pb2.TokenRequest(
                    client_id=admin.client_id, client_secret=admin.client_secret
                )
            )
        assert no_auth_here.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def _poll(condition: Callable[[], Awaitable[bool]], what: str, within_s: float = 30) -> None:
    """Polls an async condition until true, failing with `what` at the deadline."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        try:
            if await condition():
                return
        except (CentrumError, grpc.RpcError):
            pass  # the remote is still starting
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {within_s:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)


def test_unusable_remote_settings_refuse_to_start() -> None:
    """A remote for a service run locally, a relay without credentials, or plaintext to a
    non-loopback remote are refused at start-up with the reason."""
    with pytest.raises(ValidationError, match="runs audit itself"):
        Settings(
            remote=RemoteSettings(audit="127.0.0.1:1", client_id="x", client_secret=SecretStr("y"))
        )
    with pytest.raises(ValidationError, match="client_id"):
        Settings(services=("config",), remote=RemoteSettings(audit="127.0.0.1:1"))
    with pytest.raises(ValidationError, match="plaintext"):
        Settings(services=("config",), remote=RemoteSettings(auth="auth.internal:50051"))
    assert Settings(services=("config",), remote=RemoteSettings(auth="127.0.0.1:1")).remote.auth


async def test_a_process_without_auth_or_remote_auth_refuses_to_start(
    start_centrum: StartCentrum,
) -> None:
    """Without Auth and without remote.auth no token could be verified: start-up fails."""
    with pytest.raises(UnsafeSettingsError, match=r"remote\.auth"):
        await start_centrum(services=("config",), trust_test_keys=False)


async def test_only_operator_relays_append_for_other_tenants(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """`audit.relay` lets an operator-tenant principal append another tenant's event; the same
    scope in any other tenant, or a relay without it, is refused."""
    app = await start_centrum()
    event = audit_pb2.AuditEvent(
        event_id="relayed-1",
        action="orders.place",
        category="orders",
        outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
        actor=audit_pb2.Actor(principal_id="u1", tenant="acme"),
    )
    cases = [
        ("default", ["audit.relay"], None),
        ("globex", ["audit.relay"], grpc.StatusCode.PERMISSION_DENIED),
        ("default", ["audit.write"], grpc.StatusCode.PERMISSION_DENIED),
    ]
    for tenant, scopes, expected in cases:
        token = token_mint.token(tenant=tenant, scopes=[*scopes, "audit.write"])
        async with aio.connect(f"127.0.0.1:{app.port}", token=token) as client:
            request = audit_service_pb2.AppendBatchRequest(events=[event])
            if expected is None:
                response = await client.audit.AppendBatch(request)
                assert len(response.results) == 1
            else:
                with pytest.raises(CentrumError) as refused:
                    await client.audit.AppendBatch(request)
                assert refused.value.code() == expected, (tenant, scopes)


def test_a_spool_batch_is_split_into_calls_the_remote_accepts() -> None:
    """Records go in order into calls of at most N events and M bytes; a record larger than M
    travels alone; nothing is dropped or reordered."""
    from centrum.server.remote import calls_of

    records = [bytes([i]) * size for i, size in enumerate([3, 3, 3, 9, 1, 1, 1, 1])]
    calls = calls_of(records, max_events=3, max_bytes=8)
    assert [b"".join(call) for call in calls] == [
        records[0] + records[1],
        records[2],
        records[3],
        records[4] + records[5] + records[6],
        records[7],
    ]
    assert [r for call in calls for r in call] == records
    assert calls_of([], max_events=3, max_bytes=8) == []
