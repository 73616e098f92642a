"""Objects: validated, scanned, encrypted uploads; access-checked, ranged downloads; listings.

The data path of an upload: header checks (key, type, size, quota) -> sniffing the first bytes
-> for each chunk: SHA-256, scan, encryption, blob writer -> size, digest and scan verdict ->
blob commit -> one database transaction that makes the object visible. Any failure on the way
aborts the blob writer, so nothing becomes visible and the previous version stays.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog
from cryptography.exceptions import InvalidTag
from google.protobuf import struct_pb2
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.audit.v1 import audit_pb2
from centrum.interceptors.audit import AuditRecorder
from centrum.interceptors.context import Principal, current_request
from centrum.interceptors.errors import (
    AlreadyExists,
    DataLoss,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    OutOfRange,
    ResourceExhausted,
    Unavailable,
)
from centrum.interceptors.request_context import time_ordered_id
from centrum.services.db import OneHop
from centrum.services.storage.blobs import BlobStore, BlobWriter
from centrum.services.storage.buckets import (
    BucketRecord,
    Buckets,
    database,
    decode_page_token,
    encode_page_token,
    lock_bucket,
    page_size_of,
    read_in_one_hop,
)
from centrum.services.storage.crypto import (
    DataKey,
    SegmentDecryptor,
    SegmentEncryptor,
    ciphertext_size,
    segment_span,
)
from centrum.services.storage.keywrap import KeyWrapper
from centrum.services.storage.naming import (
    content_type_allowed,
    content_type_violations,
    key_violations,
    metadata_violations,
    normalize_key,
)
from centrum.services.storage.scanning import Scanner, ScanSession
from centrum.services.storage.settings import StorageSettings
from centrum.services.storage.sniff import SNIFF_BYTES, declared_type_matches, sniff
from centrum.services.storage.tables import storage_objects
from centrum.storage.v1 import object_pb2

__all__ = ["ObjectRecord", "Objects", "UploadSpec", "Usage"]

_log = structlog.get_logger("centrum.storage")

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_READABLE_SCANS = (object_pb2.SCAN_STATE_CLEAN, object_pb2.SCAN_STATE_SKIPPED)
_SCOPE_ADMIN = "storage.admin"
_OBJECT = sa.select(storage_objects).where(
    storage_objects.c.tenant == sa.bindparam("k_tenant"),
    storage_objects.c.bucket == sa.bindparam("k_bucket"),
    storage_objects.c.key == sa.bindparam("k_key"),
)
"""One object's row, by tenant, bucket and key (built once: building costs more than running)."""


@dataclass(frozen=True)
class UploadSpec:
    """What an upload stores: the header of an Upload stream (or of a signed PUT, or a copy)."""

    bucket: str
    key: str
    content_type: str
    size_bytes: int
    sha256: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    access: int = object_pb2.OBJECT_ACCESS_UNSPECIFIED
    if_none_match: bool = False
    if_match: str | None = None
    cache_control: str = ""
    content_disposition: str = ""


@dataclass(frozen=True)
class ObjectRecord:
    """An object's metadata row."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def size(self) -> int:
        """Plaintext size."""
        return int(self.values["size_bytes"])

    @property
    def blob(self) -> str:
        """Blob id of the bytes."""
        return str(self.values["blob_id"])

    @property
    def encrypted(self) -> bool:
        """Whether the bytes are encrypted at rest."""
        return bool(
            self.values["encryption"] == object_pb2.ENCRYPTION_ALGORITHM_AES_256_GCM_SEGMENTED
        )

    def readable_by(self, principal: Principal) -> bool:
        """Whether the principal (of the object's tenant) may read the object."""
        access = self.values["access"]
        return bool(
            principal.has_scope(_SCOPE_ADMIN)
            or self.values["owner"] == principal.subject
            or access in (object_pb2.OBJECT_ACCESS_TENANT, object_pb2.OBJECT_ACCESS_PUBLIC_READ)
        )

    def to_proto(self, public_url: str = "") -> object_pb2.Object:
        """The Object message (never any key material)."""
        v = self.values
        message = object_pb2.Object(
            bucket=str(v["bucket"]),
            key=str(v["key"]),
            size_bytes=self.size,
            content_type=str(v["content_type"]),
            sha256=str(v["sha256"]),
            etag=str(v["etag"]),
            metadata=json.loads(str(v["user_metadata"])),
            owner=str(v["owner"]),
            access=v["access"],
            encryption=object_pb2.EncryptionInfo(
                algorithm=v["encryption"],
                key_provider=v["key_provider"],
                key_id=str(v["key_id"]),
                key_version=int(v["key_version"]),
            ),
            scan_state=v["scan_state"],
            scan_signature=str(v["scan_signature"]),
            cache_control=str(v["cache_control"]),
            content_disposition=str(v["content_disposition"]),
            public_url=public_url if v["access"] == object_pb2.OBJECT_ACCESS_PUBLIC_READ else "",
        )
        if v["scan_time"] is not None:
            message.scan_time.FromNanoseconds(int(float(v["scan_time"]) * 1e9))
        message.create_time.FromNanoseconds(int(float(v["create_time"]) * 1e9))
        message.update_time.FromNanoseconds(int(float(v["update_time"]) * 1e9))
        return message


@dataclass(frozen=True)
class Usage:
    """A tenant's stored bytes and objects, per bucket, against its quota."""

    size_bytes: int
    object_count: int
    quota_bytes: int | None
    buckets: list[tuple[str, int, int]]


def _invalid(message: str, violations: list[FieldViolation], reason: str) -> InvalidArgument:
    return InvalidArgument(message, reason=reason, field_violations=violations)


def _not_found(bucket: str, key: str) -> NotFound:
    return NotFound(
        f"object {key!r} not found in {bucket!r}", resource=("object", f"{bucket}/{key}")
    )


async def _head_and_rest(
    chunks: AsyncIterator[bytes],
) -> tuple[bytes, AsyncIterator[bytes]]:
    """Reads at least SNIFF_BYTES (or everything) and returns them with the remaining stream."""
    head = bytearray()
    exhausted = True
    async for chunk in chunks:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            exhausted = False
            break

    async def rest() -> AsyncIterator[bytes]:
        if not exhausted:
            async for chunk in chunks:
                yield chunk

    return bytes(head), rest()


class Objects:
    """The object operations of one tenant-scoped store."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        buckets: Buckets,
        blobs: BlobStore,
        key_wrapper: KeyWrapper | None,
        scanner: Scanner,
        scanner_name: str,
        settings: StorageSettings,
        audit: AuditRecorder,
        public_url: Callable[[str, str, str], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._hop = OneHop(engine)
        self._buckets = buckets
        self.blobs = blobs
        self._wrapper = key_wrapper
        self._scanner = scanner
        self._scanner_name = scanner_name
        self._settings = settings
        self._audit = audit
        self.public_url = public_url
        self._clock = clock
        self._retiring: set[asyncio.Task[None]] = set()
        self.in_use: set[str] = set()
        """Blobs being written, or replaced but still readable: the sweeper leaves them."""

    def _retire(self, tenant: str, blob_id: str) -> None:
        """Deletes an overwritten object's bytes after the grace period (see settings).

        A download reads the object's row, then its bytes; deleting replaced bytes at once
        made a download that raced an overwrite fail with DATA_LOSS. Bytes of a process that
        stops within the grace period stay behind until the sweeper removes them.
        """

        async def later() -> None:
            await asyncio.sleep(self._settings.replaced_blob_grace_s)
            try:
                await self.blobs.delete(tenant, blob_id)
            except Exception as exc:  # a later sweep can remove them; never fail a caller
                _log.warning("replaced object bytes not deleted", blob=blob_id, error=repr(exc))
            finally:
                self.in_use.discard(blob_id)

        self.in_use.add(blob_id)
        task = asyncio.get_running_loop().create_task(later(), name=f"retire-{blob_id}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    # --- reading -------------------------------------------------------------------------

    def _proto(self, record: ObjectRecord, tenant: str) -> object_pb2.Object:
        url = (
            self.public_url(tenant, str(record.bucket), str(record.key)) if self.public_url else ""
        )
        return record.to_proto(url)

    async def _record(
        self, tenant: str, bucket: str, key: str, connection: AsyncConnection | None = None
    ) -> ObjectRecord | None:
        where = {"k_tenant": tenant, "k_bucket": bucket, "k_key": key}
        if connection is not None:
            row = (await connection.execute(_OBJECT, where)).first()
        else:
            row = await read_in_one_hop(self._hop, lambda c: c.execute(_OBJECT, where).first())
        return None if row is None else ObjectRecord(dict(row._mapping))

    async def _readable(self, principal: Principal, bucket: str, key: str) -> ObjectRecord:
        record = await self._record(principal.tenant, bucket, normalize_key(key))
        if record is None or not record.readable_by(principal):
            raise _not_found(bucket, key)
        return record

    async def stat(self, principal: Principal, bucket: str, key: str) -> object_pb2.Object:
        """The metadata of an object the caller may read."""
        return self._proto(await self._readable(principal, bucket, key), principal.tenant)

    @staticmethod
    def _check_scan(record: ObjectRecord) -> None:
        if record.scan_state not in _READABLE_SCANS:
            raise FailedPrecondition(
                "the object is not readable: its scan state is "
                + object_pb2.ScanState.Name(int(record.scan_state)),
                reason="OBJECT_NOT_SCANNED_CLEAN",
            )

    async def open_read(
        self,
        principal: Principal,
        bucket: str,
        key: str,
        offset: int,
        length: int,
        if_match: str | None,
    ) -> tuple[object_pb2.Object, AsyncIterator[bytes]]:
        """Metadata and the byte stream of an object (or a range) the caller may read."""
        record = await self._readable(principal, bucket, key)
        return self._proto(record, principal.tenant), self._open(record, offset, length, if_match)

    async def open_public(
        self, tenant: str, bucket: str, key: str, *, require_public: bool
    ) -> tuple[ObjectRecord, AsyncIterator[bytes]]:
        """An object for the HTTP endpoint: by a signed URL, or public-read without one."""
        record = await self._record(tenant, bucket, key)
        if record is None:
            raise _not_found(bucket, key)
        if require_public:
            bucket_record = await self._buckets.get(tenant, bucket)
            if (
                record.access != object_pb2.OBJECT_ACCESS_PUBLIC_READ
                or not bucket_record.allow_public_read
            ):
                raise _not_found(bucket, key)
        return record, self._open(record, 0, 0, None)

    def _open(
        self, record: ObjectRecord, offset: int, length: int, if_match: str | None
    ) -> AsyncIterator[bytes]:
        self._check_scan(record)
        if if_match is not None and if_match != record.etag:
            raise FailedPrecondition(
                "the object's etag differs from if_match",
                reason="ETAG_MISMATCH",
                info={"etag": str(record.etag)},
            )
        size = record.size
        if offset < 0 or length < 0:
            raise _invalid(
                "ranges are non-negative",
                [FieldViolation("range", "offset and length must not be negative")],
                "INVALID_RANGE",
            )
        if offset and offset >= size:
            raise OutOfRange(
                f"offset {offset} is at or beyond the object's size {size}",
                reason="RANGE_NOT_SATISFIABLE",
                info={"size": str(size)},
            )
        end = size if length == 0 else min(size, offset + length)
        return self._bytes(record, offset, end)

    async def _bytes(self, record: ObjectRecord, offset: int, end: int) -> AsyncIterator[bytes]:
        tenant = str(record.tenant)
        if end <= offset:
            return
        if not record.encrypted:
            async for chunk in self.blobs.read(tenant, record.blob, offset, end):
                yield chunk
            return
        assert self._wrapper is not None or record.wrapped_key is not None
        data_key = await self._unwrap(record)
        segment = int(record.segment_size)
        first, _, start, stop = segment_span(offset, end, record.size, segment)
        last_of_object = max(0, -(-record.size // segment) - 1)
        decryptor = SegmentDecryptor(
            data_key,
            bytes(record.nonce_prefix),
            record.blob,
            segment,
        )
        try:
            async for chunk in decryptor.plaintext(
                self.blobs.read(tenant, record.blob, start, stop),
                first_segment=first,
                last_segment_of_object=last_of_object,
                skip=offset - first * segment,
                length=end - offset,
            ):
                yield chunk
        except InvalidTag as exc:
            raise DataLoss(
                "the object's bytes fail authentication", reason="BLOB_TAMPERED"
            ) from exc

    async def _unwrap(self, record: ObjectRecord) -> bytes:
        if self._wrapper is None or self._wrapper.provider != record.key_provider:
            raise FailedPrecondition(
                "the object's key provider is not configured on this server",
                reason="KEY_PROVIDER_MISSING",
            )
        return await self._wrapper.unwrap(bytes(record.wrapped_key), record.blob)

    async def list_page(
        self,
        principal: Principal,
        bucket: str,
        prefix: str,
        delimiter: str,
        page_size: int,
        page_token: str,
    ) -> tuple[list[object_pb2.Object], list[str], str]:
        """A page of readable objects and common prefixes in key order, and the next token."""
        await self._buckets.get(principal.tenant, bucket)
        prefix = normalize_key(prefix)
        token = decode_page_token(page_token, {"b": bucket, "p": prefix, "d": delimiter})
        after = token.get("a")
        size = page_size_of(page_size)
        objects: list[object_pb2.Object] = []
        prefixes: list[str] = []
        where = [storage_objects.c.tenant == principal.tenant, storage_objects.c.bucket == bucket]
        if prefix:
            where.append(storage_objects.c.key >= prefix)
        if not principal.has_scope(_SCOPE_ADMIN):
            where.append(
                sa.or_(
                    storage_objects.c.owner == principal.subject,
                    storage_objects.c.access != object_pb2.OBJECT_ACCESS_PRIVATE,
                )
            )
        async with database(self._engine) as connection:

            async def rows_after(bound: str | None, limit: int) -> list[ObjectRecord]:
                query = sa.select(storage_objects).where(*where)
                if bound is not None:
                    query = query.where(storage_objects.c.key > bound)
                result = await connection.execute(
                    query.order_by(storage_objects.c.key).limit(limit)
                )
                return [
                    ObjectRecord(dict(r._mapping))
                    for r in result
                    if str(r._mapping["key"]).startswith(prefix)
                ]

            exhausted = False
            while len(objects) + len(prefixes) < size and not exhausted:
                batch = await rows_after(after, size + 1)
                exhausted = len(batch) <= size
                for record in batch:
                    if len(objects) + len(prefixes) >= size:
                        exhausted = False
                        break
                    key = str(record.key)
                    cut = key.find(delimiter, len(prefix)) if delimiter else -1
                    if cut >= 0:
                        prefixes.append(key[: cut + len(delimiter)])
                        # Skip every key under the common prefix: no key sorts after this one.
                        after = prefixes[-1] + "\U0010ffff"
                        exhausted = False
                        break
                    objects.append(self._proto(record, principal.tenant))
                    after = key
            more = not exhausted and bool(await rows_after(after, 1))
        if more:
            bound = {"b": bucket, "p": prefix, "d": delimiter, "a": after or ""}
            return objects, prefixes, encode_page_token(bound)
        return objects, prefixes, ""

    # --- writing -------------------------------------------------------------------------

    def _header_violations(self, spec: UploadSpec) -> list[FieldViolation]:
        violations = key_violations(spec.key, "header.key")
        violations += content_type_violations(spec.content_type, "header.content_type")
        violations += metadata_violations(spec.metadata, "header.metadata")
        if not spec.bucket:
            violations.append(FieldViolation("header.bucket", "must not be empty"))
        if spec.size_bytes < 0:
            violations.append(FieldViolation("header.size_bytes", "must not be negative"))
        elif spec.size_bytes > self._settings.max_object_size_bytes:
            violations.append(
                FieldViolation(
                    "header.size_bytes",
                    f"exceeds the server's limit of {self._settings.max_object_size_bytes} bytes",
                )
            )
        if spec.sha256 is not None and not _SHA256.match(spec.sha256):
            violations.append(FieldViolation("header.sha256", "must be 64 hex characters"))
        if spec.if_none_match and spec.if_match is not None:
            violations.append(
                FieldViolation("header.if_match", "cannot be combined with if_none_match")
            )
        if spec.access not in object_pb2.ObjectAccess.values():
            violations.append(FieldViolation("header.access", "unknown access"))
        return violations

    async def quota_of(self, tenant: str) -> int | None:
        """The tenant's quota in bytes, or None without one."""
        return self._settings.tenant_quota_bytes.get(tenant, self._settings.quota_bytes_per_tenant)

    async def _check_quota(
        self, connection: AsyncConnection, tenant: str, adding: int, replacing: int
    ) -> None:
        quota = await self.quota_of(tenant)
        if quota is None:
            return
        used = (
            await connection.execute(
                sa.select(sa.func.coalesce(sa.func.sum(storage_objects.c.size_bytes), 0)).where(
                    storage_objects.c.tenant == tenant
                )
            )
        ).scalar_one()
        if int(used) - replacing + adding > quota:
            raise ResourceExhausted(
                f"the tenant's quota of {quota} bytes would be exceeded",
                reason="STORAGE_QUOTA_EXCEEDED",
                info={"quota_bytes": str(quota), "used_bytes": str(used)},
            )

    def _check_bucket_rules(self, spec: UploadSpec, bucket: BucketRecord, prefix: str) -> int:
        limit = bucket.size_limit(self._settings.max_object_size_bytes)
        if spec.size_bytes > limit:
            raise FailedPrecondition(
                f"the object exceeds the bucket's limit of {limit} bytes",
                reason="OBJECT_TOO_LARGE",
                field_violations=[
                    FieldViolation(f"{prefix}size_bytes", f"exceeds the bucket's limit of {limit}")
                ],
            )
        if not (
            content_type_allowed(spec.content_type, self._settings.allowed_content_types)
            and content_type_allowed(spec.content_type, bucket.allowed_content_types)
        ):
            raise FailedPrecondition(
                f"content type {spec.content_type!r} is not allowed in bucket {bucket.name!r}",
                reason="CONTENT_TYPE_NOT_ALLOWED",
                field_violations=[
                    FieldViolation(f"{prefix}content_type", "not allowed by the bucket")
                ],
            )
        access = bucket.effective_access(spec.access)
        if access == object_pb2.OBJECT_ACCESS_PUBLIC_READ and not bucket.allow_public_read:
            raise FailedPrecondition(
                "public-read objects are not allowed in this bucket",
                reason="PUBLIC_READ_NOT_ALLOWED",
                field_violations=[FieldViolation(f"{prefix}access", "public reads not allowed")],
            )
        return access

    async def check_upload(
        self, principal: Principal, spec: UploadSpec, prefix: str = "header."
    ) -> tuple[UploadSpec, BucketRecord, int]:
        """Validates an upload's header before any byte is stored; returns the normalised spec,
        its bucket and the object's access."""
        violations = self._header_violations(spec)
        if prefix != "header.":
            violations = [
                FieldViolation(prefix + v.field.removeprefix("header."), v.description)
                for v in violations
            ]
        if violations:
            raise _invalid(
                "the upload is invalid: "
                + "; ".join(f"{v.field}: {v.description}" for v in violations),
                violations,
                "INVALID_UPLOAD",
            )
        spec = UploadSpec(
            **{
                **spec.__dict__,
                "key": normalize_key(spec.key),
                "content_type": spec.content_type.lower(),
            }
        )
        bucket = await self._buckets.get(principal.tenant, spec.bucket)
        access = self._check_bucket_rules(spec, bucket, prefix)
        async with database(self._engine) as connection:
            await self._check_quota(connection, principal.tenant, spec.size_bytes, 0)
        return spec, bucket, access

    async def upload(
        self,
        principal: Principal,
        spec: UploadSpec,
        chunks: AsyncIterator[bytes],
        *,
        prefix: str = "header.",
    ) -> object_pb2.Object:
        """Stores an object from a byte stream; visible only once complete and verified."""
        spec, _bucket, access = await self.check_upload(principal, spec, prefix)
        head, rest = await _head_and_rest(chunks)
        sniffed = sniff(head)
        if not declared_type_matches(spec.content_type, sniffed):
            raise _invalid(
                f"the content is {sniffed}, not the declared {spec.content_type}",
                [FieldViolation(f"{prefix}content_type", f"the bytes are {sniffed}")],
                "CONTENT_TYPE_MISMATCH",
            )
        blob_id = uuid.uuid4().hex
        self.in_use.add(blob_id)
        writer: BlobWriter | None = None
        session: ScanSession | None = None
        committed = False
        try:
            try:
                session = await self._scanner.open()
            except (OSError, TimeoutError) as exc:
                raise Unavailable(
                    "the malware scanner is unreachable",
                    reason="SCANNER_UNAVAILABLE",
                    retry_after_s=2.0,
                ) from exc
            encryption = await self._new_encryption(blob_id)
            encryptor = encryption[0]
            stored_size = (
                spec.size_bytes
                if encryptor is None
                else ciphertext_size(spec.size_bytes, self._settings.segment_size)
            )
            writer = await self.blobs.writer(principal.tenant, blob_id, stored_size)
            digest = hashlib.sha256()
            received = 0

            async def consume(chunk: bytes) -> None:
                nonlocal received
                received += len(chunk)
                if received > spec.size_bytes:
                    raise _invalid(
                        "the upload carries more bytes than size_bytes",
                        [FieldViolation(f"{prefix}size_bytes", "fewer bytes than were sent")],
                        "SIZE_MISMATCH",
                    )
                sealed = await asyncio.to_thread(_digest_and_seal, digest, encryptor, chunk)
                assert session is not None and writer is not None
                await session.feed(chunk)
                await writer.write(sealed)

            if head:
                await consume(head)
            async for chunk in rest:
                await consume(chunk)
            if received != spec.size_bytes:
                raise _invalid(
                    f"the upload ended after {received} of {spec.size_bytes} bytes",
                    [FieldViolation(f"{prefix}size_bytes", f"{received} bytes were sent")],
                    "SIZE_MISMATCH",
                )
            sha256 = digest.hexdigest()
            if spec.sha256 is not None and spec.sha256.lower() != sha256:
                raise _invalid(
                    "the content's SHA-256 differs from the header's",
                    [FieldViolation(f"{prefix}sha256", "does not match the content")],
                    "CHECKSUM_MISMATCH",
                )
            if encryptor is not None:
                await writer.write(encryptor.finish())
            verdict = await session.finish()
            session = None
            if verdict.state == object_pb2.SCAN_STATE_INFECTED:
                await self._audit_infected(principal, spec, verdict.signature)
                raise FailedPrecondition(
                    "the upload contains malware and was rejected",
                    reason="MALWARE_DETECTED",
                    info={"signature": verdict.signature},
                )
            if verdict.state == object_pb2.SCAN_STATE_FAILED:
                raise Unavailable(
                    f"the malware scan failed: {verdict.signature}",
                    reason="SCAN_FAILED",
                    retry_after_s=2.0,
                )
            await writer.commit()
            committed = True
            now = self._clock()
            values: dict[str, Any] = {
                "tenant": principal.tenant,
                "bucket": spec.bucket,
                "key": spec.key,
                "blob_id": blob_id,
                "size_bytes": received,
                "stored_bytes": (
                    ciphertext_size(received, self._settings.segment_size)
                    if encryptor is not None
                    else received
                ),
                "content_type": spec.content_type,
                "sha256": sha256,
                "etag": secrets.token_hex(16),
                "user_metadata": json.dumps(dict(spec.metadata), sort_keys=True),
                "owner": principal.subject,
                "access": access,
                **encryption[1],
                "segment_size": self._settings.segment_size,
                "scan_state": verdict.state,
                "scan_signature": verdict.signature,
                "scan_time": now if verdict.state != object_pb2.SCAN_STATE_SKIPPED else None,
                "cache_control": spec.cache_control,
                "content_disposition": spec.content_disposition,
                "create_time": now,
                "update_time": now,
            }
            replaced = await self._publish(principal.tenant, spec, values, prefix)
            committed = False  # the row owns the blob now
            if replaced is not None:
                if self._settings.replaced_blob_grace_s:
                    self._retire(principal.tenant, replaced)
                else:
                    await self.blobs.delete(principal.tenant, replaced)
            return self._proto(ObjectRecord(values), principal.tenant)
        finally:
            try:
                await asyncio.shield(
                    self._cleanup(principal.tenant, blob_id, writer, session, committed)
                )
            finally:
                self.in_use.discard(blob_id)

    async def _cleanup(
        self,
        tenant: str,
        blob_id: str,
        writer: BlobWriter | None,
        session: ScanSession | None,
        committed: bool,
    ) -> None:
        if session is not None:
            await session.abort()
        if writer is not None:
            await writer.abort()
        if committed:  # the blob was written but never became visible
            await self.blobs.delete(tenant, blob_id)

    async def _new_encryption(
        self, blob_id: str
    ) -> tuple[SegmentEncryptor | None, dict[str, object]]:
        if self._wrapper is None or not self._settings.encryption:
            return None, {
                "encryption": object_pb2.ENCRYPTION_ALGORITHM_NONE,
                "key_provider": object_pb2.KEY_PROVIDER_UNSPECIFIED,
                "key_id": "",
                "key_version": 0,
                "wrapped_key": None,
                "nonce_prefix": None,
            }
        data_key = DataKey.generate()
        wrapped, version = await self._wrapper.wrap(data_key.key, blob_id)
        return SegmentEncryptor(data_key, blob_id, self._settings.segment_size), {
            "encryption": object_pb2.ENCRYPTION_ALGORITHM_AES_256_GCM_SEGMENTED,
            "key_provider": self._wrapper.provider,
            "key_id": self._wrapper.key_id,
            "key_version": version,
            "wrapped_key": wrapped,
            "nonce_prefix": data_key.nonce_prefix,
        }

    async def _publish(
        self, tenant: str, spec: UploadSpec, values: dict[str, Any], prefix: str
    ) -> str | None:
        """Makes the object visible in one transaction; returns the replaced blob's id."""
        async with database(self._engine) as connection:
            # The bucket row's write lock serialises publishers of a bucket (and DeleteBucket).
            if not await lock_bucket(connection, tenant, spec.bucket):
                raise NotFound(
                    f"bucket {spec.bucket!r} not found", resource=("bucket", spec.bucket)
                )
            current = await self._record(tenant, spec.bucket, spec.key, connection)
            if current is not None and spec.if_none_match:
                raise AlreadyExists(
                    f"an object exists at {spec.key!r}",
                    reason="OBJECT_EXISTS",
                    resource=("object", f"{spec.bucket}/{spec.key}"),
                )
            if spec.if_match is not None and (current is None or current.etag != spec.if_match):
                raise FailedPrecondition(
                    "the object's etag differs from if_match",
                    reason="ETAG_MISMATCH",
                    field_violations=[FieldViolation(f"{prefix}if_match", "does not match")],
                )
            await self._check_quota(
                connection,
                tenant,
                int(values["size_bytes"]),
                current.size if current else 0,
            )
            if current is not None:
                await connection.execute(
                    sa.delete(storage_objects).where(
                        storage_objects.c.tenant == tenant,
                        storage_objects.c.bucket == spec.bucket,
                        storage_objects.c.key == spec.key,
                    )
                )
            await connection.execute(sa.insert(storage_objects).values(**values))
        return current.blob if current is not None else None

    async def _audit_infected(self, principal: Principal, spec: UploadSpec, signature: str) -> None:
        request = current_request()
        details = struct_pb2.Struct()
        details.update(
            {"signature": signature, "scanner": self._scanner_name, "size_bytes": spec.size_bytes}
        )
        event = audit_pb2.AuditEvent(
            event_id=time_ordered_id(),
            category="security",
            action="object.malware_rejected",
            outcome=audit_pb2.AUDIT_OUTCOME_DENIED,
            severity=audit_pb2.AUDIT_SEVERITY_ALERT,
            actor=audit_pb2.Actor(principal_id=principal.subject, tenant=principal.tenant),
            resource=audit_pb2.Resource(type="object", id=f"{spec.bucket}/{spec.key}"),
            correlation=audit_pb2.Correlation(
                request_id=request.request_id if request else "",
                trace_id=request.trace_id if request else "",
            ),
            details=details,
        )
        event.event_time.FromNanoseconds(int(self._clock() * 1e9))
        await self._audit.record(event.SerializeToString())

    async def delete(
        self, principal: Principal, bucket: str, key: str, if_match: str | None
    ) -> None:
        """Deletes an object of the tenant; idempotent."""
        key = normalize_key(key)
        async with database(self._engine) as connection:
            if not await lock_bucket(connection, principal.tenant, bucket):
                raise NotFound(f"bucket {bucket!r} not found", resource=("bucket", bucket))
            current = await self._record(principal.tenant, bucket, key, connection)
            if current is None:
                return
            if if_match is not None and current.etag != if_match:
                raise FailedPrecondition(
                    "the object's etag differs from if_match",
                    reason="ETAG_MISMATCH",
                    info={"etag": str(current.etag)},
                )
            await connection.execute(
                sa.delete(storage_objects).where(storage_objects.c.blob_id == current.blob)
            )
        await self.blobs.delete(principal.tenant, current.blob)

    async def set_access(
        self, principal: Principal, bucket: str, key: str, access: int
    ) -> object_pb2.Object:
        """Changes who may read an object, leaving its bytes and etag alone."""
        if (
            access not in object_pb2.ObjectAccess.values()
            or access == object_pb2.OBJECT_ACCESS_UNSPECIFIED
        ):
            raise _invalid(
                "access must be set", [FieldViolation("access", "must be set")], "INVALID_ACCESS"
            )
        bucket_record = await self._buckets.get(principal.tenant, bucket)
        if access == object_pb2.OBJECT_ACCESS_PUBLIC_READ and not bucket_record.allow_public_read:
            raise FailedPrecondition(
                "public-read objects are not allowed in this bucket",
                reason="PUBLIC_READ_NOT_ALLOWED",
                field_violations=[FieldViolation("access", "public reads not allowed")],
            )
        record = await self._readable(principal, bucket, key)
        async with database(self._engine) as connection:
            await connection.execute(
                sa.update(storage_objects)
                .where(storage_objects.c.blob_id == record.blob)
                .values(access=access, update_time=self._clock())
            )
            updated = await self._record(principal.tenant, bucket, str(record.key), connection)
        if updated is None:
            raise _not_found(bucket, key)
        return self._proto(updated, principal.tenant)

    async def copy(
        self,
        principal: Principal,
        source_bucket: str,
        source_key: str,
        source_if_match: str | None,
        spec: UploadSpec,
        replace_metadata: bool,
    ) -> object_pb2.Object:
        """Copies a readable object through the full upload path (validation, scan, fresh key)."""
        if source_bucket == spec.bucket and normalize_key(source_key) == normalize_key(spec.key):
            raise _invalid(
                "the destination equals the source",
                [FieldViolation("destination_key", "must differ from the source")],
                "COPY_ONTO_ITSELF",
            )
        source = await self._readable(principal, source_bucket, source_key)
        stream = self._open(source, 0, 0, source_if_match)
        full = UploadSpec(
            bucket=spec.bucket,
            key=spec.key,
            content_type=spec.content_type if replace_metadata else str(source.content_type),
            size_bytes=source.size,
            sha256=str(source.sha256),
            metadata=spec.metadata if replace_metadata else json.loads(str(source.user_metadata)),
            access=spec.access,
            if_none_match=spec.if_none_match,
            cache_control=spec.cache_control if replace_metadata else str(source.cache_control),
            content_disposition=(
                spec.content_disposition if replace_metadata else str(source.content_disposition)
            ),
        )
        return await self.upload(principal, full, stream, prefix="destination_")

    async def usage(self, tenant: str) -> Usage:
        """The tenant's usage per bucket and in total."""
        async with database(self._engine) as connection:
            rows = (
                await connection.execute(
                    sa.select(
                        storage_objects.c.bucket,
                        sa.func.sum(storage_objects.c.size_bytes),
                        sa.func.count(),
                    )
                    .where(storage_objects.c.tenant == tenant)
                    .group_by(storage_objects.c.bucket)
                    .order_by(storage_objects.c.bucket)
                )
            ).all()
        buckets = [(str(b), int(s or 0), int(c)) for b, s, c in rows]
        return Usage(
            size_bytes=sum(b[1] for b in buckets),
            object_count=sum(b[2] for b in buckets),
            quota_bytes=await self.quota_of(tenant),
            buckets=buckets,
        )

    async def rotate_keys(self, batch: int = 500) -> int:
        """Rotates the KEK and rewraps every data key under its newest version.

        Object bytes are untouched; only the wrapped keys and key versions in the database
        change. Returns the number of objects rewrapped.
        """
        if self._wrapper is None:
            return 0
        await self._wrapper.rotate()
        count = 0
        after = ""
        while True:
            async with database(self._engine) as connection:
                rows = (
                    await connection.execute(
                        sa.select(storage_objects.c.blob_id, storage_objects.c.wrapped_key)
                        .where(
                            storage_objects.c.blob_id > after,
                            storage_objects.c.key_provider == self._wrapper.provider,
                            storage_objects.c.wrapped_key.is_not(None),
                        )
                        .order_by(storage_objects.c.blob_id)
                        .limit(batch)
                    )
                ).all()
            if not rows:
                return count
            for blob_id, wrapped in rows:
                rewrapped, version = await self._wrapper.rewrap(bytes(wrapped), str(blob_id))
                async with database(self._engine) as connection:
                    await connection.execute(
                        sa.update(storage_objects)
                        .where(storage_objects.c.blob_id == blob_id)
                        .values(wrapped_key=rewrapped, key_version=version)
                    )
                count += 1
                after = str(blob_id)


def _digest_and_seal(
    digest: hashlib._Hash, encryptor: SegmentEncryptor | None, chunk: bytes
) -> bytes:
    digest.update(chunk)
    return encryptor.feed(chunk) if encryptor is not None else chunk
