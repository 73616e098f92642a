"""Recipients' wishes: preference rules per subscriber and the suppression list per address."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import preference_pb2
from centrum.services.db import DATABASE_OUTAGES, BackendUnavailable, outage_message
from centrum.services.notification.ids import new_id
from centrum.services.notification.tables import (
    notification_preferences,
    notification_suppressions,
)

__all__ = ["CRITICAL", "PreferenceStore", "Rule", "allowed_by"]

CRITICAL = "critical"
"""The category that bypasses preferences and unsubscribes."""


@dataclass(frozen=True)
class Rule:
    """One stored preference rule."""

    category: str
    channel: int
    enabled: bool


def allowed_by(rules: Sequence[Rule], category: str, channel: int) -> bool:
    """The most specific matching rule decides; no matching rule means opted in."""
    for want_category, want_channel in (
        (category, channel),
        (category, 0),
        ("", channel),
        ("", 0),
    ):
        for rule in rules:
            if rule.category == want_category and rule.channel == want_channel:
                return rule.enabled
    return True


class PreferenceStore:
    """Preferences and suppressions in the database."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    async def rules(self, tenant: str, subscriber_id: str) -> tuple[list[Rule], float | None]:
        """The subscriber's rules and when they last changed."""
        p = notification_preferences.c
        try:
            async with self._engine.connect() as connection:
                rows = list(
                    await connection.execute(
                        sa.select(notification_preferences)
                        .where(p.tenant == tenant, p.subscriber_id == subscriber_id)
                        .order_by(p.category, p.channel)
                    )
                )
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        updated = max((r.update_time for r in rows), default=None)
        return [Rule(r.category, r.channel, r.enabled) for r in rows], updated

    async def update(
        self, tenant: str, subscriber_id: str, rules: Sequence[Rule], replace: bool
    ) -> None:
        """Upserts the rules by category and channel; `replace` drops every other rule."""
        p = notification_preferences.c
        now = self._clock()
        try:
            async with self._engine.begin() as connection:
                where = (p.tenant == tenant, p.subscriber_id == subscriber_id)
                if replace:
                    await connection.execute(sa.delete(notification_preferences).where(*where))
                for rule in rules:
                    await connection.execute(
                        sa.delete(notification_preferences).where(
                            *where, p.category == rule.category, p.channel == rule.channel
                        )
                    )
                if rules:
                    await connection.execute(
                        sa.insert(notification_preferences),
                        [
                            {
                                "tenant": tenant,
                                "subscriber_id": subscriber_id,
                                "category": r.category,
                                "channel": r.channel,
                                "enabled": r.enabled,
                                "update_time": now,
                            }
                            for r in {(r.category, r.channel): r for r in rules}.values()
                        ],
                    )
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc

    async def suppressed(
        self, tenant: str, channel: int, addresses: Sequence[str]
    ) -> dict[str, int]:
        """The active suppression reason of each suppressed address among `addresses`."""
        if not addresses:
            return {}
        s = notification_suppressions.c
        now = self._clock()
        try:
            async with self._engine.connect() as connection:
                rows = await connection.execute(
                    sa.select(s.address, s.reason).where(
                        s.tenant == tenant,
                        s.channel == channel,
                        s.address.in_([normalise(channel, a) for a in addresses]),
                        sa.or_(s.expire_time.is_(None), s.expire_time > now),
                    )
                )
                return {row.address: row.reason for row in rows}
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc

    async def add_suppression(
        self,
        tenant: str,
        channel: int,
        address: str,
        reason: int,
        *,
        detail: str = "",
        notification_id: str = "",
        creator: str = "",
        expire_time: float | None = None,
    ) -> preference_pb2.Suppression:
        """Adds or replaces (same id) the suppression of one address."""
        s = notification_suppressions.c
        now = self._clock()
        address = normalise(channel, address)
        values = {
            "reason": reason,
            "detail": detail,
            "notification_id": notification_id,
            "creator": creator,
            "create_time": now,
            "expire_time": expire_time,
        }
        try:
            async with self._engine.begin() as connection:
                where = (s.tenant == tenant, s.channel == channel, s.address == address)
                existing = (
                    await connection.execute(
                        sa.update(notification_suppressions)
                        .where(*where)
                        .values(**values)
                        .returning(s.id)
                    )
                ).scalar_one_or_none()
                suppression_id = existing or new_id(now)
                if existing is None:
                    await connection.execute(
                        sa.insert(notification_suppressions).values(
                            id=suppression_id,
                            tenant=tenant,
                            channel=channel,
                            address=address,
                            **values,
                        )
                    )
                row = (
                    await connection.execute(
                        sa.select(notification_suppressions).where(s.id == suppression_id)
                    )
                ).one()
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        return suppression_proto(row)

    async def list_suppressions(
        self, tenant: str, *, limit: int, before_id: str, channel: int, reason: int, address: str
    ) -> list[preference_pb2.Suppression]:
        """The tenant's suppressions, newest first."""
        s = notification_suppressions.c
        query = sa.select(notification_suppressions).where(s.tenant == tenant)
        if before_id:
            query = query.where(s.id < before_id)
        if channel:
            query = query.where(s.channel == channel)
        if reason:
            query = query.where(s.reason == reason)
        if address:
            query = query.where(s.address == normalise(channel or pb.CHANNEL_EMAIL, address))
        query = query.order_by(s.id.desc()).limit(limit)
        try:
            async with self._engine.connect() as connection:
                return [suppression_proto(r) for r in await connection.execute(query)]
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc

    async def remove_suppression(self, tenant: str, suppression_id: str) -> bool:
        """Lifts a suppression; False when there is none with that id."""
        s = notification_suppressions.c
        try:
            async with self._engine.begin() as connection:
                result = await connection.execute(
                    sa.delete(notification_suppressions).where(
                        s.tenant == tenant, s.id == suppression_id
                    )
                )
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        return bool(result.rowcount)


def normalise(channel: int, address: str) -> str:
    """Email addresses are compared lower-cased; numbers and tokens as given."""
    return address.strip().lower() if channel == pb.CHANNEL_EMAIL else address.strip()


def suppression_proto(row: Any) -> preference_pb2.Suppression:
    """The Suppression message of a stored row."""
    message = preference_pb2.Suppression(
        id=row.id,
        channel=row.channel,
        address=row.address,
        reason=row.reason,
        detail=row.detail,
        notification_id=row.notification_id,
        creator=row.creator,
    )
    message.create_time.FromNanoseconds(int(row.create_time * 1e9))
    if row.expire_time is not None:
        message.expire_time.FromNanoseconds(int(row.expire_time * 1e9))
    return message
