"""Secrets in Vault/OpenBao KV version 2, through hvac.

Each tenant's secrets live under `<mount>/data/<root>/<tenant>/<path>`; who wrote the first and
the latest version is kept in the secret's custom metadata. hvac is synchronous, so every call
runs in a worker thread. Connection failures, timeouts and 5xx answers become UNAVAILABLE; the
exception's text is never passed on (Vault echoes request details in some messages).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import hvac
import hvac.exceptions
import requests

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

__all__ = ["VaultSecretBackend"]

_T = TypeVar("_T")
_DOWN = (
    requests.exceptions.RequestException,
    hvac.exceptions.VaultDown,
    hvac.exceptions.InternalServerError,
    hvac.exceptions.BadGateway,
    hvac.exceptions.RateLimitExceeded,
    hvac.exceptions.Unauthorized,
    hvac.exceptions.Forbidden,
    hvac.exceptions.VaultNotInitialized,
    hvac.exceptions.UnexpectedError,
    OSError,
)
_FRACTION = re.compile(r"\.(\d+)")


def _ns(stamp: str | None) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 time from Vault; None for an empty one."""
    if not stamp:
        return None
    fraction = _FRACTION.search(stamp)
    digits = fraction.group(1) if fraction else ""
    base = datetime.fromisoformat(_FRACTION.sub("", stamp, count=1).replace("Z", "+00:00"))
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    return int(base.timestamp()) * 1_000_000_000 + int((digits + "0" * 9)[:9])


class VaultSecretBackend:
    """Versioned secrets in a KV v2 mount of Vault or OpenBao."""

    def __init__(
        self,
        addr: str,
        token: str,
        *,
        mount: str,
        root: str,
        timeout_s: float,
        retry_after_s: float,
    ) -> None:
        self._client = hvac.Client(url=addr, token=token, timeout=timeout_s)
        self._kv = self._client.secrets.kv.v2
        self._mount = mount
        self._root = root.strip("/")
        self._retry_after_s = retry_after_s

    def _path(self, tenant: str, path: str) -> str:
        return f"{self._root}/{quote(tenant, safe='')}/{path}"

    async def _call(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return await asyncio.to_thread(function, *args, mount_point=self._mount, **kwargs)
        except _DOWN as exc:
            raise backend_unavailable("vault", exc, self._retry_after_s) from None

    async def read(self, tenant: str, path: str, version: int) -> SecretRead:
        """The data of `version` (0: the current one)."""
        try:
            response = await self._call(
                self._kv.read_secret_version,
                self._path(tenant, path),
                version=version or None,
                raise_on_deleted_version=True,
            )
        except hvac.exceptions.InvalidPath as exc:
            metadata = ((exc.json or {}).get("data") or {}).get("metadata") or {}
            number = int(metadata.get("version") or version)
            if metadata.get("destroyed"):
                raise not_found(path, "SECRET_VERSION_DESTROYED", number) from None
            if metadata.get("deletion_time"):
                raise not_found(path, "SECRET_VERSION_DELETED", number) from None
            raise not_found(path, version=version) from None
        data = response["data"]
        metadata = data["metadata"]
        info = VersionInfo(
            version=int(metadata["version"]), create_ns=_ns(metadata["created_time"]) or 0
        )
        return SecretRead(data={str(k): str(v) for k, v in data["data"].items()}, info=info)

    async def write(
        self, tenant: str, path: str, data: Mapping[str, str], expected: int | None, actor: str
    ) -> VersionInfo:
        """Writes a new version with Vault's check-and-set (`cas`)."""
        target = self._path(tenant, path)
        try:
            response = await self._call(
                self._kv.create_or_update_secret, target, secret=dict(data), cas=expected
            )
        except hvac.exceptions.InvalidRequest:
            current = await self._current_version(target)
            if expected == 0 and current:
                raise already_exists(path, current) from None
            raise version_mismatch(current) from None
        written = response["data"]
        version = int(written["version"])
        custom = {"updated_by": actor}
        if version == 1:
            custom["created_by"] = actor
        else:
            previous = await self._metadata(target)
            custom["created_by"] = (previous.get("custom_metadata") or {}).get("created_by", "")
        await self._call(self._kv.update_metadata, target, custom_metadata=custom)
        return VersionInfo(
            version=version, create_ns=_ns(written["created_time"]) or 0, created_by=actor
        )

    async def _metadata(self, target: str) -> dict[str, Any]:
        response = await self._call(self._kv.read_secret_metadata, target)
        return dict(response["data"])

    async def _current_version(self, target: str) -> int:
        try:
            return int((await self._metadata(target))["current_version"])
        except hvac.exceptions.InvalidPath:
            return 0

    async def versions(self, tenant: str, path: str) -> tuple[SecretInfo, list[VersionInfo]]:
        """The secret's metadata and its kept versions, newest first."""
        try:
            metadata = await self._metadata(self._path(tenant, path))
        except hvac.exceptions.InvalidPath:
            raise not_found(path) from None
        return self._info(path, metadata), self._versions(metadata)

    @staticmethod
    def _info(path: str, metadata: Mapping[str, Any]) -> SecretInfo:
        custom = metadata.get("custom_metadata") or {}
        return SecretInfo(
            path=path,
            current_version=int(metadata["current_version"]),
            oldest_version=int(metadata.get("oldest_version") or 1) or 1,
            create_ns=_ns(metadata.get("created_time")) or 0,
            update_ns=_ns(metadata.get("updated_time")) or 0,
            created_by=str(custom.get("created_by", "")),
            updated_by=str(custom.get("updated_by", "")),
        )

    @staticmethod
    def _versions(metadata: Mapping[str, Any]) -> list[VersionInfo]:
        current = int(metadata["current_version"])
        updated_by = str((metadata.get("custom_metadata") or {}).get("updated_by", ""))
        versions = [
            VersionInfo(
                version=int(number),
                create_ns=_ns(entry.get("created_time")) or 0,
                deletion_ns=_ns(entry.get("deletion_time")),
                destroyed=bool(entry.get("destroyed")),
                created_by=updated_by if int(number) == current else "",
            )
            for number, entry in (metadata.get("versions") or {}).items()
        ]
        return sorted(versions, key=lambda v: v.version, reverse=True)

    async def delete(
        self, tenant: str, path: str, versions: list[int], mode: DeleteMode
    ) -> list[int]:
        """Soft-deletes, destroys or purges; returns the versions this call changed."""
        target = self._path(tenant, path)
        try:
            metadata = await self._metadata(target)
        except hvac.exceptions.InvalidPath:
            raise not_found(path) from None
        kept = {v.version: v for v in self._versions(metadata)}
        if mode is DeleteMode.PURGE:
            await self._call(self._kv.delete_metadata_and_all_versions, target)
            return sorted(kept)
        wanted = versions or [int(metadata["current_version"])]
        changed = sorted(
            v
            for v in set(wanted)
            if v in kept
            and not kept[v].destroyed
            and (mode is DeleteMode.DESTROY or kept[v].deletion_ns is None)
        )
        if changed:
            operation = (
                self._kv.delete_secret_versions
                if mode is DeleteMode.SOFT
                else self._kv.destroy_secret_versions
            )
            await self._call(operation, target, versions=changed)
        return changed

    async def list_secrets(self, tenant: str, prefix: str) -> list[SecretInfo]:
        """Metadata of the tenant's secrets under `prefix`, listing folders recursively."""
        base = self._path(tenant, "")
        folder = prefix.rpartition("/")[0]
        paths: list[str] = []
        pending = [folder + "/" if folder else ""]
        while pending:
            relative = pending.pop()
            try:
                response = await self._call(self._kv.list_secrets, base + relative)
            except hvac.exceptions.InvalidPath:
                continue
            for name in response["data"]["keys"]:
                full = relative + name
                if not (full.startswith(prefix) or prefix.startswith(full)):
                    continue
                if name.endswith("/"):
                    pending.append(full)
                elif full.startswith(prefix):
                    paths.append(full)
        infos = []
        for path in sorted(paths):
            try:
                infos.append(self._info(path, await self._metadata(base + path)))
            except hvac.exceptions.InvalidPath:
                continue  # purged meanwhile
        return infos

    async def ping(self) -> bool:
        """Tells whether Vault answers its health endpoint as active and unsealed."""
        try:
            return bool(await asyncio.to_thread(self._client.sys.is_initialized))
        except Exception:
            return False
