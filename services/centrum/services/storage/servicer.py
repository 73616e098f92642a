"""The StorageService servicer: requests in, domain calls, responses out."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from centrum.interceptors.context import Principal, current_principal
from centrum.interceptors.encoded import BytesField, Encoded
from centrum.interceptors.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from centrum.services.storage.buckets import Buckets
from centrum.services.storage.naming import normalize_key
from centrum.services.storage.objects import Objects, UploadSpec
from centrum.services.storage.signing import SignedGrant, UrlSigner
from centrum.storage.v1 import object_pb2, storage_service_pb2_grpc
from centrum.storage.v1 import storage_service_pb2 as pb

__all__ = ["StorageServicer"]

MAX_CHUNK_BYTES = 4 * 1024 * 1024
_DEFAULT_TTL_S = 15 * 60
_MAX_TTL_S = 7 * 24 * 3600
_DOWNLOAD_CHUNK = BytesField(pb.DownloadResponse, "chunk")


def _invalid(field: str, description: str, reason: str = "INVALID_REQUEST") -> InvalidArgument:
    return InvalidArgument(
        f"{field}: {description}",
        reason=reason,
        field_violations=[FieldViolation(field, description)],
    )


class StorageServicer(storage_service_pb2_grpc.StorageServiceServicer):
    """Implements centrum.storage.v1.StorageService on the bucket and object domain."""

    def __init__(self, buckets: Buckets, objects: Objects, signer: UrlSigner | None) -> None:
        self._buckets = buckets
        self._objects = objects
        self.signer = signer
        """Signs local URLs; set once the HTTP endpoint is up (None while disabled)."""

    async def Upload(
        self,
        request_iterator: AsyncIterator[pb.UploadRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.UploadResponse:
        """Stores an object from a header message followed by chunk messages."""
        principal = current_principal()
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("payload") != "header":
            raise _invalid("header", "the first message must be the header", "HEADER_MISSING")
        header = first.header

        async def chunks() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                if message.WhichOneof("payload") != "chunk":
                    raise _invalid(
                        "header", "only the first message may be a header", "HEADER_REPEATED"
                    )
                chunk = message.chunk  # each read of a bytes field copies it
                if len(chunk) > MAX_CHUNK_BYTES:
                    raise _invalid("chunk", f"chunks are at most {MAX_CHUNK_BYTES} bytes")
                yield chunk

        spec = UploadSpec(
            bucket=header.bucket,
            key=header.key,
            content_type=header.content_type,
            size_bytes=header.size_bytes,
            sha256=header.sha256 if header.HasField("sha256") else None,
            metadata=dict(header.metadata),
            access=header.access,
            if_none_match=header.if_none_match,
            if_match=header.if_match if header.HasField("if_match") else None,
            cache_control=header.cache_control,
            content_disposition=header.content_disposition,
        )
        stored = await self._objects.upload(principal, spec, chunks())
        return pb.UploadResponse(object=stored)

    # The generated base knows only DownloadResponse; the chain's serializer also sends Encoded.
    async def Download(  # type: ignore[override]
        self, request: pb.DownloadRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.DownloadResponse | Encoded]:
        """Streams the object's metadata, then its bytes (or the requested range).

        Chunks go out already encoded: one copy of each chunk instead of protobuf's two.
        """
        principal = current_principal()
        metadata, body = await self._objects.open_read(
            principal,
            request.bucket,
            request.key,
            request.range.offset,
            request.range.length,
            request.if_match if request.HasField("if_match") else None,
        )
        yield pb.DownloadResponse(object=metadata)
        async for chunk in body:
            yield _DOWNLOAD_CHUNK.encode(chunk)

    async def StatObject(
        self, request: pb.StatObjectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.StatObjectResponse:
        """Returns an object's metadata."""
        return pb.StatObjectResponse(
            object=await self._objects.stat(current_principal(), request.bucket, request.key)
        )

    async def ListObjects(
        self, request: pb.ListObjectsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListObjectsResponse:
        """Lists a page of a bucket's readable objects."""
        objects, prefixes, token = await self._objects.list_page(
            current_principal(),
            request.bucket,
            request.prefix,
            request.delimiter,
            request.page_size,
            request.page_token,
        )
        return pb.ListObjectsResponse(
            objects=objects, common_prefixes=prefixes, next_page_token=token
        )

    async def DeleteObject(
        self, request: pb.DeleteObjectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.DeleteObjectResponse:
        """Deletes an object (idempotently)."""
        await self._objects.delete(
            current_principal(),
            request.bucket,
            request.key,
            request.if_match if request.HasField("if_match") else None,
        )
        return pb.DeleteObjectResponse()

    async def CopyObject(
        self, request: pb.CopyObjectRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CopyObjectResponse:
        """Copies an object through the full upload path."""
        copied = await self._objects.copy(
            current_principal(),
            request.source_bucket,
            request.source_key,
            request.source_if_match if request.HasField("source_if_match") else None,
            UploadSpec(
                bucket=request.destination_bucket,
                key=request.destination_key,
                content_type=request.content_type,
                size_bytes=0,
                metadata=dict(request.metadata),
                access=request.access,
                if_none_match=request.if_none_match,
                cache_control=request.cache_control,
                content_disposition=request.content_disposition,
            ),
            request.replace_metadata,
        )
        return pb.CopyObjectResponse(object=copied)

    async def CreateSignedUrl(
        self, request: pb.CreateSignedUrlRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CreateSignedUrlResponse:
        """Creates a time-limited GET or PUT URL."""
        principal = current_principal()
        ttl_s = request.ttl.ToSeconds() if request.HasField("ttl") else _DEFAULT_TTL_S
        if not 0 < ttl_s <= _MAX_TTL_S:
            raise _invalid("ttl", "must be positive and at most 7 days")
        expires = int(time.time()) + ttl_s
        response = pb.CreateSignedUrlResponse()
        response.expire_time.FromSeconds(expires)
        if request.method == pb.SIGNED_URL_METHOD_GET:
            response.url = await self._sign_get(principal, request, ttl_s, expires)
        elif request.method == pb.SIGNED_URL_METHOD_PUT:
            response.url = await self._sign_put(principal, request, expires)
            response.required_headers["Content-Type"] = request.content_type.lower()
        else:
            raise _invalid("method", "must be GET or PUT")
        return response

    async def _sign_get(
        self, principal: Principal, request: pb.CreateSignedUrlRequest, ttl_s: int, expires: int
    ) -> str:
        stored = await self._objects.stat(principal, request.bucket, request.key)
        if stored.scan_state not in (object_pb2.SCAN_STATE_CLEAN, object_pb2.SCAN_STATE_SKIPPED):
            raise FailedPrecondition(
                "the object is not readable yet", reason="OBJECT_NOT_SCANNED_CLEAN"
            )
        if stored.encryption.algorithm == object_pb2.ENCRYPTION_ALGORITHM_NONE:
            record = await self._objects._record(principal.tenant, stored.bucket, stored.key)
            if record is None:
                raise NotFound(
                    "object not found", resource=("object", f"{request.bucket}/{request.key}")
                )
            headers = {"ResponseContentType": stored.content_type}
            if stored.content_disposition:
                headers["ResponseContentDisposition"] = stored.content_disposition
            if stored.cache_control:
                headers["ResponseCacheControl"] = stored.cache_control
            url = await self._objects.blobs.presign_get(
                principal.tenant, record.blob, ttl_s, headers
            )
            if url is not None:
                return url
        return self._require_signer().sign(
            SignedGrant(
                tenant=principal.tenant,
                bucket=stored.bucket,
                key=stored.key,
                method="GET",
                expires=expires,
                content_type="",
                size=None,
                subject=principal.subject,
            )
        )

    async def _sign_put(
        self, principal: Principal, request: pb.CreateSignedUrlRequest, expires: int
    ) -> str:
        if not principal.has_scope("storage.write"):
            raise PermissionDenied(
                "a PUT URL needs storage.write",
                reason="MISSING_SCOPE",
                info={"scope": "storage.write"},
            )
        if not request.content_type:
            raise _invalid("content_type", "is required for PUT")
        size = request.size_bytes if request.HasField("size_bytes") else None
        spec, _, _ = await self._objects.check_upload(
            principal,
            UploadSpec(
                bucket=request.bucket,
                key=request.key,
                content_type=request.content_type,
                size_bytes=size or 0,
            ),
            prefix="",
        )
        return self._require_signer().sign(
            SignedGrant(
                tenant=principal.tenant,
                bucket=spec.bucket,
                key=normalize_key(spec.key),
                method="PUT",
                expires=expires,
                content_type=spec.content_type,
                size=size,
                subject=principal.subject,
            )
        )

    def _require_signer(self) -> UrlSigner:
        if self.signer is None:
            raise FailedPrecondition(
                "signed URLs need the storage HTTP endpoint (storage.http_listen)",
                reason="SIGNED_URLS_DISABLED",
            )
        return self.signer

    async def SetObjectAccess(
        self, request: pb.SetObjectAccessRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.SetObjectAccessResponse:
        """Changes an object's access."""
        updated = await self._objects.set_access(
            current_principal(), request.bucket, request.key, request.access
        )
        return pb.SetObjectAccessResponse(object=updated)

    async def GetUsage(
        self, request: pb.GetUsageRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetUsageResponse:
        """Returns the tenant's usage against its quota."""
        usage = await self._objects.usage(current_principal().tenant)
        response = pb.GetUsageResponse(
            size_bytes=usage.size_bytes,
            object_count=usage.object_count,
            buckets=[
                pb.BucketUsage(bucket=b, size_bytes=s, object_count=c) for b, s, c in usage.buckets
            ],
        )
        if usage.quota_bytes is not None:
            response.quota_bytes = usage.quota_bytes
        response.compute_time.GetCurrentTime()
        return response

    async def CreateBucket(
        self, request: pb.CreateBucketRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.CreateBucketResponse:
        """Creates a bucket in the caller's tenant."""
        record = await self._buckets.create(
            current_principal().tenant,
            request.name,
            request.settings if request.HasField("settings") else None,
        )
        return pb.CreateBucketResponse(bucket=record.to_proto())

    async def GetBucket(
        self, request: pb.GetBucketRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.GetBucketResponse:
        """Returns a bucket of the caller's tenant."""
        record = await self._buckets.get(current_principal().tenant, request.name)
        return pb.GetBucketResponse(bucket=record.to_proto())

    async def ListBuckets(
        self, request: pb.ListBucketsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListBucketsResponse:
        """Lists the caller's tenant's buckets."""
        records, token = await self._buckets.list_page(
            current_principal().tenant, request.page_size, request.page_token
        )
        return pb.ListBucketsResponse(
            buckets=[r.to_proto() for r in records], next_page_token=token
        )

    async def UpdateBucket(
        self, request: pb.UpdateBucketRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.UpdateBucketResponse:
        """Changes a bucket's settings."""
        record = await self._buckets.update(
            current_principal().tenant, request.name, request.settings, request.update_mask
        )
        return pb.UpdateBucketResponse(bucket=record.to_proto())

    async def DeleteBucket(
        self, request: pb.DeleteBucketRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.DeleteBucketResponse:
        """Deletes an empty bucket."""
        await self._buckets.delete(current_principal().tenant, request.name)
        return pb.DeleteBucketResponse()
