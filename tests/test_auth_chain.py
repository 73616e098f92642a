"""What the auth service issues, as the chain verifies it: the JWT attack list and replicas."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from google.protobuf import field_mask_pb2
from test_auth_kit import Admin, Client, error_info, start_auth

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.auth.v1 import principal_pb2
from centrum.interceptors.credentials import MemoryRevocations
from centrum.server import CentrumApp
from centrum.services.auth.wiring import AuthDomain, open_domain
from centrum.services.db import create_engine
from centrum.services.keys import MasterKey
from harness.backends import RedisTarget
from harness.centrum import StartCentrum
from harness.tokens import TokenMint


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "==")),
        json.loads(base64.urlsafe_b64decode(payload + "==")),
        signature,
    )


def _assemble(header: dict[str, Any], claims: dict[str, Any], signature: str) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{signature}"


class Forge:
    """Builds attack tokens from a real token and the service's own key ring."""

    def __init__(self, token: str, domain: AuthDomain, jwk: dict[str, Any]) -> None:
        self.token = token
        self.header, self.claims, self.signature = _parts(token)
        self.domain = domain
        self.jwk = jwk

    async def signed(self, **changes: Any) -> str:
        claims = {**self.claims, "jti": jwt.utils.base64url_encode(b"x" * 8).decode(), **changes}
        token, _ = await self.domain.keyring.sign(
            {k: v for k, v in claims.items() if v is not None}
        )
        return token

    def hs256_with_public_key(self) -> str:
        header = {"alg": "HS256", "typ": "JWT", "kid": self.header["kid"]}
        signing_input = (
            f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(self.claims).encode())}"
        )
        key = json.dumps(self.jwk).encode()
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"


now = time.time
ATTACKS: dict[str, Callable[[Forge], Awaitable[str] | str]] = {
    "malformed": lambda f: "not-a-jwt",
    "expired": lambda f: f.signed(exp=int(now()) - 3600, iat=int(now()) - 7200),
    "not_yet_valid": lambda f: f.signed(nbf=int(now()) + 3600),
    "wrong_audience": lambda f: f.signed(aud="someone-else"),
    "wrong_issuer": lambda f: f.signed(iss="https://evil.example"),
    "missing_jti": lambda f: f.signed(jti=None),
    "unknown_kid": lambda f: TokenMint(kid="rogue").token(),
    "alg_none": lambda f: _assemble({**f.header, "alg": "none"}, f.claims, ""),
    "alg_swapped_to_es256": lambda f: _assemble(
        {**f.header, "alg": "ES256"}, f.claims, f.signature
    ),
    "hs256_with_public_key": lambda f: f.hs256_with_public_key(),
    "tampered_payload": lambda f: _assemble(f.header, {**f.claims, "scope": "*"}, f.signature),
    "signature_stripped": lambda f: f.token.rsplit(".", 1)[0] + ".",
}


@pytest.fixture
async def forge(start_centrum: StartCentrum) -> AsyncIterator[tuple[Admin, Forge]]:
    """A server, a real token of a service account, and a forge over the same key ring."""
    admin = await start_auth(start_centrum)
    created = await admin.service_account("auth.read")
    issued = await admin.token_for(created.service_account.client_id, created.client_secret)
    settings = admin.app.settings
    engine = create_engine(settings.sqlalchemy_url)
    domain = await open_domain(
        settings, engine, MasterKey.load_or_create(settings.master_key_path), MemoryRevocations()
    )
    jwks = await domain.keyring.fetch_jwks()
    yield admin, Forge(issued.tokens.access_token, domain, dict(jwks[0]))
    await engine.dispose()
    await admin.close()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_jwt_attacks_on_issued_tokens_are_refused(
    forge: tuple[Admin, Forge], attack: str
) -> None:
    """Each attack on a token of this service is UNAUTHENTICATED and introspects inactive.

    A genuine token for another audience is refused by the chain; introspection reports it with
    that audience, for the resource server to check (RFC 7662).
    """
    admin, forger = forge
    made = ATTACKS[attack](forger)
    token = made if isinstance(made, str) else await made
    async with admin.connect(token=forger.token) as client:
        await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    async with admin.connect(token=token) as client:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED, attack
    assert error_info(failure.value).reason.startswith("TOKEN_"), attack
    answer = await admin.client.auth.IntrospectToken(auth_pb.IntrospectTokenRequest(token=token))
    if attack == "wrong_audience":
        # Introspection serves every resource server: it reports the audience to check.
        assert list(answer.aud) == ["someone-else"]
    else:
        assert not answer.active, attack


async def _two_replicas(
    start_centrum: StartCentrum,
    redis_url: RedisTarget,
    postgres_url: str,
    tmp_path: Path,
    **replica_b_auth: Any,
) -> tuple[Admin, CentrumApp]:
    """Replica A (with its bootstrap admin) and replica B sharing PostgreSQL, Redis and keys."""
    shared = {
        "redis_url": redis_url.url,
        "database_url": postgres_url,
        "master_key_file": tmp_path / "shared-master.key",
    }
    admin = await start_auth(start_centrum, **shared)
    replica_b = await start_centrum(
        **shared,
        trust_test_keys=False,
        auth={"operator_tenant": admin.tenant, **replica_b_auth},
    )
    return admin, replica_b


async def test_revoked_token_is_refused_by_a_second_replica_within_a_second(
    start_centrum: StartCentrum, redis_url: RedisTarget, postgres_url: str, tmp_path: Path
) -> None:
    """Two replicas sharing PostgreSQL and Redis: RevokeToken on A is enforced by B in < 1 s."""
    admin, replica_b = await _two_replicas(start_centrum, redis_url, postgres_url, tmp_path)
    created = await admin.service_account("auth.read")
    issued = await admin.token_for(created.service_account.client_id, created.client_secret)
    token = issued.tokens.access_token
    async with admin.connect(token=token) as on_a:
        await on_a.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    async with Client(f"127.0.0.1:{replica_b.port}", token=token) as on_b:
        await on_b.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
        await admin.client.auth.RevokeToken(auth_pb.RevokeTokenRequest(token=token))
        revoked_at = time.monotonic()
        while True:
            try:
                await on_b.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
                assert error_info(exc).reason == "TOKEN_REVOKED"
                break
            assert time.monotonic() - revoked_at < 1.0, "replica B still accepts the token"
            await asyncio.sleep(0.01)
        answer = await on_b.auth.IntrospectToken(auth_pb.IntrospectTokenRequest(token=token))
        assert not answer.active
    await admin.close()


async def test_principal_changes_reach_a_second_replicas_cache_at_once(
    start_centrum: StartCentrum, redis_url: RedisTarget, postgres_url: str, tmp_path: Path
) -> None:
    """Replica B caches a client's row for ten minutes, yet a secret rotation and disabling the
    account on A are enforced by B's Token within a second: changes travel the revocation feed."""
    admin, replica_b = await _two_replicas(
        start_centrum, redis_url, postgres_url, tmp_path, principal_cache_ttl_s=600.0
    )
    created = await admin.service_account("auth.read")
    account, secret = created.service_account, created.client_secret

    async def refused_on_b(client_secret: str) -> None:
        request = auth_pb.TokenRequest(client_id=account.client_id, client_secret=client_secret)
        changed_at = time.monotonic()
        async with Client(f"127.0.0.1:{replica_b.port}") as on_b:
            while True:
                try:
                    await on_b.auth.Token(request)
                except grpc.aio.AioRpcError as exc:
                    assert error_info(exc).reason == "INVALID_CLIENT"
                    return
                assert time.monotonic() - changed_at < 1.0, "replica B still issues tokens"
                await asyncio.sleep(0.01)

    async with Client(f"127.0.0.1:{replica_b.port}") as on_b:
        await on_b.auth.Token(
            auth_pb.TokenRequest(client_id=account.client_id, client_secret=secret)
        )
    rotated = await admin.client.auth_admin.RotateServiceAccountSecret(
        admin_pb.RotateServiceAccountSecretRequest(service_account_id=account.id)
    )
    await refused_on_b(secret)
    async with Client(f"127.0.0.1:{replica_b.port}") as on_b:
        await on_b.auth.Token(
            auth_pb.TokenRequest(client_id=account.client_id, client_secret=rotated.client_secret)
        )
    await admin.client.auth_admin.UpdateServiceAccount(
        admin_pb.UpdateServiceAccountRequest(
            service_account=principal_pb2.ServiceAccount(id=account.id, disabled=True),
            update_mask=field_mask_pb2.FieldMask(paths=["disabled"]),
        )
    )
    await refused_on_b(rotated.client_secret)
    await admin.close()
