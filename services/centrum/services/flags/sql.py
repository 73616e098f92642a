"""The flag store in the relational database (SQLite or PostgreSQL, one code path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import sqlalchemy as sa
from google.protobuf import message as proto_message
from google.protobuf import timestamp_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.services.db import DATABASE_OUTAGES, BackendUnavailable, OneHop
from centrum.services.flags.store import (
    ObjectExists,
    ObjectMissing,
    SegmentInUse,
    SegmentsMissing,
    StoreLimitReached,
    VersionMismatch,
    referenced_segments,
)
from centrum.services.flags.tables import flag_changes, flag_heads, flag_segments, flags

__all__ = ["SqlFlagStore"]

M = TypeVar("M", pb.Flag, pb.Segment)
Check = Callable[[AsyncConnection, bool], Awaitable[None]]


_HEAD_REVISION = sa.select(flag_heads.c.revision).where(
    flag_heads.c.tenant == sa.bindparam("tenant"),
    flag_heads.c.environment == sa.bindparam("environment"),
)
_SHARED_HEAD_REVISION = _HEAD_REVISION.with_for_update(read=True)


class SqlFlagStore:
    """`FlagStore` on SQLAlchemy Core; writers serialise on their environment's head row."""

    def __init__(
        self, engine: AsyncEngine, *, retained_changes: int = 10_000, max_flags: int = 5_000
    ) -> None:
        self._engine = engine
        self._hop = OneHop(engine)
        self._retained = retained_changes
        self._max_flags = max_flags
        self._heads: set[tuple[str, str]] = set()

    # Reads -------------------------------------------------------------------------------------

    async def get_flag(self, tenant: str, environment: str, key: str) -> pb.Flag | None:
        """The flag, or None."""
        return await self._get(flags, pb.Flag, tenant, environment, key)

    async def get_segment(self, tenant: str, environment: str, key: str) -> pb.Segment | None:
        """The segment, or None."""
        return await self._get(flag_segments, pb.Segment, tenant, environment, key)

    async def _get(
        self, table: sa.Table, kind: type[M], tenant: str, environment: str, key: str
    ) -> M | None:
        try:
            async with self._engine.connect() as connection:
                blob = (
                    await connection.execute(
                        sa.select(table.c.definition).where(
                            table.c.tenant == tenant,
                            table.c.environment == environment,
                            table.c.key == key,
                        )
                    )
                ).scalar_one_or_none()
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc
        return None if blob is None else kind.FromString(blob)

    async def list_flags(
        self, tenant: str, environment: str, prefix: str, after: str, limit: int
    ) -> tuple[list[pb.Flag], int]:
        """Up to `limit` flags with the prefix and a key after `after`; and the revision."""
        try:
            async with self._engine.begin() as connection:
                revision = await self._head_revision(connection, tenant, environment)
                rows = await connection.execute(
                    sa.select(flags.c.definition)
                    .where(
                        flags.c.tenant == tenant,
                        flags.c.environment == environment,
                        flags.c.key.startswith(prefix, autoescape=True),
                        flags.c.key > after,
                    )
                    .order_by(flags.c.key)
                    .limit(limit)
                )
                return [pb.Flag.FromString(row[0]) for row in rows], revision
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc

    async def list_segments(
        self, tenant: str, environment: str, after: str, limit: int
    ) -> list[pb.Segment]:
        """Up to `limit` segments with a key after `after`, in key order."""
        try:
            async with self._engine.connect() as connection:
                rows = await connection.execute(
                    sa.select(flag_segments.c.definition)
                    .where(
                        flag_segments.c.tenant == tenant,
                        flag_segments.c.environment == environment,
                        flag_segments.c.key > after,
                    )
                    .order_by(flag_segments.c.key)
                    .limit(limit)
                )
                return [pb.Segment.FromString(row[0]) for row in rows]
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc

    async def snapshot(self, tenant: str, environment: str) -> pb.FlagSetSnapshot:
        """Every flag and segment at one revision (writers wait on the shared head lock)."""
        try:
            async with self._engine.begin() as connection:
                revision = await self._head_revision(connection, tenant, environment, share=True)
                where = (flags.c.tenant == tenant, flags.c.environment == environment)
                flag_rows = await connection.execute(
                    sa.select(flags.c.definition).where(*where).order_by(flags.c.key)
                )
                segment_rows = await connection.execute(
                    sa.select(flag_segments.c.definition)
                    .where(
                        flag_segments.c.tenant == tenant,
                        flag_segments.c.environment == environment,
                    )
                    .order_by(flag_segments.c.key)
                )
                return pb.FlagSetSnapshot(
                    environment=environment,
                    flags=[pb.Flag.FromString(row[0]) for row in flag_rows],
                    segments=[pb.Segment.FromString(row[0]) for row in segment_rows],
                    revision=revision,
                )
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc

    async def revision(self, tenant: str, environment: str) -> int:
        """The environment's current revision (0 before its first change).

        Every server-side evaluation reads it, so it is one hop with a statement built once.
        """
        where = {"tenant": tenant, "environment": environment}
        try:
            revision = await self._hop.run(
                lambda connection: connection.execute(_HEAD_REVISION, where).scalar_one_or_none()
            )
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc
        return int(revision or 0)

    async def changes_since(
        self, tenant: str, environment: str, revision: int, limit: int
    ) -> list[pb.FlagChange] | None:
        """Up to `limit` changes after `revision`; None when no longer retained (or unknown)."""
        try:
            async with self._engine.begin() as connection:
                head = (
                    await connection.execute(
                        sa.select(flag_heads.c.revision, flag_heads.c.retained_from).where(
                            flag_heads.c.tenant == tenant,
                            flag_heads.c.environment == environment,
                        )
                    )
                ).one_or_none()
                current, retained_from = (0, 1) if head is None else (head[0], head[1])
                if revision > current or revision + 1 < retained_from:
                    return None
                rows = await connection.execute(
                    sa.select(flag_changes.c.change)
                    .where(
                        flag_changes.c.tenant == tenant,
                        flag_changes.c.environment == environment,
                        flag_changes.c.revision > revision,
                    )
                    .order_by(flag_changes.c.revision)
                    .limit(limit)
                )
                return [pb.FlagChange.FromString(row[0]) for row in rows]
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc

    @staticmethod
    async def _head_revision(
        connection: AsyncConnection, tenant: str, environment: str, *, share: bool = False
    ) -> int:
        query = _SHARED_HEAD_REVISION if share else _HEAD_REVISION
        where = {"tenant": tenant, "environment": environment}
        revision = (await connection.execute(query, where)).scalar_one_or_none()
        return int(revision or 0)

    # Writes ------------------------------------------------------------------------------------

    async def put_flag(
        self, tenant: str, flag: pb.Flag, *, expected_version: int, create_only: bool, actor: str
    ) -> pb.FlagChange:
        """Creates or replaces a flag; its IN_SEGMENT references must exist."""
        wanted = referenced_segments(flag)

        async def check(connection: AsyncConnection, exists: bool) -> None:
            if not exists:
                count = (
                    await connection.execute(
                        sa.select(sa.func.count())
                        .select_from(flags)
                        .where(flags.c.tenant == tenant, flags.c.environment == flag.environment)
                    )
                ).scalar_one()
                if count >= self._max_flags:
                    raise StoreLimitReached()
            if wanted:
                found = set(
                    (
                        await connection.execute(
                            sa.select(flag_segments.c.key).where(
                                flag_segments.c.tenant == tenant,
                                flag_segments.c.environment == flag.environment,
                                flag_segments.c.key.in_(sorted(wanted)),
                            )
                        )
                    ).scalars()
                )
                if wanted - found:
                    raise SegmentsMissing(sorted(wanted - found))

        return await self._put(
            flags,
            tenant,
            flag,
            pb.FLAG_CHANGE_TYPE_FLAG_PUT,
            expected_version=expected_version,
            create_only=create_only,
            actor=actor,
            check=check,
        )

    async def put_segment(
        self,
        tenant: str,
        segment: pb.Segment,
        *,
        expected_version: int,
        create_only: bool,
        actor: str,
    ) -> pb.FlagChange:
        """Creates or replaces a segment."""
        return await self._put(
            flag_segments,
            tenant,
            segment,
            pb.FLAG_CHANGE_TYPE_SEGMENT_PUT,
            expected_version=expected_version,
            create_only=create_only,
            actor=actor,
        )

    async def delete_flag(
        self, tenant: str, environment: str, key: str, *, expected_version: int, actor: str
    ) -> pb.FlagChange:
        """Deletes a flag; ObjectMissing when absent."""
        return await self._delete(
            flags,
            tenant,
            environment,
            key,
            pb.FLAG_CHANGE_TYPE_FLAG_DELETE,
            expected_version=expected_version,
            actor=actor,
        )

    async def delete_segment(
        self, tenant: str, environment: str, key: str, *, expected_version: int, actor: str
    ) -> pb.FlagChange:
        """Deletes a segment; ObjectMissing when absent, SegmentInUse when a flag references it."""

        async def check(connection: AsyncConnection, exists: bool) -> None:
            rows = await connection.execute(
                sa.select(flags.c.key, flags.c.definition)
                .where(flags.c.tenant == tenant, flags.c.environment == environment)
                .order_by(flags.c.key)
            )
            users = [
                row[0] for row in rows if key in referenced_segments(pb.Flag.FromString(row[1]))
            ]
            if users:
                raise SegmentInUse(users)

        return await self._delete(
            flag_segments,
            tenant,
            environment,
            key,
            pb.FLAG_CHANGE_TYPE_SEGMENT_DELETE,
            expected_version=expected_version,
            actor=actor,
            check=check,
        )

    async def _put(
        self,
        table: sa.Table,
        tenant: str,
        obj: M,
        change_type: int,
        *,
        expected_version: int,
        create_only: bool,
        actor: str,
        check: Check | None = None,
    ) -> pb.FlagChange:
        environment, key = obj.environment, obj.key

        async def mutate(
            connection: AsyncConnection, revision: int, now: timestamp_pb2.Timestamp
        ) -> pb.FlagChange:
            where = (
                table.c.tenant == tenant,
                table.c.environment == environment,
                table.c.key == key,
            )
            blob = (
                await connection.execute(sa.select(table.c.definition).where(*where))
            ).scalar_one_or_none()
            previous = None if blob is None else type(obj).FromString(blob)
            current = previous.version if previous is not None else 0
            if create_only and previous is not None:
                raise ObjectExists()
            if expected_version and expected_version != current:
                raise VersionMismatch(current)
            if check is not None:
                await check(connection, previous is not None)
            stored = type(obj)()
            stored.CopyFrom(obj)
            stored.version = current + 1
            stored.revision = revision
            stored.create_time.CopyFrom(previous.create_time if previous is not None else now)
            stored.update_time.CopyFrom(now)
            stored.updated_by = actor
            values = {
                "version": stored.version,
                "revision": revision,
                "definition": stored.SerializeToString(deterministic=True),
            }
            if previous is None:
                await connection.execute(
                    sa.insert(table).values(
                        tenant=tenant, environment=environment, key=key, **values
                    )
                )
            else:
                await connection.execute(sa.update(table).where(*where).values(**values))
            change = pb.FlagChange(
                type=change_type,  # type: ignore[arg-type]
                key=key,
                revision=revision,
                actor=actor,
                time=now,
            )
            _field_of(change, stored).CopyFrom(stored)
            return change

        return await self._write(tenant, environment, mutate)

    async def _delete(
        self,
        table: sa.Table,
        tenant: str,
        environment: str,
        key: str,
        change_type: int,
        *,
        expected_version: int,
        actor: str,
        check: Check | None = None,
    ) -> pb.FlagChange:
        async def mutate(
            connection: AsyncConnection, revision: int, now: timestamp_pb2.Timestamp
        ) -> pb.FlagChange:
            where = (
                table.c.tenant == tenant,
                table.c.environment == environment,
                table.c.key == key,
            )
            version = (
                await connection.execute(sa.select(table.c.version).where(*where))
            ).scalar_one_or_none()
            if version is None:
                raise ObjectMissing()
            if expected_version and expected_version != version:
                raise VersionMismatch(int(version))
            if check is not None:
                await check(connection, True)
            await connection.execute(sa.delete(table).where(*where))
            return pb.FlagChange(
                type=change_type,  # type: ignore[arg-type]
                key=key,
                revision=revision,
                actor=actor,
                time=now,
            )

        return await self._write(tenant, environment, mutate)

    async def _write(
        self,
        tenant: str,
        environment: str,
        mutate: Callable[[AsyncConnection, int, timestamp_pb2.Timestamp], Awaitable[pb.FlagChange]],
    ) -> pb.FlagChange:
        """Runs `mutate` under the next revision and logs its change, in one transaction."""
        try:
            await self._ensure_head(tenant, environment)
            async with self._engine.begin() as connection:
                # Updating the head row first takes the write lock (a row lock on PostgreSQL, the
                # database lock on SQLite): revisions are handed out and committed in order.
                revision, retained_from = (
                    await connection.execute(
                        sa.update(flag_heads)
                        .where(
                            flag_heads.c.tenant == tenant,
                            flag_heads.c.environment == environment,
                        )
                        .values(revision=flag_heads.c.revision + 1)
                        .returning(flag_heads.c.revision, flag_heads.c.retained_from)
                    )
                ).one()
                now = timestamp_pb2.Timestamp()
                now.GetCurrentTime()
                change = await mutate(connection, revision, now)
                await connection.execute(
                    sa.insert(flag_changes).values(
                        tenant=tenant,
                        environment=environment,
                        revision=revision,
                        change=change.SerializeToString(deterministic=True),
                    )
                )
                oldest_kept = revision - self._retained + 1
                if oldest_kept > retained_from:
                    await connection.execute(
                        sa.delete(flag_changes).where(
                            flag_changes.c.tenant == tenant,
                            flag_changes.c.environment == environment,
                            flag_changes.c.revision < oldest_kept,
                        )
                    )
                    await connection.execute(
                        sa.update(flag_heads)
                        .where(
                            flag_heads.c.tenant == tenant,
                            flag_heads.c.environment == environment,
                        )
                        .values(retained_from=oldest_kept)
                    )
                return change
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc

    async def _ensure_head(self, tenant: str, environment: str) -> None:
        if (tenant, environment) in self._heads:
            return
        try:
            # A plain INSERT (no read first): on SQLite a read that turns into a write can fail
            # at once with SQLITE_BUSY instead of waiting for the lock.
            async with self._engine.begin() as connection:
                await connection.execute(
                    sa.insert(flag_heads).values(
                        tenant=tenant, environment=environment, revision=0, retained_from=1
                    )
                )
        except IntegrityError:
            pass  # another writer created it first
        self._heads.add((tenant, environment))


def _field_of(change: pb.FlagChange, stored: proto_message.Message) -> proto_message.Message:
    return change.flag if isinstance(stored, pb.Flag) else change.segment


def _unavailable(exc: BaseException) -> BackendUnavailable:
    return BackendUnavailable(f"flag store unavailable: {exc.__class__.__name__}")
