"""The embedded secret store: versions in the database, data sealed under the master key.

Each version's data is AES-256-GCM encrypted by `MasterKey` with associated data binding it to
its tenant, path and version, so a ciphertext copied to another row does not decrypt. Writers of
one secret serialise on its metadata row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.services.config.secret_backend import (
    DeleteMode,
    SecretInfo,
    SecretRead,
    VersionInfo,
    already_exists,
    backend_unavailable,
    not_found,
    version_mismatch,
)
from centrum.services.config.tables import secret_versions, secrets
from centrum.services.db import DATABASE_OUTAGES, ping
from centrum.services.keys import MasterKey

__all__ = ["LocalSecretBackend", "sealing_purpose"]


def sealing_purpose(tenant: str, path: str, version: int) -> bytes:
    """The associated data binding a ciphertext to its tenant, path and version."""
    return b"\x00".join([b"centrum.config.secret", tenant.encode(), path.encode(), b"%d" % version])


def _info(row: Any) -> SecretInfo:
    return SecretInfo(
        path=row.path,
        current_version=row.current_version,
        oldest_version=row.oldest_version,
        create_ns=row.create_ns,
        update_ns=row.update_ns,
        created_by=row.created_by,
        updated_by=row.updated_by,
    )


def _version(row: Any) -> VersionInfo:
    return VersionInfo(
        version=row.version,
        create_ns=row.create_ns,
        deletion_ns=row.deletion_ns,
        destroyed=bool(row.destroyed),
        created_by=row.created_by,
    )


class LocalSecretBackend:
    """Secrets in the relational database, encrypted under the master key."""

    def __init__(
        self,
        engine: AsyncEngine,
        master_key: MasterKey,
        *,
        max_versions: int,
        retry_after_s: float,
    ) -> None:
        self._engine = engine
        self._key = master_key
        self._max_versions = max_versions
        self._retry_after_s = retry_after_s

    def _down(self, exc: BaseException) -> Exception:
        return backend_unavailable("database", exc, self._retry_after_s)

    @staticmethod
    def _secret(tenant: str, path: str) -> Any:
        return sa.and_(secrets.c.tenant == tenant, secrets.c.path == path)

    @staticmethod
    def _versions_of(tenant: str, path: str) -> Any:
        return sa.and_(secret_versions.c.tenant == tenant, secret_versions.c.path == path)

    async def read(self, tenant: str, path: str, version: int) -> SecretRead:
        """The data of `version` (0: the current one)."""
        try:
            async with self._engine.connect() as connection:
                meta = (
                    await connection.execute(sa.select(secrets).where(self._secret(tenant, path)))
                ).first()
                if meta is None:
                    raise not_found(path)
                wanted = version or meta.current_version
                row = (
                    await connection.execute(
                        sa.select(secret_versions).where(
                            self._versions_of(tenant, path), secret_versions.c.version == wanted
                        )
                    )
                ).first()
        except DATABASE_OUTAGES as exc:
            raise self._down(exc) from exc
        if row is None:
            raise not_found(path, version=wanted)
        if row.destroyed:
            raise not_found(path, "SECRET_VERSION_DESTROYED", wanted)
        if row.deletion_ns is not None:
            raise not_found(path, "SECRET_VERSION_DELETED", wanted)
        plaintext = self._key.decrypt(row.ciphertext, sealing_purpose(tenant, path, wanted))
        return SecretRead(data=json.loads(plaintext), info=_version(row))

    async def write(
        self, tenant: str, path: str, data: Mapping[str, str], expected: int | None, actor: str
    ) -> VersionInfo:
        """Writes a new version after the check-and-set test."""
        now = time.time_ns()
        try:
            async with self._engine.begin() as connection:
                meta = (
                    await connection.execute(
                        sa.update(secrets)
                        .where(self._secret(tenant, path))
                        .values(current_version=secrets.c.current_version)
                        .returning(secrets.c.current_version, secrets.c.oldest_version)
                    )
                ).first()
                current = int(meta.current_version) if meta is not None else 0
                if expected == 0 and meta is not None:
                    raise already_exists(path, current)
                if expected and expected != current:
                    raise version_mismatch(current)
                version = current + 1
                info = VersionInfo(version=version, create_ns=now, created_by=actor)
                await self._store(connection, tenant, path, data, info, meta is None)
        except IntegrityError as exc:
            # Another writer created the secret between our update and insert.
            raise version_mismatch(0) from exc
        except DATABASE_OUTAGES as exc:
            raise self._down(exc) from exc
        return info

    async def _store(
        self,
        connection: AsyncConnection,
        tenant: str,
        path: str,
        data: Mapping[str, str],
        info: VersionInfo,
        new: bool,
    ) -> None:
        version = info.version
        sealed = self._key.encrypt(
            json.dumps(dict(data), sort_keys=True).encode(),
            sealing_purpose(tenant, path, version),
        )
        if new:
            await connection.execute(
                sa.insert(secrets).values(
                    tenant=tenant,
                    path=path,
                    current_version=0,
                    oldest_version=1,
                    created_by=info.created_by,
                    updated_by=info.created_by,
                    create_ns=info.create_ns,
                    update_ns=info.create_ns,
                )
            )
        await connection.execute(
            sa.insert(secret_versions).values(
                tenant=tenant,
                path=path,
                version=version,
                ciphertext=sealed,
                created_by=info.created_by,
                create_ns=info.create_ns,
                deletion_ns=None,
                destroyed=False,
            )
        )
        oldest = max(1, version - self._max_versions + 1)
        await connection.execute(
            sa.delete(secret_versions).where(
                self._versions_of(tenant, path), secret_versions.c.version < oldest
            )
        )
        await connection.execute(
            sa.update(secrets)
            .where(self._secret(tenant, path))
            .values(
                current_version=version,
                oldest_version=oldest,
                updated_by=info.created_by,
                update_ns=info.create_ns,
            )
        )

    async def versions(self, tenant: str, path: str) -> tuple[SecretInfo, list[VersionInfo]]:
        """The secret's metadata and its kept versions, newest first."""
        try:
            async with self._engine.connect() as connection:
                meta = (
                    await connection.execute(sa.select(secrets).where(self._secret(tenant, path)))
                ).first()
                rows = await connection.execute(
                    sa.select(secret_versions)
                    .where(self._versions_of(tenant, path))
                    .order_by(secret_versions.c.version.desc())
                )
                versions = [_version(row) for row in rows]
        except DATABASE_OUTAGES as exc:
            raise self._down(exc) from exc
        if meta is None:
            raise not_found(path)
        return _info(meta), versions

    async def delete(
        self, tenant: str, path: str, versions: list[int], mode: DeleteMode
    ) -> list[int]:
        """Soft-deletes, destroys or purges; returns the versions this call changed."""
        now = time.time_ns()
        v = secret_versions.c
        try:
            async with self._engine.begin() as connection:
                meta = (
                    await connection.execute(
                        sa.update(secrets)
                        .where(self._secret(tenant, path))
                        .values(update_ns=now)
                        .returning(secrets.c.current_version)
                    )
                ).first()
                if meta is None:
                    raise not_found(path)
                mine = self._versions_of(tenant, path)
                if mode is DeleteMode.PURGE:
                    rows = await connection.execute(sa.select(v.version).where(mine))
                    changed = sorted(int(r.version) for r in rows)
                    await connection.execute(sa.delete(secret_versions).where(mine))
                    await connection.execute(sa.delete(secrets).where(self._secret(tenant, path)))
                    return changed
                wanted = versions or [int(meta.current_version)]
                pending: Any = v.destroyed.is_(False)
                if mode is DeleteMode.SOFT:
                    pending = sa.and_(pending, v.deletion_ns.is_(None))
                selected = sa.and_(mine, v.version.in_(wanted), pending)
                rows = await connection.execute(sa.select(v.version).where(selected))
                changed = sorted(int(r.version) for r in rows)
                values: dict[str, Any] = (
                    {"deletion_ns": now}
                    if mode is DeleteMode.SOFT
                    else {"destroyed": True, "ciphertext": None}
                )
                await connection.execute(sa.update(secret_versions).where(selected).values(values))
                return changed
        except DATABASE_OUTAGES as exc:
            raise self._down(exc) from exc

    async def list_secrets(self, tenant: str, prefix: str) -> list[SecretInfo]:
        """Metadata of the tenant's secrets whose paths start with `prefix`, in path order."""
        try:
            async with self._engine.connect() as connection:
                rows = await connection.execute(
                    sa.select(secrets)
                    .where(
                        secrets.c.tenant == tenant,
                        secrets.c.path.startswith(prefix, autoescape=True),
                    )
                    .order_by(secrets.c.path)
                )
                return [_info(row) for row in rows]
        except DATABASE_OUTAGES as exc:
            raise self._down(exc) from exc

    async def ping(self) -> bool:
        """Tells whether the database answers."""
        return await ping(self._engine)
