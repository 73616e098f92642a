"""API key verification through the Auth service's key store, with a short-lived local cache.

The cache holds a verified key for `cache_ttl_s` at most, keyed by a hash of the presented key
(never the key itself); revocation is checked on every call through the revocation set, so a
revoked key is refused at once even while cached.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Protocol

from centrum.interceptors.auth import Credentials
from centrum.interceptors.context import Principal
from centrum.interceptors.credentials.revocation import RevocationChecker
from centrum.interceptors.errors import Unauthenticated

__all__ = ["ApiKeyLookup", "ApiKeyVerifier"]


class ApiKeyLookup(Protocol):
    """Resolves a presented API key (the Auth service's store, or a remote Auth service)."""

    async def principal_for_api_key(self, api_key: str) -> Principal | None:
        """Returns the principal of a valid, unexpired key, or None."""
        ...


class ApiKeyVerifier:
    """Verifies `x-api-key` credentials."""

    def __init__(
        self,
        lookup: ApiKeyLookup,
        *,
        revocations: RevocationChecker,
        clock: Callable[[], float] = time.monotonic,
        cache_ttl_s: float = 5.0,
        cache_size: int = 10_000,
    ) -> None:
        self._lookup = lookup
        self._revocations = revocations
        self._clock = clock
        self._cache_ttl_s = cache_ttl_s
        self._cache_size = cache_size
        self._cache: dict[bytes, tuple[float, Principal]] = {}

    async def verify(self, credentials: Credentials) -> Principal:
        """Returns the principal of a valid, unrevoked API key."""
        key = credentials.api_key or ""
        digest = hashlib.sha256(key.encode()).digest()
        cached = self._cache.get(digest)
        now = self._clock()
        if cached is not None and cached[0] > now:
            principal = cached[1]
        else:
            found = await self._lookup.principal_for_api_key(key)
            if found is None:
                self._cache.pop(digest, None)
                raise Unauthenticated("the API key is not valid", reason="API_KEY_INVALID")
            principal = found
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[digest] = (now + self._cache_ttl_s, principal)
        if self._revocations.is_revoked(principal.credential_id):
            raise Unauthenticated("the API key has been revoked", reason="API_KEY_REVOKED")
        return principal
