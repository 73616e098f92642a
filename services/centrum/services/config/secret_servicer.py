"""SecretService: path scopes and the outage cache in front of a secret backend."""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2

from centrum.config.v1 import secret_service_pb2 as pb
from centrum.config.v1 import secret_service_pb2_grpc as pb_grpc
from centrum.interceptors.context import current_principal
from centrum.interceptors.errors import PermissionDenied
from centrum.services.config.paging import decode_token, encode_token, page_size
from centrum.services.config.secret_access import ReadCache, allowed, require_path
from centrum.services.config.secret_backend import (
    DeleteMode,
    SecretBackend,
    SecretInfo,
    VersionInfo,
)

__all__ = ["SecretServicer"]

_MODES = {
    pb.SECRET_DELETE_MODE_UNSPECIFIED: DeleteMode.SOFT,
    pb.SECRET_DELETE_MODE_SOFT: DeleteMode.SOFT,
    pb.SECRET_DELETE_MODE_DESTROY: DeleteMode.DESTROY,
    pb.SECRET_DELETE_MODE_PURGE: DeleteMode.PURGE,
}


def _timestamp(ns: int | None) -> timestamp_pb2.Timestamp | None:
    if ns is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(ns)
    return stamp


def _version(info: VersionInfo) -> pb.SecretVersionMetadata:
    return pb.SecretVersionMetadata(
        version=info.version,
        create_time=_timestamp(info.create_ns),
        deletion_time=_timestamp(info.deletion_ns),
        destroyed=info.destroyed,
        created_by=info.created_by,
    )


def _secret(info: SecretInfo) -> pb.SecretMetadata:
    return pb.SecretMetadata(
        path=info.path,
        current_version=info.current_version,
        oldest_version=info.oldest_version,
        create_time=_timestamp(info.create_ns),
        update_time=_timestamp(info.update_ns),
        created_by=info.created_by,
        updated_by=info.updated_by,
    )


class SecretServicer(pb_grpc.SecretServiceServicer):
    """Versioned secrets of the caller's tenant."""

    def __init__(self, backend: SecretBackend, cache: ReadCache) -> None:
        self._backend = backend
        self._cache = cache

    async def GetSecret(self, request: pb.GetSecretRequest, context: Any) -> pb.GetSecretResponse:
        """The data of the current or a given version."""
        principal = current_principal()
        require_path(principal, "read", request.path)
        result = await self._cache.read(principal.tenant, request.path, request.version)
        return pb.GetSecretResponse(
            path=request.path, data=dict(result.data), metadata=_version(result.info)
        )

    async def PutSecret(self, request: pb.PutSecretRequest, context: Any) -> pb.PutSecretResponse:
        """Writes a new version, with optional check-and-set."""
        principal = current_principal()
        require_path(principal, "write", request.path)
        expected = 0 if request.create_only else (request.expected_version or None)
        try:
            info = await self._backend.write(
                principal.tenant, request.path, request.data, expected, principal.subject
            )
        finally:
            self._cache.forget(principal.tenant, request.path)
        return pb.PutSecretResponse(path=request.path, metadata=_version(info))

    async def ListSecretVersions(
        self, request: pb.ListSecretVersionsRequest, context: Any
    ) -> pb.ListSecretVersionsResponse:
        """The secret's metadata and one page of its versions, newest first."""
        principal = current_principal()
        require_path(principal, "read", request.path)
        info, versions = await self._backend.versions(principal.tenant, request.path)
        below = 0
        if request.page_token:
            below = int(decode_token(request.page_token, {"p": request.path})["v"])
            versions = [v for v in versions if v.version < below]
        size = page_size(request.page_size, 50)
        token = ""
        if len(versions) > size:
            versions = versions[:size]
            token = encode_token({"p": request.path, "v": versions[-1].version})
        return pb.ListSecretVersionsResponse(
            metadata=_secret(info), versions=[_version(v) for v in versions], next_page_token=token
        )

    async def DeleteSecret(
        self, request: pb.DeleteSecretRequest, context: Any
    ) -> pb.DeleteSecretResponse:
        """Soft-deletes, destroys (secrets.admin) or purges (secrets.admin)."""
        principal = current_principal()
        mode = _MODES.get(request.mode, DeleteMode.SOFT)
        require_path(principal, "write", request.path)
        if mode is not DeleteMode.SOFT:
            if not principal.has_scope("secrets.admin"):
                raise PermissionDenied(
                    f"{mode.value} needs the secrets.admin scope",
                    reason="MISSING_SCOPE",
                    info={"scope": "secrets.admin"},
                )
            require_path(principal, "admin", request.path)
        try:
            changed = await self._backend.delete(
                principal.tenant, request.path, list(request.versions), mode
            )
        finally:
            self._cache.forget(principal.tenant, request.path)
        return pb.DeleteSecretResponse(versions=changed)

    async def ListSecrets(
        self, request: pb.ListSecretsRequest, context: Any
    ) -> pb.ListSecretsResponse:
        """One page of the metadata of the readable secrets under a prefix."""
        principal = current_principal()
        after = ""
        if request.page_token:
            after = str(decode_token(request.page_token, {"x": request.prefix})["a"])
        infos = [
            info
            for info in await self._backend.list_secrets(principal.tenant, request.prefix)
            if info.path > after and allowed(principal, "read", info.path)
        ]
        size = page_size(request.page_size, 100)
        token = ""
        if len(infos) > size:
            infos = infos[:size]
            token = encode_token({"x": request.prefix, "a": infos[-1].path})
        return pb.ListSecretsResponse(secrets=[_secret(i) for i in infos], next_page_token=token)
