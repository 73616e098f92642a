"""Local verification of Centrum access tokens (JWT) against the Auth service's published keys.

No network call per request: the public keys are cached and refreshed only when a token names an
unknown `kid` (at most once per `refresh_interval_s`), and verified tokens are cached until they
expire. Only asymmetric algorithms pinned to the key's own type are accepted, so `alg: none` and
HS256 signed with a public key are refused by construction. Revocation is checked on every call
against a local, pushed revocation set.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import jwt as pyjwt
import structlog

from centrum.interceptors.auth import Credentials
from centrum.interceptors.context import CredentialKind, Principal
from centrum.interceptors.credentials.revocation import RevocationChecker
from centrum.interceptors.errors import Unauthenticated

__all__ = ["ALLOWED_ALGORITHMS", "JwtVerifier", "KeySource", "StaticKeySource"]

ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256", "RS256"})
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_log = structlog.get_logger("centrum.auth")


class KeySource(Protocol):
    """Where the verification keys come from (the local Auth service, or a remote one)."""

    async def fetch_jwks(self) -> Sequence[Mapping[str, Any]]:
        """Returns the public JWKs currently valid for verification."""
        ...


class JwtVerifier:
    """Verifies bearer JWTs into principals."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        revocations: RevocationChecker,
        clock: Callable[[], float] = time.time,
        refresh_interval_s: float = 10.0,
        cache_size: int = 50_000,
        leeway_s: float = 5.0,
    ) -> None:
        self._source = keys
        self._issuer = issuer
        self._audience = audience
        self._revocations = revocations
        self._clock = clock
        self._refresh_interval_s = refresh_interval_s
        self._cache_size = cache_size
        self._leeway_s = leeway_s
        self._keys: dict[str, pyjwt.PyJWK] = {}
        self._last_refresh = float("-inf")
        self._refresh_lock = asyncio.Lock()
        self._verified: dict[str, Principal] = {}

    async def verify(self, credentials: Credentials) -> Principal:
        """Returns the principal of a valid, unrevoked bearer token."""
        token = credentials.bearer_token or ""
        principal = self._verified.get(token)
        if principal is None:
            principal = await self._verify_uncached(token)
            if len(self._verified) >= self._cache_size:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = principal
        elif principal.expires_at is not None and principal.expires_at <= self._clock():
            self._verified.pop(token, None)
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED")
        if self._revocations.is_revoked(principal.credential_id):
            raise Unauthenticated("the token has been revoked", reason="TOKEN_REVOKED")
        return principal

    async def _verify_uncached(self, token: str) -> Principal:
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError:
            raise Unauthenticated("the token is not a JWT", reason="TOKEN_MALFORMED") from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthenticated(
                f"token algorithm {algorithm!r} is not accepted", reason="TOKEN_ALGORITHM"
            )
        key = await self._key(str(header.get("kid", "")))
        if key.algorithm_name != algorithm:
            raise Unauthenticated(
                "the token's algorithm does not match its key", reason="TOKEN_ALGORITHM"
            )
        try:
            claims = pyjwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": _REQUIRED_CLAIMS},
            )
        except pyjwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED") from None
        except pyjwt.InvalidAudienceError:
            raise Unauthenticated(
                "the token is for another audience", reason="TOKEN_AUDIENCE"
            ) from None
        except pyjwt.InvalidIssuerError:
            raise Unauthenticated(
                "the token is from another issuer", reason="TOKEN_ISSUER"
            ) from None
        except pyjwt.PyJWTError as exc:
            raise Unauthenticated(f"the token is invalid: {exc}", reason="TOKEN_INVALID") from None
        return Principal(
            subject=str(claims["sub"]),
            tenant=str(claims.get("tenant", "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            kind=CredentialKind.JWT,
            credential_id=str(claims["jti"]),
            expires_at=float(claims["exp"]) + self._leeway_s,
            client_id=str(claims.get("client_id", "")),
        )

    async def _key(self, kid: str) -> pyjwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._refresh_lock:
            if (
                kid not in self._keys
                and self._clock() - self._last_refresh >= self._refresh_interval_s
            ):
                await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("the token's signing key is unknown", reason="TOKEN_UNKNOWN_KEY")
        return key

    async def _refresh(self) -> None:
        self._last_refresh = self._clock()
        try:
            jwks = await self._source.fetch_jwks()
        except Exception as exc:
            _log.warning("jwks refresh failed", error=str(exc))
            return
        keys: dict[str, pyjwt.PyJWK] = {}
        for jwk in jwks:
            try:
                parsed = pyjwt.PyJWK(dict(jwk))
            except pyjwt.PyJWTError as exc:
                _log.warning("unusable jwk skipped", kid=jwk.get("kid"), error=str(exc))
                continue
            if parsed.key_id and parsed.algorithm_name in ALLOWED_ALGORITHMS:
                keys[parsed.key_id] = parsed
        self._keys = keys


class StaticKeySource:
    """A fixed set of public JWKs (tests, or a deployment that distributes keys by file)."""

    def __init__(self, jwks: Sequence[Mapping[str, Any]] = ()) -> None:
        self.jwks = list(jwks)

    async def fetch_jwks(self) -> Sequence[Mapping[str, Any]]:
        """Returns the configured keys."""
        return self.jwks
