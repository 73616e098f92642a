"""Signing inside Vault/OpenBao transit: private keys never leave it; outages are UNAVAILABLE."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import grpc
import jwt
import pytest
from google.rpc import error_details_pb2
from test_auth_kit import error_info, has_detail, start_auth

from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.auth.v1 import credential_pb2
from harness._openbao import START_TIMEOUT, OpenBaoTarget, configure_engines, dev_server, healthy
from harness._process import ManagedProcess
from harness.centrum import StartCentrum


@pytest.fixture
def private_openbao(tmp_path: Path) -> Iterator[tuple[ManagedProcess, OpenBaoTarget]]:
    """An OpenBao dev server of this test alone, so that the test may stop it."""
    process, target = dev_server(tmp_path / "openbao")
    process.start()
    try:
        process.wait_ready(lambda: healthy(target), START_TIMEOUT, "sys/health == 200")
        configure_engines(target)
        yield process, target
    finally:
        process.stop()


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
async def test_transit_signs_and_keeps_private_keys_inside(
    start_centrum: StartCentrum, openbao: OpenBaoTarget, algorithm: str
) -> None:
    """Tokens signed by transit verify in the chain; the database holds no private key."""
    admin = await start_auth(
        start_centrum,
        vault_addr=openbao.addr,
        vault_token=openbao.token,
        auth={"algorithm": algorithm},
    )
    header = jwt.get_unverified_header(admin.token)
    assert header["alg"] == algorithm
    async with admin.connect(token=admin.token) as client:
        await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    rotated = await admin.client.auth.RotateSigningKey(
        auth_pb.RotateSigningKeyRequest(retire_current_immediately=True)
    )
    assert rotated.signing_key.storage == credential_pb2.KEY_STORAGE_TRANSIT
    created = await admin.service_account("auth.read")
    issued = await admin.token_for(created.service_account.client_id, created.client_secret)
    assert jwt.get_unverified_header(issued.tokens.access_token)["kid"] == rotated.signing_key.kid
    answer = await admin.client.auth.IntrospectToken(
        auth_pb.IntrospectTokenRequest(token=issued.tokens.access_token)
    )
    assert answer.active
    transit_key = openbao.client().secrets.transit.read_key(
        name="centrum-jwt-" + rotated.signing_key.kid
    )
    assert not transit_key["data"]["exportable"]
    with sqlite3.connect(admin.app.settings.data_dir / "centrum.db") as db:
        rows = db.execute(
            "SELECT storage, encrypted_private_key, public_jwk FROM auth_signing_keys"
        ).fetchall()
    assert rows and all(r[0] == "transit" and r[1] is None for r in rows)
    assert all("d" not in json.loads(r[2]) for r in rows)
    await admin.close()


async def test_transit_down_is_unavailable_while_issued_tokens_keep_verifying(
    start_centrum: StartCentrum, private_openbao: tuple[ManagedProcess, OpenBaoTarget]
) -> None:
    """With OpenBao stopped, Token answers UNAVAILABLE with RetryInfo; old tokens still work."""
    process, target = private_openbao
    admin = await start_auth(start_centrum, vault_addr=target.addr, vault_token=target.token)
    created = await admin.service_account("auth.read")
    issued = await admin.token_for(created.service_account.client_id, created.client_secret)
    process.stop()
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await admin.token_for(created.service_account.client_id, created.client_secret)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(failure.value).reason == "KEY_SERVICE_UNAVAILABLE"
    assert has_detail(failure.value, error_details_pb2.RetryInfo)
    async with admin.connect(token=issued.tokens.access_token) as client:
        await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
        answer = await client.auth.IntrospectToken(
            auth_pb.IntrospectTokenRequest(token=issued.tokens.access_token)
        )
    assert answer.active
    jwks = await admin.client.auth.GetJwks(auth_pb.GetJwksRequest())
    assert jwt.get_unverified_header(issued.tokens.access_token)["kid"] in {
        k.kid for k in jwks.keys
    }
    await admin.close()
