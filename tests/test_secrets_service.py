"""SecretService: versions with check-and-set, deletes, path scopes, secrecy, Vault outages.

Every flow runs on the local store (sealed under the master key) and on OpenBao KV v2.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import structlog
from google.rpc import error_details_pb2
from test_config_values import connect

from centrum.config.v1 import secret_service_pb2 as pb
from centrum.server import CentrumApp
from harness._openbao import configure_engines, dev_server, healthy
from harness.backends import OpenBaoTarget
from harness.centrum import StartCentrum
from harness.echo_client import detail
from harness.tokens import TokenMint

SCOPES = ("secrets.read", "secrets.write")
PLANTED = "planted-5f0c1e9a7d3b-do-not-leak"


async def _error(call: Any) -> Any:
    with pytest.raises(grpc.RpcError) as failure:
        await call
    return failure.value


@pytest.fixture(params=["local", "vault"])
async def secrets_app(
    request: pytest.FixtureRequest, start_centrum: StartCentrum, tmp_path: Path
) -> CentrumApp:
    """A server on the local secret store, or on the session OpenBao."""
    if request.param == "local":
        return await start_centrum()
    bao: OpenBaoTarget = request.getfixturevalue("openbao")
    return await start_centrum(vault_addr=bao.addr, vault_token=bao.token)


async def test_versions_and_check_and_set(secrets_app: CentrumApp, token_mint: TokenMint) -> None:
    """Each put is a new version; CAS conflicts are ABORTED with the current version."""
    token = token_mint.token(tenant=f"t{id(secrets_app)}", subject="sue", scopes=SCOPES)
    async with connect(secrets_app, token) as client:
        one = await client.secrets.PutSecret(
            pb.PutSecretRequest(path="db/main", data={"user": "a"}, create_only=True)
        )
        two = await client.secrets.PutSecret(
            pb.PutSecretRequest(path="db/main", data={"user": "b"}, expected_version=1)
        )
        stale = await _error(
            client.secrets.PutSecret(
                pb.PutSecretRequest(path="db/main", data={"user": "c"}, expected_version=1)
            )
        )
        exists = await _error(
            client.secrets.PutSecret(
                pb.PutSecretRequest(path="db/main", data={"user": "c"}, create_only=True)
            )
        )
        latest = await client.secrets.GetSecret(pb.GetSecretRequest(path="db/main"))
        first = await client.secrets.GetSecret(pb.GetSecretRequest(path="db/main", version=1))
        versions = await client.secrets.ListSecretVersions(
            pb.ListSecretVersionsRequest(path="db/main")
        )
        missing = await _error(client.secrets.GetSecret(pb.GetSecretRequest(path="db/none")))
    assert (one.metadata.version, two.metadata.version) == (1, 2)
    assert stale.code() == grpc.StatusCode.ABORTED
    info = detail(stale, error_details_pb2.ErrorInfo)
    assert (info.reason, info.metadata["current_version"]) == ("VERSION_MISMATCH", "2")
    assert exists.code() == grpc.StatusCode.ALREADY_EXISTS
    assert dict(latest.data) == {"user": "b"} and dict(first.data) == {"user": "a"}
    assert versions.metadata.current_version == 2 and versions.metadata.created_by == "sue"
    assert [v.version for v in versions.versions] == [2, 1]
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_soft_delete_destroy_and_purge(
    secrets_app: CentrumApp, token_mint: TokenMint
) -> None:
    """Soft-deleted and destroyed versions are unreadable; destroy and purge need admin."""
    tenant = f"d{id(secrets_app)}"
    writer = token_mint.token(tenant=tenant, scopes=SCOPES)
    admin = token_mint.token(tenant=tenant, scopes=(*SCOPES, "secrets.admin"))
    async with connect(secrets_app, writer) as client:
        for value in ("1", "2", "3"):
            await client.secrets.PutSecret(pb.PutSecretRequest(path="api/key", data={"v": value}))
        soft = await client.secrets.DeleteSecret(pb.DeleteSecretRequest(path="api/key"))
        gone = await _error(client.secrets.GetSecret(pb.GetSecretRequest(path="api/key")))
        denied = await _error(
            client.secrets.DeleteSecret(
                pb.DeleteSecretRequest(
                    path="api/key", versions=[1], mode=pb.SECRET_DELETE_MODE_DESTROY
                )
            )
        )
    async with connect(secrets_app, admin) as client:
        destroyed = await client.secrets.DeleteSecret(
            pb.DeleteSecretRequest(path="api/key", versions=[1], mode=pb.SECRET_DELETE_MODE_DESTROY)
        )
        destroyed_read = await _error(
            client.secrets.GetSecret(pb.GetSecretRequest(path="api/key", version=1))
        )
        kept = await client.secrets.GetSecret(pb.GetSecretRequest(path="api/key", version=2))
        purged = await client.secrets.DeleteSecret(
            pb.DeleteSecretRequest(path="api/key", mode=pb.SECRET_DELETE_MODE_PURGE)
        )
        after = await _error(
            client.secrets.ListSecretVersions(pb.ListSecretVersionsRequest(path="api/key"))
        )
    assert list(soft.versions) == [3]
    assert detail(gone, error_details_pb2.ErrorInfo).reason == "SECRET_VERSION_DELETED"
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert list(destroyed.versions) == [1]
    assert detail(destroyed_read, error_details_pb2.ErrorInfo).reason == (
        "SECRET_VERSION_DESTROYED"
    )
    assert dict(kept.data) == {"v": "2"}
    assert list(purged.versions) == [1, 2, 3]
    assert after.code() == grpc.StatusCode.NOT_FOUND


async def test_path_scopes_restrict_access_and_listings(
    secrets_app: CentrumApp, token_mint: TokenMint
) -> None:
    """`secrets.read:<prefix>` limits reads to the prefix; listings omit other paths."""
    tenant = f"s{id(secrets_app)}"
    async with connect(secrets_app, token_mint.token(tenant=tenant, scopes=SCOPES)) as client:
        for path in ("pay/a", "pay/b", "ops/c"):
            await client.secrets.PutSecret(pb.PutSecretRequest(path=path, data={"k": "v"}))
    limited = token_mint.token(tenant=tenant, scopes=("secrets.read", "secrets.read:pay/"))
    other = token_mint.token(tenant=f"x{tenant}", scopes=SCOPES)
    async with connect(secrets_app, limited) as client:
        allowed = await client.secrets.GetSecret(pb.GetSecretRequest(path="pay/a"))
        denied = await _error(client.secrets.GetSecret(pb.GetSecretRequest(path="ops/c")))
        listing = await client.secrets.ListSecrets(pb.ListSecretsRequest())
    async with connect(secrets_app, other) as client:
        foreign = await _error(client.secrets.GetSecret(pb.GetSecretRequest(path="pay/a")))
        empty = await client.secrets.ListSecrets(pb.ListSecretsRequest())
    assert dict(allowed.data) == {"k": "v"}
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert detail(denied, error_details_pb2.ErrorInfo).reason == "SECRET_PATH_DENIED"
    assert [s.path for s in listing.secrets] == ["pay/a", "pay/b"]
    assert foreign.code() == grpc.StatusCode.NOT_FOUND and not empty.secrets


async def test_a_planted_secret_reaches_no_log_and_no_audit_record(
    secrets_app: CentrumApp, token_mint: TokenMint, caplog: pytest.LogCaptureFixture
) -> None:
    """The secret value appears in no log line, no audit payload and no error message."""
    token = token_mint.token(tenant=f"p{id(secrets_app)}", scopes=(*SCOPES, "secrets.admin"))
    errors: list[str] = []
    with structlog.testing.capture_logs() as logs:
        async with connect(secrets_app, token) as client:
            await client.secrets.PutSecret(pb.PutSecretRequest(path="leak/x", data={"pw": PLANTED}))
            read = await client.secrets.GetSecret(pb.GetSecretRequest(path="leak/x"))
            for bad in (
                pb.PutSecretRequest(path="leak/x", data={"pw": PLANTED}, expected_version=9),
                pb.PutSecretRequest(path="leak/x", data={"pw": PLANTED}, create_only=True),
                pb.PutSecretRequest(path="bad path", data={"pw": PLANTED}),
                pb.PutSecretRequest(path="leak/y", data={"": PLANTED}),
            ):
                error = await _error(client.secrets.PutSecret(bad))
                errors.append(f"{error.details()} {error}")
            await client.secrets.DeleteSecret(
                pb.DeleteSecretRequest(path="leak/x", mode=pb.SECRET_DELETE_MODE_DESTROY)
            )
    await secrets_app.audit_pipeline.drain()
    events = await secrets_app.audit_log.events(0, limit=10_000)
    assert dict(read.data) == {"pw": PLANTED}
    assert events, "the calls were audited"
    assert PLANTED.encode() not in b"".join(e.SerializeToString() for e in events)
    assert PLANTED not in json.dumps(logs, default=str)
    assert PLANTED not in caplog.text
    assert not any(PLANTED in text for text in errors)


async def test_vault_outage_serves_cached_reads_until_the_ttl(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """With its own OpenBao stopped: the cached value, then UNAVAILABLE with RetryInfo."""
    process, bao = dev_server(tmp_path / "bao")
    process.start()
    try:
        process.wait_ready(lambda: healthy(bao), 30, "sys/health == 200")
        configure_engines(bao)
        app = await start_centrum(
            vault_addr=bao.addr,
            vault_token=bao.token,
            config={"secret_cache_ttl_s": 1.0, "vault_timeout_s": 1.0},
        )
        token = token_mint.token(scopes=SCOPES)
        async with connect(app, token) as client:
            await client.secrets.PutSecret(pb.PutSecretRequest(path="svc/db", data={"pw": "x"}))
            await client.secrets.GetSecret(pb.GetSecretRequest(path="svc/db"))
            process.stop()
            cached = await client.secrets.GetSecret(pb.GetSecretRequest(path="svc/db"))
            write = await _error(
                client.secrets.PutSecret(pb.PutSecretRequest(path="svc/db", data={"pw": "y"}))
            )
            failures: list[Any] = []

            async def read_fails() -> bool:
                try:
                    await client.secrets.GetSecret(pb.GetSecretRequest(path="svc/db"))
                except grpc.RpcError as error:
                    failures.append(error)
                    return True
                return False

            deadline = time.monotonic() + 30
            while not await read_fails():
                assert time.monotonic() < deadline, "reads kept succeeding long after the TTL"
                await asyncio.sleep(0.1)  # poll interval
    finally:
        process.stop()
    assert dict(cached.data) == {"pw": "x"}
    assert write.code() == grpc.StatusCode.UNAVAILABLE
    error = failures[-1]
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert detail(error, error_details_pb2.RetryInfo).retry_delay.seconds > 0
