"""Signed URLs of the local HTTP endpoint: HMAC-SHA256 over every field the URL grants.

A URL names the tenant, bucket, key, method, expiry, and for PUT the content type, size and the
subject that will own the object. Changing any of them breaks the signature, which is compared in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.services.keys import MasterKey
from centrum.services.storage.buckets import database
from centrum.services.storage.tables import storage_keys

__all__ = ["SignatureError", "SignedGrant", "UrlSigner", "load_signing_key"]

_FIELDS = ("t", "b", "k", "m", "x", "ct", "sz", "sub")
_PURPOSE = b"centrum.storage.url-signing"


class SignatureError(Exception):
    """The URL is not signed by this server, was altered, or has expired."""


@dataclass(frozen=True)
class SignedGrant:
    """What a valid signed URL allows."""

    tenant: str
    bucket: str
    key: str
    method: str
    expires: int
    content_type: str
    size: int | None
    subject: str


async def load_signing_key(engine: AsyncEngine, master_key: MasterKey) -> bytes:
    """The URL signing key shared by every replica: created once, stored wrapped."""
    async with database(engine) as connection:
        row = (
            await connection.execute(
                sa.select(storage_keys.c.wrapped).where(storage_keys.c.name == "url-signing")
            )
        ).first()
    if row is None:
        try:
            async with database(engine) as connection:
                await connection.execute(
                    sa.insert(storage_keys).values(
                        name="url-signing",
                        wrapped=master_key.encrypt(secrets.token_bytes(32), _PURPOSE),
                    )
                )
        except IntegrityError:
            pass  # another replica created it first
        return await load_signing_key(engine, master_key)
    return master_key.decrypt(bytes(row[0]), _PURPOSE)


class UrlSigner:
    """Signs and verifies the URLs of the local HTTP endpoint."""

    def __init__(self, key: bytes, base_url: str, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def _mac(self, fields: Mapping[str, str]) -> str:
        canonical = "\n".join(f"{name}={fields.get(name, '')}" for name in _FIELDS)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    def sign(self, grant: SignedGrant) -> str:
        """The URL granting `grant`."""
        fields = {
            "t": grant.tenant,
            "b": grant.bucket,
            "k": grant.key,
            "m": grant.method,
            "x": str(grant.expires),
            "ct": grant.content_type,
            "sz": "" if grant.size is None else str(grant.size),
            "sub": grant.subject,
        }
        return f"{self.base_url}/v1/objects?{urlencode({**fields, 's': self._mac(fields)})}"

    def verify(self, query: Mapping[str, str], method: str) -> SignedGrant:
        """The grant of a signed URL's query, or SignatureError."""
        fields = {name: query.get(name, "") for name in _FIELDS}
        if not hmac.compare_digest(self._mac(fields), query.get("s", "")):
            raise SignatureError("bad signature")
        if fields["m"] != method:
            raise SignatureError("the URL does not grant this method")
        try:
            expires = int(fields["x"])
            size = int(fields["sz"]) if fields["sz"] else None
        except ValueError as exc:
            raise SignatureError("malformed URL") from exc
        if expires < self._clock():
            raise SignatureError("the URL has expired")
        return SignedGrant(
            tenant=fields["t"],
            bucket=fields["b"],
            key=fields["k"],
            method=fields["m"],
            expires=expires,
            content_type=fields["ct"],
            size=size,
            subject=fields["sub"],
        )

    def public_url(self, tenant: str, bucket: str, key: str) -> str:
        """The unsigned URL of a public-read object."""
        return f"{self.base_url}/v1/public?{urlencode({'t': tenant, 'b': bucket, 'k': key})}"
