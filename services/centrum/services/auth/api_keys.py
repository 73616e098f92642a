"""API keys: long-lived credentials with a visible prefix, stored as a peppered HMAC.

A key reads `ck_<prefix>.<secret>`: the prefix identifies the row (and is safe to show in lists
and logs); the secret is compared in constant time against its keyed hash. A key's scopes are
narrowed at use time to what its owner still holds, and a disabled owner's keys are refused.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.context import CredentialKind, Principal, scope_satisfies
from centrum.interceptors.credentials import MemoryRevocations
from centrum.interceptors.errors import NotFound
from centrum.services.auth.directory import SERVICE_ACCOUNT, Directory, RevocationReason
from centrum.services.auth.hashing import Pepper, new_id, new_secret, split_credential
from centrum.services.auth.paging import Page
from centrum.services.auth.tables import api_keys
from centrum.services.auth.transactions import writing

__all__ = ["API_KEY_PREFIX", "ApiKeys"]

API_KEY_PREFIX = "ck_"
_LAST_USED_EVERY_S = 60.0
_REVOCATION_HORIZON_S = 86400.0


class ApiKeys:
    """The API key store; also the chain's `ApiKeyLookup`."""

    def __init__(
        self,
        engine: AsyncEngine,
        directory: Directory,
        pepper: Pepper,
        revocations: MemoryRevocations,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._directory = directory
        self._pepper = pepper
        self._revocations = revocations
        self._clock = clock

    async def create(
        self,
        tenant: str,
        *,
        owner_kind: str,
        owner_id: str,
        name: str,
        description: str,
        scopes: Sequence[str],
        expires_at: float | None,
    ) -> tuple[Row[Any], str]:
        """Creates a key; returns its row and the full key (shown once)."""
        key_id = new_id("key")
        prefix = API_KEY_PREFIX + secrets.token_hex(5)
        secret = new_secret()
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.insert(api_keys).values(
                    id=key_id,
                    tenant=tenant,
                    prefix=prefix,
                    name=name,
                    description=description,
                    owner_kind=owner_kind,
                    owner_id=owner_id,
                    scopes=json.dumps(sorted(set(scopes))),
                    secret_hash=self._pepper.digest(secret),
                    created_at=self._clock(),
                    expires_at=expires_at,
                    revoke_reason=0,
                )
            )
        return await self.get(tenant, key_id), f"{prefix}.{secret}"

    async def get(self, tenant: str, key_id: str) -> Row[Any]:
        """One key of the tenant."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(api_keys).where(api_keys.c.id == key_id, api_keys.c.tenant == tenant)
                )
            ).first()
        if row is None:
            raise NotFound("the API key does not exist", resource=("api_key", key_id))
        return row

    async def page(
        self,
        tenant: str,
        *,
        owner: tuple[str, str] | None,
        prefix: str,
        include_inactive: bool,
        page: Page,
    ) -> tuple[list[Row[Any]], bool]:
        """A page of keys, newest first."""
        select = sa.select(api_keys).where(api_keys.c.tenant == tenant)
        if owner is not None:
            select = select.where(
                api_keys.c.owner_kind == owner[0], api_keys.c.owner_id == owner[1]
            )
        if prefix:
            select = select.where(api_keys.c.prefix == prefix)
        if not include_inactive:
            now = self._clock()
            select = select.where(
                api_keys.c.revoked_at.is_(None),
                sa.or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > now),
            )
        select = (
            select.order_by(api_keys.c.created_at.desc(), api_keys.c.id)
            .offset(page.offset)
            .limit(page.size + 1)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select)).all()
        return list(rows[: page.size]), len(rows) > page.size

    async def revoke(self, row: Row[Any], reason: int = RevocationReason.REVOKED) -> Row[Any]:
        """Revokes a key on every replica; revoking a revoked key changes nothing."""
        if row.revoked_at is None:
            async with writing(self._engine) as connection:
                await connection.execute(
                    sa.update(api_keys)
                    .where(api_keys.c.id == row.id, api_keys.c.revoked_at.is_(None))
                    .values(revoked_at=self._clock(), revoke_reason=reason)
                )
            await self._revocations.revoke(row.id, self._revocation_until(row))
        return await self.get(row.tenant, row.id)

    async def revoke_owner(self, tenant: str, kind: str, owner_id: str, reason: int) -> None:
        """Revokes every live key of a principal."""
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(api_keys).where(
                        api_keys.c.tenant == tenant,
                        api_keys.c.owner_kind == kind,
                        api_keys.c.owner_id == owner_id,
                        api_keys.c.revoked_at.is_(None),
                    )
                )
            ).all()
        for row in rows:
            await self.revoke(row, reason)

    def _revocation_until(self, row: Row[Any]) -> float:
        horizon = self._clock() + _REVOCATION_HORIZON_S
        return min(row.expires_at, horizon) if row.expires_at else horizon

    async def resolve(self, api_key: str) -> tuple[Row[Any], Row[Any], list[str]] | None:
        """The key row, its enabled owner and its effective scopes, for a valid key; else None."""
        parts = split_credential(api_key, API_KEY_PREFIX)
        if parts is None:
            return None
        prefix, secret = API_KEY_PREFIX + parts[0], parts[1]
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix))
            ).first()
        if row is None or not self._pepper.matches(secret, row.secret_hash):
            return None
        now = self._clock()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        owner = await self._directory.principal_active(row.tenant, row.owner_kind, row.owner_id)
        if owner is None:
            return None
        _, held = await self._directory.grants(row.tenant, row.owner_kind, row.owner_id)
        scopes = [s for s in json.loads(row.scopes) if any(scope_satisfies(h, s) for h in held)]
        if row.last_used_at is None or now - row.last_used_at >= _LAST_USED_EVERY_S:
            async with writing(self._engine) as connection:
                await connection.execute(
                    sa.update(api_keys).where(api_keys.c.id == row.id).values(last_used_at=now)
                )
        return row, owner, scopes

    async def find_by_secret(self, api_key: str) -> Row[Any] | None:
        """The row of a key whose secret matches, whatever its state."""
        parts = split_credential(api_key, API_KEY_PREFIX)
        if parts is None:
            return None
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(api_keys).where(api_keys.c.prefix == API_KEY_PREFIX + parts[0])
                )
            ).first()
        return row if row is not None and self._pepper.matches(parts[1], row.secret_hash) else None

    async def principal_for_api_key(self, api_key: str) -> Principal | None:
        """The principal of a valid, unexpired key of an enabled owner, or None."""
        resolved = await self.resolve(api_key)
        if resolved is None:
            return None
        row, owner, scopes = resolved
        return Principal(
            subject=row.owner_id,
            tenant=row.tenant,
            scopes=frozenset(scopes),
            kind=CredentialKind.API_KEY,
            credential_id=row.id,
            expires_at=row.expires_at,
            client_id=owner.client_id if row.owner_kind == SERVICE_ACCOUNT else "",
        )
