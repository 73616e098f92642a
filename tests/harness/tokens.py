"""Signing keys and access tokens for tests of the chain (the Auth service mints real ones)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

from centrum.interceptors.credentials import StaticKeySource

ISSUER = "centrum"
AUDIENCE = "centrum"


class TokenMint:
    """An Ed25519 signing key with its JWK, minting tokens like the Auth service does."""

    def __init__(self, kid: str | None = None) -> None:
        self.kid = kid or "test-" + secrets.token_hex(4)
        self.private_key = ed25519.Ed25519PrivateKey.generate()
        public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        self.jwk: dict[str, Any] = {**public_jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def key_source(self, *others: TokenMint) -> StaticKeySource:
        """A key source publishing this key (and others)."""
        return StaticKeySource([self.jwk, *(o.jwk for o in others)])

    def claims(
        self,
        subject: str = "svc-test",
        tenant: str = "acme",
        scopes: Sequence[str] = ("echo.read", "echo.write"),
        ttl_s: float = 900,
        **overrides: Any,
    ) -> dict[str, Any]:
        """The claims of an access token, with any of them overridden."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "tenant": tenant,
            "scope": " ".join(scopes),
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl_s),
            "jti": secrets.token_hex(8),
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, claims: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        """A signed access token."""
        return jwt.encode(
            dict(claims or self.claims(**kwargs)),
            self.private_key,
            algorithm="EdDSA",
            headers={"kid": self.kid},
        )
