"""A short-lived cache of principal reads on the hot paths, invalidated on every replica.

Token issuance, introspection and mTLS authentication read the same few rows (a service account
and the scopes of its roles, a user's active flag) on every call. This cache keeps each read for
`ttl_s` at most. A change to a principal, or to the roles of a tenant, puts a *change marker* into
the revocation set, which every replica shares (Redis pub/sub, milliseconds): while a marker is
live, and it lives longer than any entry, reads that depend on it go to the database and are not
cached. So an entry read before a change is never served after its marker has arrived, and
without Redis the staleness is still bounded by `ttl_s`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

from centrum.interceptors.credentials import MemoryRevocations

__all__ = ["PrincipalCache", "principal_marker", "roles_marker"]

T = TypeVar("T")
_MARKER_MARGIN_S = 1.0


def principal_marker(principal_id: str) -> str:
    """The change marker of one user or service account."""
    return f"chg:{principal_id}"


def roles_marker(tenant: str) -> str:
    """The change marker of the roles of a tenant (their scopes reach every assignee)."""
    return f"chg:roles:{tenant}"


class PrincipalCache(Generic[T]):
    """Reads by key, each kept `ttl_s` unless a marker it depends on is live."""

    def __init__(
        self,
        revocations: MemoryRevocations,
        *,
        ttl_s: float,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._revocations = revocations
        self._ttl_s = ttl_s
        self._size = size
        self._clock = clock
        self._wall_clock = wall_clock
        self._entries: dict[str, tuple[float, T, tuple[str, ...]]] = {}

    def _marked(self, markers: Iterable[str]) -> bool:
        return any(self._revocations.is_revoked(m) for m in markers)

    async def get(
        self, key: str, load: Callable[[], Awaitable[tuple[T, tuple[str, ...]] | None]]
    ) -> T | None:
        """The cached value of `key`, else `load()` (value and its markers); None is not kept."""
        entry = self._entries.get(key)
        if entry is not None:
            expires, value, markers = entry
            if expires > self._clock() and not self._marked(markers):
                return value
            self._entries.pop(key, None)
        loaded = await load()
        if loaded is None:
            return None
        value, markers = loaded
        if self._ttl_s > 0 and not self._marked(markers):
            if len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self._clock() + self._ttl_s, value, markers)
        return value

    async def changed(self, *markers: str) -> None:
        """Announces a change: reads depending on `markers` bypass every replica's cache."""
        self._entries.clear()
        until = self._wall_clock() + self._ttl_s + _MARKER_MARGIN_S
        for marker in markers:
            await self._revocations.revoke(marker, until)
