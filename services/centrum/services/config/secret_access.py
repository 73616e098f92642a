"""Secret access rules: path-prefix scopes, and reads that outlive a backend outage.

Path scopes. The method's plain scope (`secrets.read`, `secrets.write`, `secrets.admin`) is
checked by the chain. A principal may further hold scopes `secrets.<verb>:<prefix>`; when it
holds at least one for a verb, that verb is restricted to paths starting with one of those
prefixes (other paths are PERMISSION_DENIED, listings omit them). Without any, the plain scope
grants every path of the tenant. `secrets.admin:<prefix>` restricts admin operations the same way.

Cached reads. Every successful read is kept (sealed under the master key, bounded LRU). When the
backend is unreachable, a read is answered from that copy while it is younger than the TTL;
after that the read is UNAVAILABLE with RetryInfo. Writes and deletes drop the path's copies.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from centrum.interceptors.context import Principal
from centrum.interceptors.errors import PermissionDenied, Unavailable
from centrum.services.config.secret_backend import SecretBackend, SecretRead, VersionInfo
from centrum.services.keys import MasterKey

__all__ = ["ReadCache", "allowed", "require_path"]

_SCOPE = "secrets."


def _prefixes(principal: Principal, verb: str) -> list[str]:
    marker = f"{_SCOPE}{verb}:"
    return [s[len(marker) :] for s in principal.scopes if s.startswith(marker)]


def allowed(principal: Principal, verb: str, path: str) -> bool:
    """Tells whether the principal's path scopes for `verb` admit `path`."""
    prefixes = _prefixes(principal, verb)
    return not prefixes or any(path.startswith(prefix) for prefix in prefixes)


def require_path(principal: Principal, verb: str, path: str) -> None:
    """Raises PERMISSION_DENIED when the principal's path scopes for `verb` exclude `path`."""
    if not allowed(principal, verb, path):
        raise PermissionDenied(
            f"no {_SCOPE}{verb} scope covers this path",
            reason="SECRET_PATH_DENIED",
            info={"scope": f"{_SCOPE}{verb}", "path": path},
        )


@dataclass(frozen=True, slots=True)
class _Entry:
    fetched_at: float
    sealed: bytes
    info: VersionInfo


class ReadCache:
    """Secret reads kept for a backend outage, sealed under the master key."""

    def __init__(
        self,
        backend: SecretBackend,
        master_key: MasterKey,
        *,
        ttl_s: float,
        retry_after_s: float,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._key = master_key
        self._ttl_s = ttl_s
        self._retry_after_s = retry_after_s
        self._capacity = capacity
        self._clock = clock
        self._entries: collections.OrderedDict[tuple[str, str, int], _Entry] = (
            collections.OrderedDict()
        )

    @staticmethod
    def _purpose(key: tuple[str, str, int]) -> bytes:
        return b"\x00".join([b"centrum.config.secret-cache", *(str(p).encode() for p in key)])

    async def read(self, tenant: str, path: str, version: int) -> SecretRead:
        """Reads through the backend; on an outage, from a copy younger than the TTL."""
        key = (tenant, path, version)
        try:
            result = await self._backend.read(tenant, path, version)
        except Unavailable as exc:
            entry = self._entries.get(key)
            if entry is None or self._clock() - entry.fetched_at > self._ttl_s:
                raise Unavailable(
                    exc.message,
                    reason=exc.reason,
                    info={**exc.info, "cached": "expired" if entry else "none"},
                    retry_after_s=self._retry_after_s,
                ) from None
            data = json.loads(self._key.decrypt(entry.sealed, self._purpose(key)))
            return SecretRead(data=data, info=entry.info)
        except Exception:
            self._entries.pop(key, None)
            raise
        self._entries[key] = _Entry(
            self._clock(),
            self._key.encrypt(json.dumps(dict(result.data)).encode(), self._purpose(key)),
            result.info,
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return result

    def forget(self, tenant: str, path: str) -> None:
        """Drops every cached version of a path (after a write or delete)."""
        for key in [k for k in self._entries if k[0] == tenant and k[1] == path]:
            del self._entries[key]
