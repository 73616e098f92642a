"""The durable outbox: accepted notifications, their leases, attempts and status history.

One code path for SQLite and PostgreSQL. Claims take due notifications under a lease in one
statement: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)` on PostgreSQL, where
concurrent claimers skip each other's rows; on SQLite the same UPDATE runs under the database
write lock, so claims serialise. Each claim stamps a fresh token, and the claimed rows are read
back by it; completing a notification is conditional on that token, so a worker whose lease
expired (and was taken over) can no longer change it.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.notification.v1 import notification_pb2 as pb
from centrum.services.db import (
    DATABASE_OUTAGES,
    BackendUnavailable,
    OneHop,
    outage_message,
    writer_lock,
)
from centrum.services.notification.tables import (
    notification_attempts,
    notification_history,
    notification_idempotency,
    notifications,
)

__all__ = [
    "Attempt",
    "Claimed",
    "IdempotencyConflict",
    "NewNotification",
    "Outbox",
    "Outcome",
    "StatusConflict",
]

_WAITING = (
    pb.NOTIFICATION_STATUS_QUEUED,
    pb.NOTIFICATION_STATUS_SCHEDULED,
    pb.NOTIFICATION_STATUS_RETRYING,
)


class IdempotencyConflict(Exception):
    """The idempotency key was used within the window for a different request."""

    def __init__(self, notification_id: str) -> None:
        super().__init__(notification_id)
        self.notification_id = notification_id


class StatusConflict(Exception):
    """The notification is not in a status the operation needs."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class NewNotification:
    """A notification to accept into the outbox (already rendered and checked)."""

    id: str
    tenant: str
    channel: int
    status: int
    recipient: bytes
    recipient_secrets: bytes | None
    recipient_index: str
    subscriber_id: str
    content: bytes
    sender: str
    request_hash: str
    status_message: str = ""
    suppressed_by: int = 0
    template_id: str = ""
    template_version: int = 0
    template_locale: str = ""
    attachments: bytes = b""
    overrides: bytes = b""
    tags: Sequence[str] = ()
    category: str = ""
    priority: int = pb.PRIORITY_NORMAL
    idempotency_key: str = ""
    batch_id: str = ""
    schedule_at: float | None = None
    expire_time: float | None = None


@dataclass(frozen=True)
class Claimed:
    """A notification claimed by one worker under a lease."""

    row: Any
    token: str
    attempt_number: int
    claimed_at: float


@dataclass
class Attempt:
    """One provider call of a dispatch round, recorded when the round ends."""

    provider: str
    start_time: float
    end_time: float
    outcome: int
    response_code: str = ""
    response_message: str = ""
    message_id: str = ""
    next_attempt_time: float | None = None


@dataclass
class Outcome:
    """How one claimed notification's round ended."""

    claimed: Claimed
    attempts: Sequence[Attempt]
    status: int
    message: str = ""
    due_at: float | None = None
    worker: str = ""


@dataclass
class Record:
    """A notification row with its attempts and history."""

    row: Any
    attempts: list[Any] = field(default_factory=list)
    history: list[Any] = field(default_factory=list)


def encode_tags(tags: Iterable[str]) -> str:
    """Tags stored as `|a|b|` so a LIKE finds one exactly."""
    ordered = sorted(set(tags))
    return "|" + "|".join(ordered) + "|" if ordered else ""


def decode_tags(stored: str) -> list[str]:
    """The tags of a stored `|a|b|` string."""
    return [t for t in stored.split("|") if t]


def _history(notification_id: str, status: int, at: float, message: str = "", actor: str = ""):  # type: ignore[no-untyped-def]
    return {
        "notification_id": notification_id,
        "status": status,
        "time": at,
        "message": message,
        "actor": actor,
    }


# The statements of the accept path, built once (one costs more to build than to run).
_IS_THIS_KEY = (
    notification_idempotency.c.tenant == sa.bindparam("k_tenant"),
    notification_idempotency.c.idempotency_key == sa.bindparam("k_idempotency_key"),
)
_IDEMPOTENCY_KEY = sa.select(notification_idempotency).where(*_IS_THIS_KEY)
_FORGET_IDEMPOTENCY_KEY = sa.delete(notification_idempotency).where(*_IS_THIS_KEY)
_INSERT_IDEMPOTENCY_KEY = sa.insert(notification_idempotency)
_NOTIFICATION = sa.select(notifications).where(notifications.c.id == sa.bindparam("k_id"))
_INSERT_NOTIFICATION = sa.insert(notifications)
_INSERT_HISTORY = sa.insert(notification_history)


class Outbox:
    """Reads and writes the outbox tables.

    On SQLite, write transactions of one process take turns on the engine's writer lock
    (`db.writer_lock`) before they check out a connection: SQLite admits one writer at a time
    anyway, and a writer waiting there holds no pooled connection.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        idempotency_window_s: float = 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._hop = OneHop(engine)
        self._window = idempotency_window_s
        self._clock = clock
        self._serialise = engine.dialect.name == "sqlite"

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        if not self._serialise:
            async with self._engine.begin() as connection:
                yield connection
            return
        async with writer_lock(self._engine), self._engine.begin() as connection:
            yield connection

    # --- accepting -------------------------------------------------------------------------

    async def accept(self, new: NewNotification) -> tuple[Any, bool]:
        """Stores `new`, or returns the notification its idempotency key already names.

        Returns the stored row and whether it was a replay. Raises IdempotencyConflict when the
        key was used for a different request within the window.
        """
        for _ in range(3):
            try:
                return await self._accept_once(new)
            except IntegrityError:
                continue  # a concurrent send with the same key won; read what it stored
            except DATABASE_OUTAGES as exc:
                raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        raise BackendUnavailable("idempotency key contention")

    async def _accept_once(self, new: NewNotification) -> tuple[Any, bool]:
        now = self._clock()
        key = {"k_tenant": new.tenant, "k_idempotency_key": new.idempotency_key}
        values = self._row_values(new, now)
        history = _history(new.id, new.status, now, new.status_message)

        def accept(connection: sa.Connection) -> tuple[Any, bool]:
            if new.idempotency_key:
                existing = connection.execute(_IDEMPOTENCY_KEY, key).first()
                if existing is not None and existing.create_time > now - self._window:
                    earlier = {"k_id": existing.notification_id}
                    stored = connection.execute(_NOTIFICATION, earlier).first()
                    if stored is not None:
                        if stored.request_hash != new.request_hash:
                            raise IdempotencyConflict(stored.id)
                        return stored, True
                if existing is not None:
                    connection.execute(_FORGET_IDEMPOTENCY_KEY, key)
                connection.execute(
                    _INSERT_IDEMPOTENCY_KEY,
                    {
                        "tenant": new.tenant,
                        "idempotency_key": new.idempotency_key,
                        "notification_id": new.id,
                        "create_time": now,
                    },
                )
            connection.execute(_INSERT_NOTIFICATION, values)
            connection.execute(_INSERT_HISTORY, history)
            return connection.execute(_NOTIFICATION, {"k_id": new.id}).one(), False

        return await self._hop.run(accept, write=True)

    async def accept_many(self, items: Sequence[NewNotification]) -> list[tuple[Any, bool]]:
        """Stores many notifications; those without idempotency keys in one transaction."""
        results: dict[str, tuple[Any, bool]] = {}
        plain = [n for n in items if not n.idempotency_key]
        if plain:
            now = self._clock()
            try:
                async with self._writing() as connection:
                    await connection.execute(
                        sa.insert(notifications), [self._row_values(n, now) for n in plain]
                    )
                    await connection.execute(
                        sa.insert(notification_history),
                        [_history(n.id, n.status, now, n.status_message) for n in plain],
                    )
                    for row in await connection.execute(
                        sa.select(notifications).where(
                            notifications.c.id.in_([n.id for n in plain])
                        )
                    ):
                        results[row.id] = (row, False)
            except DATABASE_OUTAGES as exc:
                raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        out: list[tuple[Any, bool]] = []
        for item in items:
            if item.idempotency_key:
                out.append(await self.accept(item))
            else:
                out.append(results[item.id])
        return out

    def _row_values(self, new: NewNotification, now: float) -> dict[str, Any]:
        due: float | None = None
        if new.status in _WAITING:
            due = max(now, new.schedule_at or now)
        return {
            "id": new.id,
            "tenant": new.tenant,
            "channel": new.channel,
            "status": new.status,
            "status_message": new.status_message,
            "suppressed_by": new.suppressed_by,
            "recipient": new.recipient,
            "recipient_secrets": new.recipient_secrets,
            "recipient_index": new.recipient_index,
            "subscriber_id": new.subscriber_id,
            "template_id": new.template_id,
            "template_version": new.template_version,
            "template_locale": new.template_locale,
            "content": new.content,
            "attachments": new.attachments,
            "overrides": new.overrides,
            "tags": encode_tags(new.tags),
            "category": new.category,
            "priority": new.priority,
            "idempotency_key": new.idempotency_key or None,
            "request_hash": new.request_hash,
            "batch_id": new.batch_id,
            "schedule_at": new.schedule_at,
            "expire_time": new.expire_time,
            "attempt_count": 0,
            "attempt_base": 0,
            "due_at": due,
            "lease_token": None,
            "lease_expires_at": None,
            "sender": new.sender,
            "create_time": now,
            "update_time": now,
            "send_time": None,
        }

    # --- reading ---------------------------------------------------------------------------

    async def get(self, tenant: str, notification_id: str, *, full: bool = True) -> Record | None:
        """The notification with its attempts and history, or None (also for other tenants)."""
        try:
            async with self._engine.connect() as connection:
                row = (
                    await connection.execute(
                        sa.select(notifications).where(
                            notifications.c.id == notification_id,
                            notifications.c.tenant == tenant,
                        )
                    )
                ).first()
                if row is None:
                    return None
                record = Record(row)
                if full:
                    await self._load_details(connection, [record])
                return record
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc

    async def _load_details(self, connection: AsyncConnection, records: list[Record]) -> None:
        by_id = {r.row.id: r for r in records}
        ids = list(by_id)
        for attempt in await connection.execute(
            sa.select(notification_attempts)
            .where(notification_attempts.c.notification_id.in_(ids))
            .order_by(notification_attempts.c.seq)
        ):
            by_id[attempt.notification_id].attempts.append(attempt)
        for change in await connection.execute(
            sa.select(notification_history)
            .where(notification_history.c.notification_id.in_(ids))
            .order_by(notification_history.c.seq)
        ):
            by_id[change.notification_id].history.append(change)

    async def find(
        self,
        tenant: str,
        *,
        limit: int,
        before_id: str = "",
        statuses: Sequence[int] = (),
        tags: Sequence[str] = (),
        recipient: str = "",
        subscriber_id: str = "",
        channel: int = 0,
        category: str = "",
        template_id: str = "",
        batch_id: str = "",
        created_from: float | None = None,
        created_before: float | None = None,
        full: bool = False,
    ) -> list[Record]:
        """The tenant's notifications matching every filter, newest first, `limit` at most."""
        c = notifications.c
        query = sa.select(notifications).where(c.tenant == tenant)
        if before_id:
            query = query.where(c.id < before_id)
        if statuses:
            query = query.where(c.status.in_(list(statuses)))
        for tag in tags:
            query = query.where(c.tags.contains(f"|{tag}|", autoescape=True))
        if recipient:
            query = query.where(
                c.recipient_index.contains(f"|{recipient.lower()}|", autoescape=True)
            )
        if subscriber_id:
            query = query.where(c.subscriber_id == subscriber_id)
        if channel:
            query = query.where(c.channel == channel)
        if category:
            query = query.where(c.category == category)
        if template_id:
            query = query.where(c.template_id == template_id)
        if batch_id:
            query = query.where(c.batch_id == batch_id)
        if created_from is not None:
            query = query.where(c.create_time >= created_from)
        if created_before is not None:
            query = query.where(c.create_time < created_before)
        query = query.order_by(c.id.desc()).limit(limit)
        try:
            async with self._engine.connect() as connection:
                records = [Record(row) for row in await connection.execute(query)]
                if full and records:
                    await self._load_details(connection, records)
                return records
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc

    # --- operator changes ------------------------------------------------------------------

    async def cancel(self, tenant: str, notification_id: str, reason: str, actor: str) -> bool:
        """SCHEDULED -> CANCELLED. False when the notification does not exist; StatusConflict
        when it is in another status (CANCELLED is returned unchanged)."""
        return await self._transition(
            tenant,
            notification_id,
            frm=(pb.NOTIFICATION_STATUS_SCHEDULED,),
            to=pb.NOTIFICATION_STATUS_CANCELLED,
            message=reason,
            actor=actor,
            unchanged=pb.NOTIFICATION_STATUS_CANCELLED,
        )

    async def retry(self, tenant: str, notification_id: str, reason: str, actor: str) -> bool:
        """DEAD -> QUEUED with a fresh attempt budget."""
        return await self._transition(
            tenant,
            notification_id,
            frm=(pb.NOTIFICATION_STATUS_DEAD,),
            to=pb.NOTIFICATION_STATUS_QUEUED,
            message=reason,
            actor=actor,
        )

    async def _transition(
        self,
        tenant: str,
        notification_id: str,
        *,
        frm: Sequence[int],
        to: int,
        message: str,
        actor: str,
        unchanged: int | None = None,
    ) -> bool:
        now = self._clock()
        values: dict[str, Any] = {"status": to, "update_time": now, "status_message": message}
        if to == pb.NOTIFICATION_STATUS_QUEUED:
            values.update(due_at=now, attempt_base=notifications.c.attempt_count)
        else:
            values.update(due_at=None)
        try:
            async with self._writing() as connection:
                changed = await connection.execute(
                    sa.update(notifications)
                    .where(
                        notifications.c.id == notification_id,
                        notifications.c.tenant == tenant,
                        notifications.c.status.in_(list(frm)),
                    )
                    .values(**values)
                )
                if changed.rowcount:
                    await connection.execute(
                        sa.insert(notification_history),
                        [_history(notification_id, to, now, message, actor)],
                    )
                    return True
                status = (
                    await connection.execute(
                        sa.select(notifications.c.status).where(
                            notifications.c.id == notification_id,
                            notifications.c.tenant == tenant,
                        )
                    )
                ).scalar_one_or_none()
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        if status is None:
            return False
        if status == unchanged:
            return True
        raise StatusConflict(status)

    # --- dispatch --------------------------------------------------------------------------

    async def claim(
        self, limit: int, lease_s: float, worker: str, primary: Callable[[int], str]
    ) -> list[Claimed]:
        """Claims up to `limit` due notifications (or ones whose lease expired) under a lease.

        `primary` names the first provider of a channel, recorded on the attempt row that marks
        the claim; a claim that takes over an expired lease closes the old attempt as
        LEASE_EXPIRED.
        """
        now = self._clock()
        token = secrets.token_hex(16)
        c = notifications.c
        claimable = sa.or_(
            sa.and_(c.status.in_(list(_WAITING)), c.due_at <= now),
            sa.and_(c.status == pb.NOTIFICATION_STATUS_SENDING, c.lease_expires_at <= now),
        )
        due = (
            sa.select(c.id)
            .where(claimable)
            .order_by(c.priority.desc(), c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        try:
            async with self._writing() as connection:
                result = await connection.execute(
                    sa.update(notifications)
                    .where(c.id.in_(due.scalar_subquery()), claimable)
                    .values(
                        status=pb.NOTIFICATION_STATUS_SENDING,
                        lease_token=token,
                        lease_expires_at=now + lease_s,
                        attempt_count=c.attempt_count + 1,
                        update_time=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if not result.rowcount:
                    return []
                rows = list(
                    await connection.execute(sa.select(notifications).where(c.lease_token == token))
                )
                ids = [row.id for row in rows]
                a = notification_attempts.c
                await connection.execute(
                    sa.update(notification_attempts)
                    .where(
                        a.notification_id.in_(ids),
                        a.outcome == pb.ATTEMPT_OUTCOME_UNSPECIFIED,
                    )
                    .values(
                        outcome=pb.ATTEMPT_OUTCOME_LEASE_EXPIRED,
                        end_time=now,
                        response_message="the worker stopped before reporting; lease expired",
                    )
                )
                await connection.execute(
                    sa.insert(notification_attempts),
                    [
                        {
                            "notification_id": row.id,
                            "number": row.attempt_count,
                            "provider": primary(row.channel),
                            "worker": worker,
                            "lease_token": token,
                            "start_time": now,
                            "end_time": None,
                            "outcome": pb.ATTEMPT_OUTCOME_UNSPECIFIED,
                            "response_code": "",
                            "response_message": "",
                            "message_id": "",
                            "next_attempt_time": None,
                        }
                        for row in rows
                    ],
                )
                await connection.execute(
                    sa.insert(notification_history),
                    [_history(row.id, pb.NOTIFICATION_STATUS_SENDING, now) for row in rows],
                )
        except DBAPIError as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        return [Claimed(row, token, row.attempt_count, now) for row in rows]

    async def finish(self, outcomes: Sequence[Outcome]) -> list[bool]:
        """Records the rounds' attempts and new statuses in one transaction.

        Each outcome applies only if its lease is still held; the result says which did.
        """
        now = self._clock()
        kept: list[bool] = []
        a = notification_attempts.c
        try:
            async with self._writing() as connection:
                history: list[dict[str, Any]] = []
                extra_attempts: list[dict[str, Any]] = []
                for outcome in outcomes:
                    claimed = outcome.claimed
                    values: dict[str, Any] = {
                        "status": outcome.status,
                        "status_message": outcome.message,
                        "lease_token": None,
                        "lease_expires_at": None,
                        "due_at": outcome.due_at,
                        "update_time": now,
                    }
                    if outcome.status == pb.NOTIFICATION_STATUS_SENT:
                        values["send_time"] = now
                    changed = await connection.execute(
                        sa.update(notifications)
                        .where(
                            notifications.c.id == claimed.row.id,
                            notifications.c.lease_token == claimed.token,
                        )
                        .values(**values)
                    )
                    kept.append(bool(changed.rowcount))
                    if not changed.rowcount:
                        continue
                    first, *rest = outcome.attempts
                    await connection.execute(
                        sa.update(notification_attempts)
                        .where(a.notification_id == claimed.row.id, a.lease_token == claimed.token)
                        .values(**_attempt_values(first))
                    )
                    extra_attempts.extend(
                        {
                            "notification_id": claimed.row.id,
                            "number": claimed.attempt_number,
                            "worker": outcome.worker,
                            "lease_token": claimed.token,
                            **_attempt_values(attempt),
                        }
                        for attempt in rest
                    )
                    history.append(_history(claimed.row.id, outcome.status, now, outcome.message))
                if extra_attempts:
                    await connection.execute(sa.insert(notification_attempts), extra_attempts)
                if history:
                    await connection.execute(sa.insert(notification_history), history)
        except DBAPIError as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        return kept


def _attempt_values(attempt: Attempt) -> dict[str, Any]:
    return {
        "provider": attempt.provider,
        "start_time": attempt.start_time,
        "end_time": attempt.end_time,
        "outcome": attempt.outcome,
        "response_code": attempt.response_code[:64],
        "response_message": attempt.response_message[:2000],
        "message_id": attempt.message_id[:255],
        "next_attempt_time": attempt.next_attempt_time,
    }
