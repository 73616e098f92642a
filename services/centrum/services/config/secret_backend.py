"""The seam between the secret service and where secret versions live (Vault KV v2 semantics).

Backends raise the service's status exceptions: NOT_FOUND (reasons SECRET_NOT_FOUND,
SECRET_VERSION_DELETED, SECRET_VERSION_DESTROYED), ABORTED (VERSION_MISMATCH with the current
version), ALREADY_EXISTS, and UNAVAILABLE when the backend cannot be reached. No message they
raise contains secret data.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from centrum.interceptors.errors import Aborted, AlreadyExists, NotFound, Unavailable

__all__ = [
    "DeleteMode",
    "SecretBackend",
    "SecretInfo",
    "SecretRead",
    "VersionInfo",
    "already_exists",
    "backend_unavailable",
    "not_found",
    "version_mismatch",
]


class DeleteMode(enum.Enum):
    """How DeleteSecret removes data."""

    SOFT = "soft"
    DESTROY = "destroy"
    PURGE = "purge"


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """Metadata of one version of a secret."""

    version: int
    create_ns: int
    deletion_ns: int | None = None
    destroyed: bool = False
    created_by: str = ""


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """Metadata of a secret as a whole."""

    path: str
    current_version: int
    oldest_version: int
    create_ns: int
    update_ns: int
    created_by: str = ""
    updated_by: str = ""


@dataclass(frozen=True, slots=True)
class SecretRead:
    """The data of one version and its metadata."""

    data: Mapping[str, str]
    info: VersionInfo


class SecretBackend(Protocol):
    """Versioned secrets per tenant and path."""

    async def read(self, tenant: str, path: str, version: int) -> SecretRead:
        """The data of `version` (0: the current one)."""

    async def write(
        self, tenant: str, path: str, data: Mapping[str, str], expected: int | None, actor: str
    ) -> VersionInfo:
        """Writes a new version; `expected` None: no check, 0: create only, N: check-and-set."""

    async def versions(self, tenant: str, path: str) -> tuple[SecretInfo, list[VersionInfo]]:
        """The secret's metadata and its kept versions, newest first."""

    async def delete(
        self, tenant: str, path: str, versions: list[int], mode: DeleteMode
    ) -> list[int]:
        """Soft-deletes, destroys or purges; returns the versions this call changed."""

    async def list_secrets(self, tenant: str, prefix: str) -> list[SecretInfo]:
        """Metadata of the tenant's secrets whose paths start with `prefix`, in path order."""

    async def ping(self) -> bool:
        """Tells whether the backend answers."""


def not_found(path: str, reason: str = "SECRET_NOT_FOUND", version: int = 0) -> NotFound:
    """NOT_FOUND for a secret or one of its versions."""
    what = {
        "SECRET_NOT_FOUND": "does not exist",
        "SECRET_VERSION_DELETED": "is deleted",
        "SECRET_VERSION_DESTROYED": "is destroyed",
    }[reason]
    subject = f"version {version} of secret {path}" if version else f"secret {path}"
    return NotFound(
        f"{subject} {what}",
        reason=reason,
        info={"version": str(version)} if version else {},
        resource=("secret", path),
    )


def version_mismatch(current: int) -> Aborted:
    """ABORTED for a failed check-and-set, naming the current version."""
    return Aborted(
        f"the secret's current version is {current}",
        reason="VERSION_MISMATCH",
        info={"current_version": str(current)},
    )


def already_exists(path: str, current: int) -> AlreadyExists:
    """ALREADY_EXISTS for a create-only write of an existing secret."""
    return AlreadyExists(
        f"secret {path} exists already",
        reason="SECRET_EXISTS",
        info={"current_version": str(current)},
        resource=("secret", path),
    )


def backend_unavailable(backend: str, exc: BaseException, retry_after_s: float) -> Unavailable:
    """UNAVAILABLE naming the backend and the exception class (never its text)."""
    return Unavailable(
        f"the secret backend is unavailable ({exc.__class__.__name__})",
        reason="BACKEND_UNAVAILABLE",
        info={"backend": backend},
        retry_after_s=retry_after_s,
    )
