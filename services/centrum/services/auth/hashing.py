"""Secret handling: argon2id passwords, peppered HMAC of machine secrets, generated credentials.

Machine-generated secrets (client secrets, refresh tokens, API keys) carry 256 bits of entropy,
so a keyed hash (HMAC-SHA256 under the server pepper) protects them; only passwords need a slow
hash. Every comparison of secrets is constant-time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["PasswordHashing", "Pepper", "new_id", "new_secret", "split_credential"]


def new_id(kind: str) -> str:
    """A new opaque id, e.g. `usr_3f2a...` (128 random bits)."""
    return f"{kind}_{secrets.token_hex(16)}"


def new_secret() -> str:
    """A new 256-bit secret, URL-safe base64 without padding."""
    return secrets.token_urlsafe(32)


def split_credential(value: str, prefix: str) -> tuple[str, str] | None:
    """Splits `<prefix><id>.<secret>` into (id, secret); None when it is not of that form."""
    if not value.startswith(prefix):
        return None
    ident, dot, secret = value[len(prefix) :].partition(".")
    # A NUL is in no credential we issue, and PostgreSQL refuses it in a lookup.
    if not dot or not ident or not secret or len(value) > 512 or "\x00" in value:
        return None
    return ident, secret


class Pepper:
    """HMAC-SHA256 under the server pepper, for machine-generated secrets."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, secret: str) -> bytes:
        """The keyed hash stored in place of `secret`."""
        return hmac.new(self._key, secret.encode(), hashlib.sha256).digest()

    def matches(self, secret: str, stored: bytes | None) -> bool:
        """Tells in constant time whether `secret` hashes to `stored`."""
        candidate = self.digest(secret)
        return stored is not None and hmac.compare_digest(candidate, stored)


class PasswordHashing:
    """argon2id password hashes, computed off the event loop."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        """The encoded argon2id hash of `password`."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Tells whether `password` matches; without a stored hash it spends the same time."""
        target = stored or self._dummy

        def check() -> bool:
            try:
                return self._hasher.verify(target, password)
            except (VerificationError, InvalidHashError):
                return False

        ok = await asyncio.to_thread(check)
        return ok and stored is not None
