"""Versioned config values: one monotonic revision counter, compare-and-set, tombstones, history.

Every write (put, delete, rollback) takes the next revision from the `config_head` row. Updating
that row first serialises writers on both engines, so revisions commit in increasing order: a
reader that sees revision N committed has seen every revision below it. That is what lets
watchers read "every change after my cursor" from the table and never miss one that commits late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    OutOfRange,
    Unavailable,
)
from centrum.services.config.tables import config_changes, config_head, config_keys
from centrum.services.db import DATABASE_OUTAGES, OneHop

__all__ = ["Change", "KeyFilter", "ValueStore", "WriteResult", "compacted_error"]

_RETRY_AFTER_S = 1.0

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class KeyFilter:
    """Which keys of one tenant's environment a reader wants: one key, a prefix, or all."""

    tenant: str
    environment: str
    key: str | None = None
    prefix: str = ""

    def matches(self, change: Change) -> bool:
        """Tells whether `change` concerns a selected key."""
        if change.tenant != self.tenant or change.environment != self.environment:
            return False
        if self.key is not None:
            return change.key == self.key
        return change.key.startswith(self.prefix)


@dataclass(frozen=True, slots=True)
class Change:
    """One immutable revision of one key (a history entry and a watch event)."""

    revision: int
    tenant: str
    environment: str
    key: str
    deleted: bool
    value: bytes | None
    """The serialized `google.protobuf.Value` of a put; None for a delete."""
    description: str
    previous_revision: int
    create_revision: int
    version: int
    actor: str
    time_ns: int
    create_ns: int
    reason: str
    rollback_revision: int


@dataclass(frozen=True, slots=True)
class WriteResult:
    """A committed write: the change it created and the key's revision before it."""

    change: Change
    previous_revision: int


def _change(row: Any) -> Change:
    return Change(
        revision=row.revision,
        tenant=row.tenant,
        environment=row.environment,
        key=row.key,
        deleted=bool(row.deleted),
        value=row.value,
        description=row.description,
        previous_revision=row.previous_revision,
        create_revision=row.create_revision,
        version=row.version,
        actor=row.actor,
        time_ns=row.time_ns,
        create_ns=row.create_ns,
        reason=row.reason,
        rollback_revision=row.rollback_revision,
    )


def _selected(query: sa.Select[Any], table: sa.Table, where: KeyFilter) -> sa.Select[Any]:
    """`query` restricted to the rows of `table` (changes or key states) `where` selects."""
    c = table.c
    query = query.where(c.tenant == where.tenant, c.environment == where.environment)
    if where.key is not None:
        return query.where(c.key == where.key)
    if where.prefix:
        return query.where(c.key.startswith(where.prefix, autoescape=True))
    return query


def _unavailable(exc: BaseException) -> Unavailable:
    return Unavailable(
        f"the config database is unavailable ({exc.__class__.__name__})",
        reason="BACKEND_UNAVAILABLE",
        info={"backend": "database"},
        retry_after_s=_RETRY_AFTER_S,
    )


def _conflict(current: int) -> Aborted:
    return Aborted(
        f"the key's current revision is {current}",
        reason="REVISION_MISMATCH",
        info={"current_revision": str(current)},
    )


# The statements of the hot paths, built once: building one costs more than running it.
# Parameters named k_* address one key (`_this_key`); an UPDATE sets the columns its other
# parameters name.
_key_columns = config_keys.c
_change_columns = config_changes.c
_HEAD = sa.select(config_head.c.revision).where(config_head.c.id == 1)
_NEXT_REVISION = (
    sa.update(config_head)
    .where(config_head.c.id == 1)
    .values(revision=config_head.c.revision + 1)
    .returning(config_head.c.revision)
)
_IS_THIS_KEY = (
    _key_columns.tenant == sa.bindparam("k_tenant"),
    _key_columns.environment == sa.bindparam("k_environment"),
    _key_columns.key == sa.bindparam("k_key"),
)
_KEY_STATE = sa.select(
    _key_columns.revision, _key_columns.deleted, _key_columns.compacted_revision
).where(*_IS_THIS_KEY)
_INSERT_KEY = sa.insert(config_keys)
_UPDATE_KEY = sa.update(config_keys).where(*_IS_THIS_KEY)
_IS_THIS_KEYS_CHANGE = (
    _change_columns.tenant == sa.bindparam("k_tenant"),
    _change_columns.environment == sa.bindparam("k_environment"),
    _change_columns.key == sa.bindparam("k_key"),
)
_LATEST_AT = (
    sa.select(config_changes)
    .where(*_IS_THIS_KEYS_CHANGE, _change_columns.revision <= sa.bindparam("at"))
    .order_by(_change_columns.revision.desc())
    .limit(1)
)
_OLDEST_KEPT = (
    sa.select(_change_columns.revision)
    .where(*_IS_THIS_KEYS_CHANGE)
    .order_by(_change_columns.revision.desc())
    .offset(sa.bindparam("kept"))
    .limit(1)
)
_DELETE_UP_TO = sa.delete(config_changes).where(
    *_IS_THIS_KEYS_CHANGE, _change_columns.revision <= sa.bindparam("cut")
)
_CHANGE = sa.select(config_changes).where(_change_columns.revision == sa.bindparam("at"))
_CHANGES_AFTER = (
    sa.select(config_changes)
    .where(_change_columns.revision > sa.bindparam("after"))
    .order_by(_change_columns.revision)
    .limit(sa.bindparam("limit"))
)
_WATERMARK = sa.select(config_head.c.compacted_revision).where(config_head.c.id == 1)
_INSERT_CHANGE = sa.insert(config_changes)


class ValueStore:
    """The revisioned key/value store of config values, in the relational database.

    Every read and every write is one unit of synchronous work on one connection
    (`db.OneHop`): on SQLite one hand-off to the connection's thread instead of several per
    statement, and a waiting writer holds no pooled connection, so reads keep flowing while
    writes queue.
    """

    def __init__(self, engine: AsyncEngine, *, keep_revisions: int = 0) -> None:
        """`keep_revisions`: revisions of each key its history keeps (0: all)."""
        self._hop = OneHop(engine)
        self._keep_revisions = keep_revisions

    async def _run(self, work: Callable[[sa.Connection], _T], *, write: bool = False) -> _T:
        """Runs `work` on one connection; a database outage becomes UNAVAILABLE."""
        try:
            return await self._hop.run(work, write=write)
        except DATABASE_OUTAGES as exc:
            raise _unavailable(exc) from exc

    # --- reads ---------------------------------------------------------------------------------

    async def head(self) -> int:
        """The latest committed revision (0 before the first write)."""
        return await self._run(_head)

    async def compacted(self, where: KeyFilter) -> int:
        """The newest revision compaction removed among the selected keys (0: none)."""
        query = _selected(
            sa.select(sa.func.max(config_keys.c.compacted_revision)), config_keys, where
        )
        return await self._run(lambda connection: int(connection.execute(query).scalar() or 0))

    async def get(self, where: KeyFilter, revision: int = 0) -> tuple[Change, int]:
        """The key's last put at or before `revision` (0: latest), and the store's head."""
        assert where.key is not None
        this_key = _this_key(where)

        def read(connection: sa.Connection) -> tuple[Any, int]:
            head = _head(connection)
            if revision > head:
                raise _future(revision, head)
            row = connection.execute(_LATEST_AT, {**this_key, "at": revision or head}).first()
            if row is None and revision:
                # Nothing kept at or before the revision: unknown if older rows were removed.
                state = connection.execute(_KEY_STATE, this_key).first()
                if state is not None and state.compacted_revision:
                    raise compacted_error(where, revision, int(state.compacted_revision))
            return row, head

        row, head = await self._run(read)
        if row is None or row.deleted:
            raise NotFound(
                f"config key {where.environment}/{where.key} has no value"
                + (f" at revision {revision}" if revision else ""),
                reason="KEY_NOT_FOUND",
                resource=("config_value", f"{where.environment}/{where.key}"),
            )
        return _change(row), head

    async def list_values(
        self, where: KeyFilter, revision: int, after_key: str, limit: int
    ) -> tuple[list[Change], int]:
        """Live values under the prefix at `revision` (0: head) with keys after `after_key`.

        Returns up to `limit` values in key order and the revision they reflect.
        """
        later = config_changes.alias("later")
        c = config_changes.c

        def read(connection: sa.Connection) -> tuple[list[Change], int]:
            head = _head(connection)
            if revision > head:
                raise _future(revision, head)
            at = revision or head
            newest = (
                sa.select(sa.func.max(later.c.revision))
                .where(
                    later.c.tenant == c.tenant,
                    later.c.environment == c.environment,
                    later.c.key == c.key,
                    later.c.revision <= at,
                )
                .scalar_subquery()
            )
            query = (
                sa.select(config_changes)
                .where(
                    c.tenant == where.tenant,
                    c.environment == where.environment,
                    c.key.startswith(where.prefix, autoescape=True),
                    c.key > after_key,
                    c.revision == newest,
                    c.deleted.is_(False),
                )
                .order_by(c.key)
                .limit(limit)
            )
            if at < head:
                _check_listable(connection, where, at)
            return [_change(row) for row in connection.execute(query)], at

        return await self._run(read)

    async def history(self, where: KeyFilter, before: int, limit: int) -> list[Change]:
        """The key's changes with revisions below `before` (0: all), newest first."""
        assert where.key is not None
        c = config_changes.c
        query = sa.select(config_changes).where(
            c.tenant == where.tenant, c.environment == where.environment, c.key == where.key
        )
        if before:
            query = query.where(c.revision < before)
        return await self._run(_changes(query.order_by(c.revision.desc()).limit(limit)))

    async def changes(
        self, after: int, limit: int, where: KeyFilter | None = None, upto: int | None = None
    ) -> list[Change]:
        """Changes with revisions above `after` (and at most `upto`), in revision order.

        Without `where` every tenant's changes are returned (the change hub reads them so).
        """
        c = config_changes.c
        query = sa.select(config_changes).where(c.revision > after)
        if upto is not None:
            query = query.where(c.revision <= upto)
        if where is not None:
            query = _selected(query, config_changes, where)
        return await self._run(_changes(query.order_by(c.revision).limit(limit)))

    async def changes_for_hub(self, after: int, limit: int) -> tuple[list[Change], int]:
        """`changes(after, limit)` of every tenant, and then the global compaction watermark.

        The watermark is read after the changes: if it is above `after`, a change the reader
        has not delivered may have been removed before it was read.
        """
        parameters = {"after": after, "limit": limit}

        def read(connection: sa.Connection) -> tuple[list[Change], int]:
            changes = [_change(row) for row in connection.execute(_CHANGES_AFTER, parameters)]
            return changes, int(connection.execute(_WATERMARK).scalar_one())

        return await self._run(read)

    # --- writes --------------------------------------------------------------------------------

    async def put(
        self,
        where: KeyFilter,
        value: bytes,
        *,
        actor: str,
        description: str | None = None,
        expected_revision: int = 0,
        create_only: bool = False,
        reason: str = "",
        rollback_revision: int = 0,
    ) -> WriteResult:
        """Writes `value` as the key's new revision, after the compare-and-set checks."""
        return await self._write(
            where,
            value,
            actor=actor,
            description=description,
            expected_revision=expected_revision,
            create_only=create_only,
            reason=reason,
            rollback_revision=rollback_revision,
        )

    async def delete(
        self,
        where: KeyFilter,
        *,
        actor: str,
        expected_revision: int = 0,
        allow_missing: bool = False,
        reason: str = "",
    ) -> WriteResult | None:
        """Writes a tombstone; None when the key is absent and `allow_missing` is set."""
        try:
            return await self._write(
                where,
                None,
                actor=actor,
                description="",
                expected_revision=expected_revision,
                create_only=False,
                reason=reason,
                rollback_revision=0,
            )
        except NotFound:
            if allow_missing and not expected_revision:
                return None
            raise

    async def rollback(
        self,
        where: KeyFilter,
        revision: int,
        *,
        actor: str,
        expected_revision: int = 0,
        reason: str = "",
    ) -> WriteResult:
        """Writes the value and description the key held at `revision` as a new revision."""
        try:
            restored, _ = await self.get(where, revision)
        except NotFound:
            raise FailedPrecondition(
                f"config key {where.environment}/{where.key} had no value at revision {revision}",
                reason="NOTHING_TO_RESTORE",
                info={"revision": str(revision)},
            ) from None
        assert restored.value is not None
        return await self._write(
            where,
            restored.value,
            actor=actor,
            description=restored.description,
            expected_revision=expected_revision,
            create_only=False,
            reason=reason,
            rollback_revision=restored.revision,
        )

    async def _write(
        self,
        where: KeyFilter,
        value: bytes | None,
        *,
        actor: str,
        description: str | None,
        expected_revision: int,
        create_only: bool,
        reason: str,
        rollback_revision: int,
    ) -> WriteResult:
        assert where.key is not None
        now = time.time_ns()
        this_key = _this_key(where)
        where_key = {"tenant": where.tenant, "environment": where.environment, "key": where.key}

        def write(connection: sa.Connection) -> WriteResult:
            # Taking the next revision first locks the head row (PostgreSQL) or the database
            # (SQLite) until commit: writers are serialised in revision order.
            revision = int(connection.execute(_NEXT_REVISION).scalar_one())
            state = connection.execute(_KEY_STATE, this_key).first()
            live = state is not None and not state.deleted
            current = int(state.revision) if state is not None and live else 0
            if expected_revision and expected_revision != current:
                raise _conflict(current)
            if create_only and live:
                raise AlreadyExists(
                    f"config key {where.environment}/{where.key} exists already",
                    reason="KEY_EXISTS",
                    info={"current_revision": str(current)},
                    resource=("config_value", f"{where.environment}/{where.key}"),
                )
            if value is None and not live:
                raise NotFound(
                    f"config key {where.environment}/{where.key} has no value",
                    reason="KEY_NOT_FOUND",
                    resource=("config_value", f"{where.environment}/{where.key}"),
                )
            previous = None
            if live and state is not None:
                previous = connection.execute(_CHANGE, {"at": state.revision}).first()
            change = _next_change(
                where, revision, value, previous, state, actor, description, reason, now
            )
            if rollback_revision:
                change = Change(**{**_asdict(change), "rollback_revision": rollback_revision})
            connection.execute(_INSERT_CHANGE, _asdict(change))
            removed = self._compact(connection, where)
            if removed:
                # Another key's older cut must not lower the global watermark.
                watermark = config_head.c.compacted_revision
                connection.execute(
                    sa.update(config_head)
                    .where(config_head.c.id == 1)
                    .values(
                        compacted_revision=sa.case((watermark < removed, removed), else_=watermark)
                    )
                )
            if state is None:
                connection.execute(
                    _INSERT_KEY,
                    {**where_key, "revision": revision, "deleted": value is None},
                )
            else:
                connection.execute(
                    _UPDATE_KEY,
                    {
                        **this_key,
                        "revision": revision,
                        "deleted": value is None,
                        "compacted_revision": removed or state.compacted_revision,
                    },
                )
            return WriteResult(change, int(state.revision) if state is not None else 0)

        return await self._run(write, write=True)

    def _compact(self, connection: sa.Connection, where: KeyFilter) -> int:
        """Removes the key's revisions beyond the newest kept; the newest removed one, or 0.

        Runs in the writer's transaction, so a key's history never exceeds the bound by more
        than the write in flight, and replicas need no compaction job of their own.
        """
        if not self._keep_revisions:
            return 0
        this_key = _this_key(where)
        cut = connection.execute(_OLDEST_KEPT, {**this_key, "kept": self._keep_revisions}).scalar()
        if cut is None:
            return 0
        connection.execute(_DELETE_UP_TO, {**this_key, "cut": cut})
        return int(cut)


def _head(connection: sa.Connection) -> int:
    """The latest committed revision, read on `connection`."""
    return int(connection.execute(_HEAD).scalar_one())


def _this_key(where: KeyFilter) -> dict[str, str | None]:
    """The parameters of the statements below that address one key."""
    return {"k_tenant": where.tenant, "k_environment": where.environment, "k_key": where.key}


def _changes(query: sa.Select[Any]) -> Callable[[sa.Connection], list[Change]]:
    """Work that reads the changes `query` selects."""
    return lambda connection: [_change(row) for row in connection.execute(query)]


def _check_listable(connection: sa.Connection, where: KeyFilter, at: int) -> None:
    """Raises REVISION_COMPACTED if a selected key's state at `at` was compacted away."""
    k = config_keys.c
    c = config_changes.c
    kept_before = (
        sa.select(c.revision)
        .where(
            c.tenant == k.tenant,
            c.environment == k.environment,
            c.key == k.key,
            c.revision <= at,
        )
        .exists()
    )
    removed = connection.execute(
        sa.select(k.compacted_revision)
        .where(
            k.tenant == where.tenant,
            k.environment == where.environment,
            k.key.startswith(where.prefix, autoescape=True),
            k.compacted_revision > 0,
            ~kept_before,
        )
        .limit(1)
    ).scalar()
    if removed:
        raise compacted_error(where, at, int(removed))


def _next_change(
    where: KeyFilter,
    revision: int,
    value: bytes | None,
    previous: Any,
    state: Any,
    actor: str,
    description: str | None,
    reason: str,
    now: int,
) -> Change:
    assert where.key is not None
    if value is None:
        create_revision, version, create_ns, description = 0, 0, 0, ""
    elif previous is not None:
        create_revision = previous.create_revision
        version = previous.version + 1
        create_ns = previous.create_ns
        description = previous.description if description is None else description
    else:
        create_revision, version, create_ns = revision, 1, now
        description = description or ""
    return Change(
        revision=revision,
        tenant=where.tenant,
        environment=where.environment,
        key=where.key,
        deleted=value is None,
        value=value,
        description=description,
        previous_revision=int(state.revision) if state is not None else 0,
        create_revision=create_revision,
        version=version,
        actor=actor,
        time_ns=now,
        create_ns=create_ns,
        reason=reason,
        rollback_revision=0,
    )


def _asdict(change: Change) -> dict[str, Any]:
    return {name: getattr(change, name) for name in Change.__slots__}


def compacted_error(where: KeyFilter, revision: int, removed: int) -> OutOfRange:
    """OUT_OF_RANGE for a read or watch needing history that compaction removed.

    Like etcd's ErrCompacted: the caller lists the values again and watches from the revision
    that listing returns.
    """
    selected = where.key if where.key is not None else f"{where.prefix}*"
    return OutOfRange(
        f"revision {revision} of {where.environment}/{selected} is compacted (history kept from "
        f"after revision {removed}); list the values again and watch from that revision",
        reason="REVISION_COMPACTED",
        info={"compacted_revision": str(removed), "action": "relist"},
    )


def _future(revision: int, head: int) -> OutOfRange:
    return OutOfRange(
        f"revision {revision} is in the future; the latest is {head}",
        reason="FUTURE_REVISION",
        info={"current_revision": str(head)},
    )
