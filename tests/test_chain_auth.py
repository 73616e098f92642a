"""Auth in the chain: the JWT attack list, revocation across replicas, key refresh."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable

import grpc
import jwt
import pytest
from google.rpc import error_details_pb2

from centrum.server import CentrumApp
from harness.backends import RedisTarget
from harness.centrum import StartCentrum, bearer, channel
from harness.echo_client import EchoClient, detail
from harness.tokens import TokenMint


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, object], kid: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_public_key(mint: TokenMint) -> str:
    """The classic key-confusion attack: HMAC keyed with the verifier's public key."""
    public = json.dumps(mint.jwk).encode()
    header = {"alg": "HS256", "typ": "JWT", "kid": mint.kid}
    signing_input = (
        f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(mint.claims()).encode())}"
    )
    import hashlib
    import hmac

    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


ATTACKS: dict[str, Callable[[TokenMint], str]] = {
    "malformed": lambda m: "not-a-jwt",
    "expired": lambda m: m.token(
        m.claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    ),
    "not_yet_valid": lambda m: m.token(m.claims(nbf=int(time.time()) + 3600)),
    "wrong_audience": lambda m: m.token(m.claims(aud="someone-else")),
    "wrong_issuer": lambda m: m.token(m.claims(iss="https://evil.example")),
    "unknown_kid": lambda m: TokenMint(kid="rogue").token(),
    "alg_none": lambda m: _unsigned(m.claims(), m.kid),
    "hs256_with_public_key": _hs256_with_public_key,
    "missing_jti": lambda m: m.token(m.claims(jti=None)),
    "tampered_payload": lambda m: _tamper(m.token()),
}


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "*"
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_jwt_attacks_are_unauthenticated(
    centrum: CentrumApp, token_mint: TokenMint, attack: str
) -> None:
    """Every token on the attack list is refused with UNAUTHENTICATED before the handler."""
    token = ATTACKS[attack](token_mint)
    async with channel(centrum) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).unary(bearer(token), message="x")
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED, attack
    assert detail(failure.value, error_details_pb2.ErrorInfo).reason.startswith("TOKEN_")


async def test_malformed_authorization_header_is_unauthenticated(centrum: CentrumApp) -> None:
    """`authorization: Basic ...` is refused as malformed, not ignored."""
    async with channel(centrum) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).unary((("authorization", "Basic dXNlcjpwYXNz"),), message="x")
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert detail(failure.value, error_details_pb2.ErrorInfo).reason == "CREDENTIAL_MALFORMED"


async def test_revoked_token_is_refused(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """A token that worked is refused once its jti is revoked, even though it is cached."""
    claims = token_mint.claims()
    token = token_mint.token(claims)
    async with channel(centrum) as ch:
        client = EchoClient(ch)
        await client.unary(bearer(token), message="x")
        await centrum.revocations.revoke(str(claims["jti"]), float(claims["exp"]))
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await client.unary(bearer(token), message="x")
    assert detail(failure.value, error_details_pb2.ErrorInfo).reason == "TOKEN_REVOKED"


async def test_revocation_on_one_replica_is_refused_by_another_within_a_second(
    start_centrum: StartCentrum, token_mint: TokenMint, redis_url: RedisTarget
) -> None:
    """Two replicas sharing Redis: a token revoked on A is refused by B within one second."""
    replica_a = await start_centrum(redis_url=redis_url.url)
    replica_b = await start_centrum(redis_url=redis_url.url)
    claims = token_mint.claims()
    token = token_mint.token(claims)
    async with channel(replica_b) as ch:
        client = EchoClient(ch)
        await client.unary(bearer(token), message="warm the cache")
        await replica_a.revocations.revoke(str(claims["jti"]), float(claims["exp"]))
        revoked_at = time.monotonic()
        while True:
            try:
                await client.unary(bearer(token), message="x")
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAUTHENTICATED
                break
            assert time.monotonic() - revoked_at < 1.0, "replica B still accepts the revoked token"
            await asyncio.sleep(0.01)


async def test_new_signing_key_is_fetched_on_unknown_kid(start_centrum: StartCentrum) -> None:
    """A token signed by a key published after start-up is accepted after one key refresh."""
    old, new = TokenMint(kid="old"), TokenMint(kid="new")
    source = old.key_source()
    app = await start_centrum(key_source=source)
    source.jwks.append(new.jwk)
    async with channel(app) as ch:
        response = await EchoClient(ch).unary(bearer(new.token(subject="rotated")), message="x")
    assert response.subject == "rotated"


def test_pyjwt_refuses_none_even_when_asked() -> None:
    """Belt and braces: the library itself refuses alg none with a key."""
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(_unsigned({"sub": "x"}, "k"), key="k", algorithms=["EdDSA"])
