"""Buckets: per-tenant containers of objects and the rules their objects follow."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
import structlog
from google.protobuf import field_mask_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.interceptors.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from centrum.services.db import DATABASE_OUTAGES, OneHop, outage_message
from centrum.services.storage.naming import bucket_name_violations, content_type_violations
from centrum.services.storage.settings import StorageSettings
from centrum.services.storage.tables import storage_buckets, storage_objects
from centrum.storage.v1 import bucket_pb2, object_pb2

__all__ = [
    "BucketRecord",
    "Buckets",
    "database",
    "decode_page_token",
    "encode_page_token",
    "lock_bucket",
    "page_size_of",
    "read_in_one_hop",
]

_log = structlog.get_logger("centrum.storage")
_T = TypeVar("_T")
_SETTINGS_FIELDS = (
    "max_object_size_bytes",
    "allowed_content_types",
    "default_access",
    "allow_public_read",
)


@contextlib.asynccontextmanager
async def database(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction; an unreachable database becomes UNAVAILABLE with RetryInfo."""
    try:
        async with engine.begin() as connection:
            yield connection
    except IntegrityError:
        raise
    except DATABASE_OUTAGES as exc:
        raise _unavailable(exc) from exc


async def read_in_one_hop(hop: OneHop, work: Callable[[sa.Connection], _T]) -> _T:
    """`work` on one connection in one hop (`db.OneHop`), for the hot reads; an unreachable
    database becomes UNAVAILABLE with RetryInfo."""
    try:
        return await hop.run(work)
    except DATABASE_OUTAGES as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: BaseException) -> Unavailable:
    # The driver's words only: SQLAlchemy's message repeats the statement and its parameters.
    _log.warning("database call failed", error=outage_message(exc))
    return Unavailable(
        "the database is unavailable", reason="DATABASE_UNAVAILABLE", retry_after_s=1.0
    )


async def lock_bucket(connection: AsyncConnection, tenant: str, name: str) -> bool:
    """Takes the bucket row's write lock (first statement of a read-then-write transaction).

    Writing first serialises writers on PostgreSQL (row lock) and SQLite (database lock) alike,
    so a later read-then-write cannot fail on a snapshot that another writer invalidated.
    Returns whether the bucket exists.
    """
    result = await connection.execute(
        sa.update(storage_buckets)
        .where(storage_buckets.c.tenant == tenant, storage_buckets.c.name == name)
        .values(update_time=storage_buckets.c.update_time)
    )
    return bool(result.rowcount)


def encode_page_token(values: dict[str, str]) -> str:
    """An opaque page token carrying `values`."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_page_token(token: str, bound: dict[str, str]) -> dict[str, str]:
    """The values of a page token, checked to belong to a request with the same `bound` fields."""
    if not token:
        return {}
    try:
        values = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(values, dict) or any(values.get(k) != v for k, v in bound.items()):
            raise ValueError
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(
            "the page token does not belong to this request",
            reason="INVALID_PAGE_TOKEN",
            field_violations=[FieldViolation("page_token", "not a token of this listing")],
        ) from exc
    return {str(k): str(v) for k, v in values.items()}


def page_size_of(requested: int) -> int:
    """AIP-158: zero means 100, more than 1000 means 1000."""
    return 100 if requested <= 0 else min(requested, 1000)


@dataclass(frozen=True)
class BucketRecord:
    """A bucket as stored."""

    tenant: str
    name: str
    max_object_size_bytes: int
    allowed_content_types: tuple[str, ...]
    default_access: int
    allow_public_read: bool
    create_time: float
    update_time: float

    @classmethod
    def from_row(cls, row: sa.Row[tuple[object, ...]]) -> BucketRecord:
        """The record of a `storage_buckets` row."""
        m = row._mapping
        return cls(
            tenant=str(m["tenant"]),
            name=str(m["name"]),
            max_object_size_bytes=int(m["max_object_size_bytes"]),
            allowed_content_types=tuple(json.loads(str(m["allowed_content_types"]))),
            default_access=int(m["default_access"]),
            allow_public_read=bool(m["allow_public_read"]),
            create_time=float(m["create_time"]),
            update_time=float(m["update_time"]),
        )

    def to_proto(self) -> bucket_pb2.Bucket:
        """The Bucket message."""
        bucket = bucket_pb2.Bucket(
            name=self.name,
            settings=bucket_pb2.BucketSettings(
                max_object_size_bytes=self.max_object_size_bytes,
                allowed_content_types=list(self.allowed_content_types),
                default_access=self.default_access,  # type: ignore[arg-type]
                allow_public_read=self.allow_public_read,
            ),
        )
        bucket.create_time.FromNanoseconds(int(self.create_time * 1e9))
        bucket.update_time.FromNanoseconds(int(self.update_time * 1e9))
        return bucket

    def size_limit(self, global_limit: int) -> int:
        """The largest object the bucket accepts."""
        return min(self.max_object_size_bytes or global_limit, global_limit)

    def effective_access(self, requested: int) -> int:
        """The access of a new object: the requested one, else the bucket's default."""
        if requested != object_pb2.OBJECT_ACCESS_UNSPECIFIED:
            return requested
        return self.default_access or object_pb2.OBJECT_ACCESS_PRIVATE


class Buckets:
    """Creates, reads, updates and deletes the buckets of a tenant."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: StorageSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock

    def _settings_violations(self, settings: bucket_pb2.BucketSettings) -> list[FieldViolation]:
        violations = []
        if settings.max_object_size_bytes < 0:
            violations.append(
                FieldViolation("settings.max_object_size_bytes", "must not be negative")
            )
        elif settings.max_object_size_bytes > self._settings.max_object_size_bytes:
            violations.append(
                FieldViolation(
                    "settings.max_object_size_bytes",
                    f"must not exceed the global limit of {self._settings.max_object_size_bytes}",
                )
            )
        for i, pattern in enumerate(settings.allowed_content_types):
            if pattern != "*/*" and not pattern.endswith("/*"):
                violations.extend(
                    content_type_violations(pattern, f"settings.allowed_content_types[{i}]")
                )
        if settings.default_access not in object_pb2.ObjectAccess.values():
            violations.append(FieldViolation("settings.default_access", "unknown access"))
        return violations

    @staticmethod
    def _check_public(settings: bucket_pb2.BucketSettings) -> None:
        if (
            settings.default_access == object_pb2.OBJECT_ACCESS_PUBLIC_READ
            and not settings.allow_public_read
        ):
            raise FailedPrecondition(
                "default_access public-read needs allow_public_read",
                reason="PUBLIC_READ_NOT_ALLOWED",
                field_violations=[
                    FieldViolation("settings.default_access", "public reads are not allowed")
                ],
            )

    @staticmethod
    def _invalid(violations: Sequence[FieldViolation]) -> None:
        if violations:
            raise InvalidArgument(
                "; ".join(f"{v.field}: {v.description}" for v in violations),
                reason="INVALID_BUCKET",
                field_violations=violations,
            )

    async def get(
        self, tenant: str, name: str, connection: AsyncConnection | None = None
    ) -> BucketRecord:
        """The tenant's bucket, or NOT_FOUND."""
        query = sa.select(storage_buckets).where(
            storage_buckets.c.tenant == tenant, storage_buckets.c.name == name
        )
        if connection is not None:
            row = (await connection.execute(query)).first()
        else:
            async with database(self._engine) as conn:
                row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"bucket {name!r} not found", resource=("bucket", name))
        return BucketRecord.from_row(row)

    async def create(
        self, tenant: str, name: str, settings: bucket_pb2.BucketSettings | None
    ) -> BucketRecord:
        """Creates a bucket; unset settings take the operator's bucket defaults."""
        given = settings or bucket_pb2.BucketSettings()
        merged = bucket_pb2.BucketSettings()
        merged.CopyFrom(given)
        defaults = self._settings.bucket_defaults
        if not merged.max_object_size_bytes:
            merged.max_object_size_bytes = defaults.max_object_size_bytes
        if not merged.allowed_content_types:
            merged.allowed_content_types.extend(defaults.allowed_content_types)
        self._invalid(bucket_name_violations(name, "name") + self._settings_violations(merged))
        self._check_public(merged)
        now = self._clock()
        record = BucketRecord(
            tenant=tenant,
            name=name,
            max_object_size_bytes=merged.max_object_size_bytes,
            allowed_content_types=tuple(merged.allowed_content_types),
            default_access=merged.default_access or object_pb2.OBJECT_ACCESS_PRIVATE,
            allow_public_read=merged.allow_public_read,
            create_time=now,
            update_time=now,
        )
        try:
            async with database(self._engine) as connection:
                await connection.execute(sa.insert(storage_buckets).values(**_row(record)))
        except IntegrityError as exc:
            raise AlreadyExists(
                f"bucket {name!r} exists", reason="BUCKET_EXISTS", resource=("bucket", name)
            ) from exc
        return record

    async def list_page(
        self, tenant: str, page_size: int, page_token: str
    ) -> tuple[list[BucketRecord], str]:
        """A page of the tenant's buckets in name order, and the next page's token."""
        after = decode_page_token(page_token, {"l": "buckets"}).get("a", "")
        size = page_size_of(page_size)
        async with database(self._engine) as connection:
            rows = (
                await connection.execute(
                    sa.select(storage_buckets)
                    .where(storage_buckets.c.tenant == tenant, storage_buckets.c.name > after)
                    .order_by(storage_buckets.c.name)
                    .limit(size + 1)
                )
            ).all()
        records = [BucketRecord.from_row(r) for r in rows[:size]]
        token = (
            encode_page_token({"l": "buckets", "a": records[-1].name}) if len(rows) > size else ""
        )
        return records, token

    async def update(
        self,
        tenant: str,
        name: str,
        settings: bucket_pb2.BucketSettings,
        mask: field_mask_pb2.FieldMask,
    ) -> BucketRecord:
        """Changes the masked settings fields (all of them for an empty mask)."""
        paths = [p.removeprefix("settings.") for p in mask.paths] or list(_SETTINGS_FIELDS)
        unknown = [p for p in paths if p not in _SETTINGS_FIELDS]
        self._invalid(
            [FieldViolation("update_mask", f"unknown field {p!r}") for p in unknown]
            + self._settings_violations(settings)
        )
        async with database(self._engine) as connection:
            await lock_bucket(connection, tenant, name)
            current = await self.get(tenant, name, connection)
            merged = current.to_proto().settings
            for path in paths:
                if path == "allowed_content_types":
                    del merged.allowed_content_types[:]
                    merged.allowed_content_types.extend(settings.allowed_content_types)
                else:
                    setattr(merged, path, getattr(settings, path))
            if not merged.default_access:
                merged.default_access = object_pb2.OBJECT_ACCESS_PRIVATE
            self._check_public(merged)
            record = BucketRecord(
                tenant=tenant,
                name=name,
                max_object_size_bytes=merged.max_object_size_bytes,
                allowed_content_types=tuple(merged.allowed_content_types),
                default_access=merged.default_access,
                allow_public_read=merged.allow_public_read,
                create_time=current.create_time,
                update_time=self._clock(),
            )
            await connection.execute(
                sa.update(storage_buckets)
                .where(storage_buckets.c.tenant == tenant, storage_buckets.c.name == name)
                .values(**_row(record))
            )
        return record

    async def delete(self, tenant: str, name: str) -> None:
        """Deletes an empty bucket; idempotent; FAILED_PRECONDITION while it holds objects."""
        async with database(self._engine) as connection:
            # Taking the bucket row's write lock first keeps uploads from racing the check.
            deleted = await connection.execute(
                sa.delete(storage_buckets).where(
                    storage_buckets.c.tenant == tenant, storage_buckets.c.name == name
                )
            )
            if not deleted.rowcount:
                return
            held = (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(storage_objects)
                    .where(storage_objects.c.tenant == tenant, storage_objects.c.bucket == name)
                )
            ).scalar_one()
            if held:
                raise FailedPrecondition(
                    f"bucket {name!r} still holds {held} objects",
                    reason="BUCKET_NOT_EMPTY",
                    resource=("bucket", name),
                )


def _row(record: BucketRecord) -> dict[str, object]:
    return {
        "tenant": record.tenant,
        "name": record.name,
        "max_object_size_bytes": record.max_object_size_bytes,
        "allowed_content_types": json.dumps(list(record.allowed_content_types)),
        "default_access": record.default_access,
        "allow_public_read": record.allow_public_read,
        "create_time": record.create_time,
        "update_time": record.update_time,
    }
