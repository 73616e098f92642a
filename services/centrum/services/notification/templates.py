"""Versioned templates: checking them, storing every version, and rendering one for a send."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from google.protobuf import field_mask_pb2
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.errors import (
    Aborted,
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import template_pb2
from centrum.services.db import DATABASE_OUTAGES, BackendUnavailable, outage_message
from centrum.services.notification.rendering import check_syntax
from centrum.services.notification.tables import notification_templates

__all__ = ["TEMPLATE_ID", "TemplateStore", "template_violations"]

TEMPLATE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_UPDATABLE = (
    "name",
    "description",
    "category",
    "default_locale",
    "locales",
    "required_variables",
    "example_context",
    "change_note",
)
_NEEDS = {
    pb.CHANNEL_EMAIL: ("subject",),
    pb.CHANNEL_SMS: ("text",),
    pb.CHANNEL_PUSH: (),
    pb.CHANNEL_WEBHOOK: ("data",),
}


def template_violations(
    template: template_pb2.Template, prefix: str = "template"
) -> list[FieldViolation]:
    """Every problem of a template's content: channel, locales, parts and their syntax."""
    problems: list[FieldViolation] = []
    if template.channel not in _NEEDS:
        problems.append(FieldViolation(f"{prefix}.channel", "must be a channel"))
    if not template.locales:
        problems.append(FieldViolation(f"{prefix}.locales", "needs at least one locale"))
    elif template.default_locale not in template.locales:
        problems.append(
            FieldViolation(f"{prefix}.default_locale", "must be one of the keys of locales")
        )
    for locale, variant in template.locales.items():
        where = f"{prefix}.locales[{locale}]"
        for part in _NEEDS.get(template.channel, ()):
            if not getattr(variant, part):
                problems.append(FieldViolation(f"{where}.{part}", "is required for the channel"))
        if template.channel == pb.CHANNEL_EMAIL and not (variant.text or variant.html):
            problems.append(FieldViolation(f"{where}.text", "an email needs text or html"))
        if template.channel == pb.CHANNEL_PUSH and not (variant.subject or variant.text):
            problems.append(FieldViolation(f"{where}.text", "a push needs a title or text"))
        for part, message in check_syntax(variant):
            problems.append(FieldViolation(f"{where}.{part}", message))
    if len(template.category) > 64:
        problems.append(FieldViolation(f"{prefix}.category", "at most 64 characters"))
    return problems


class TemplateStore:
    """Template versions of every tenant in the database."""

    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    async def create(
        self, tenant: str, template_id: str, template: template_pb2.Template, author: str
    ) -> template_pb2.Template:
        """Stores version 1; an existing id is ALREADY_EXISTS."""
        now = self._clock()
        stored = template_pb2.Template()
        stored.CopyFrom(template)
        stored.id, stored.version, stored.author = template_id, 1, author
        stored.create_time.FromNanoseconds(int(now * 1e9))
        stored.update_time.FromNanoseconds(int(now * 1e9))
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    sa.insert(notification_templates).values(**_row(tenant, stored, now))
                )
        except IntegrityError:
            raise AlreadyExists(
                f"template {template_id!r} exists",
                reason="TEMPLATE_EXISTS",
                resource=("template", template_id),
            ) from None
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        return stored

    async def get(self, tenant: str, template_id: str, version: int = 0) -> template_pb2.Template:
        """The latest version, or `version`; NOT_FOUND when missing."""
        t = notification_templates.c
        query = sa.select(t.payload).where(t.tenant == tenant, t.template_id == template_id)
        query = query.where(t.version == version) if version else query.where(t.latest)
        try:
            async with self._engine.connect() as connection:
                payload = (await connection.execute(query)).scalar_one_or_none()
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        if payload is None:
            raise NotFound(
                f"template {template_id!r}"
                + (f" version {version}" if version else "")
                + " not found",
                reason="TEMPLATE_NOT_FOUND",
                resource=("template", template_id),
            )
        return template_pb2.Template.FromString(payload)

    async def list_latest(
        self, tenant: str, *, limit: int, after_id: str, channel: int, category: str
    ) -> list[template_pb2.Template]:
        """Latest versions ordered by id, after `after_id`."""
        t = notification_templates.c
        query = sa.select(t.payload).where(t.tenant == tenant, t.latest, t.template_id > after_id)
        if channel:
            query = query.where(t.channel == channel)
        if category:
            query = query.where(t.category == category)
        query = query.order_by(t.template_id).limit(limit)
        try:
            async with self._engine.connect() as connection:
                rows = (await connection.execute(query)).scalars().all()
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        return [template_pb2.Template.FromString(p) for p in rows]

    async def versions(
        self, tenant: str, template_id: str, *, limit: int, before_version: int
    ) -> list[template_pb2.Template]:
        """Versions newest first, below `before_version` (0: from the latest)."""
        t = notification_templates.c
        query = sa.select(t.payload).where(t.tenant == tenant, t.template_id == template_id)
        if before_version:
            query = query.where(t.version < before_version)
        query = query.order_by(t.version.desc()).limit(limit)
        try:
            async with self._engine.connect() as connection:
                rows = (await connection.execute(query)).scalars().all()
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc
        if not rows and not before_version:
            await self.get(tenant, template_id)
        return [template_pb2.Template.FromString(p) for p in rows]

    async def update(
        self,
        tenant: str,
        template_id: str,
        template: template_pb2.Template,
        mask: field_mask_pb2.FieldMask,
        expected_version: int,
        author: str,
    ) -> template_pb2.Template:
        """A new version with the masked fields replaced; unchanged content makes no version."""
        paths = list(mask.paths) or list(_UPDATABLE)
        unknown = [p for p in paths if p not in _UPDATABLE]
        if unknown:
            raise InvalidArgument(
                f"update_mask names fields that cannot be updated: {', '.join(unknown)}",
                reason="INVALID_REQUEST",
                field_violations=[
                    FieldViolation("update_mask", f"{p} is not updatable") for p in unknown
                ],
            )
        t = notification_templates.c
        now = self._clock()
        try:
            async with self._engine.begin() as connection:
                # Touching the latest row first serialises concurrent updates of one template.
                locked = await connection.execute(
                    sa.update(notification_templates)
                    .where(t.tenant == tenant, t.template_id == template_id, t.latest)
                    .values(latest=True)
                    .returning(t.payload)
                )
                payload = locked.scalar_one_or_none()
                if payload is None:
                    raise NotFound(
                        f"template {template_id!r} not found",
                        reason="TEMPLATE_NOT_FOUND",
                        resource=("template", template_id),
                    )
                latest = template_pb2.Template.FromString(payload)
                if expected_version and expected_version != latest.version:
                    raise Aborted(
                        f"template {template_id!r} is at version {latest.version}",
                        reason="VERSION_MISMATCH",
                        info={"current_version": str(latest.version)},
                    )
                if template.channel and template.channel != latest.channel:
                    raise InvalidArgument(
                        "a template's channel cannot change",
                        reason="INVALID_REQUEST",
                        field_violations=[FieldViolation("template.channel", "cannot change")],
                    )
                candidate = template_pb2.Template()
                candidate.CopyFrom(latest)
                for path in paths:
                    candidate.ClearField(path)
                    if path == "locales":
                        for key, variant in template.locales.items():
                            candidate.locales[key].CopyFrom(variant)
                    elif path in ("required_variables",):
                        candidate.required_variables.extend(template.required_variables)
                    elif path == "example_context":
                        if template.HasField("example_context"):
                            candidate.example_context.CopyFrom(template.example_context)
                    else:
                        setattr(candidate, path, getattr(template, path))
                violations = template_violations(candidate)
                if violations:
                    raise InvalidArgument(
                        "the template is invalid",
                        reason="INVALID_TEMPLATE",
                        field_violations=violations,
                    )
                if _same_content(candidate, latest):
                    return latest
                candidate.version = latest.version + 1
                candidate.author = author
                candidate.update_time.FromNanoseconds(int(now * 1e9))
                await connection.execute(
                    sa.update(notification_templates)
                    .where(t.tenant == tenant, t.template_id == template_id, t.latest)
                    .values(latest=False)
                )
                await connection.execute(
                    sa.insert(notification_templates).values(**_row(tenant, candidate, now))
                )
                return candidate
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc

    async def delete(self, tenant: str, template_id: str, expected_version: int) -> None:
        """Deletes every version; NOT_FOUND when missing, ABORTED on a version mismatch."""
        t = notification_templates.c
        try:
            async with self._engine.begin() as connection:
                current = (
                    await connection.execute(
                        sa.update(notification_templates)
                        .where(t.tenant == tenant, t.template_id == template_id, t.latest)
                        .values(latest=True)
                        .returning(t.version)
                    )
                ).scalar_one_or_none()
                if current is None:
                    raise NotFound(
                        f"template {template_id!r} not found",
                        reason="TEMPLATE_NOT_FOUND",
                        resource=("template", template_id),
                    )
                if expected_version and expected_version != current:
                    raise Aborted(
                        f"template {template_id!r} is at version {current}",
                        reason="VERSION_MISMATCH",
                        info={"current_version": str(current)},
                    )
                await connection.execute(
                    sa.delete(notification_templates).where(
                        t.tenant == tenant, t.template_id == template_id
                    )
                )
        except DATABASE_OUTAGES as exc:
            raise BackendUnavailable(f"database: {outage_message(exc)}") from exc


def _same_content(a: template_pb2.Template, b: template_pb2.Template) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _UPDATABLE if f != "change_note")


def _row(tenant: str, template: template_pb2.Template, now: float) -> Mapping[str, Any]:
    return {
        "tenant": tenant,
        "template_id": template.id,
        "version": template.version,
        "channel": template.channel,
        "category": template.category,
        "latest": True,
        "payload": template.SerializeToString(deterministic=True),
        "create_time": now,
    }
