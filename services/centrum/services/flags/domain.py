"""Flag service logic: versioned writes with compare-and-set, evaluation, and the watch feed.

Requests arrive validated (see `validation`); this layer scopes everything to the caller's
tenant, turns store outcomes into Centrum errors, audits each change as a domain fact (the new
version and revision, which the call record does not carry), and wakes watchers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from centrum.audit.v1 import audit_pb2
from centrum.config.v1 import flag_service_pb2 as pb
from centrum.interceptors.audit import AuditRecorder
from centrum.interceptors.context import Principal
from centrum.interceptors.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from centrum.interceptors.request_context import time_ordered_id
from centrum.sdk.flags import EvaluationContext, FlagSet
from centrum.services.flags.fanout import Wakeups
from centrum.services.flags.store import (
    FlagStore,
    ObjectExists,
    ObjectMissing,
    SegmentInUse,
    SegmentsMissing,
    StoreLimitReached,
    VersionMismatch,
)

__all__ = ["FlagDomain"]

DEFAULT_PAGE_SIZE = 100
_CHANGE_BATCH = 500
_MIN_PROGRESS_S = 1.0
_MAX_PROGRESS_S = 300.0
_ACTIONS = {
    pb.FLAG_CHANGE_TYPE_FLAG_PUT: ("flag.put", "flag"),
    pb.FLAG_CHANGE_TYPE_FLAG_DELETE: ("flag.delete", "flag"),
    pb.FLAG_CHANGE_TYPE_SEGMENT_PUT: ("segment.put", "flag_segment"),
    pb.FLAG_CHANGE_TYPE_SEGMENT_DELETE: ("segment.delete", "flag_segment"),
}


class FlagDomain:
    """Flags and segments of every tenant, over a `FlagStore` and a `Wakeups` fan-out."""

    def __init__(
        self,
        store: FlagStore,
        wakeups: Wakeups,
        audit: AuditRecorder,
        *,
        progress_interval_s: float = 10.0,
        cache_size: int = 1024,
    ) -> None:
        self._store = store
        self._wakeups = wakeups
        self._audit = audit
        self._progress_interval_s = progress_interval_s
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], FlagSet] = OrderedDict()

    # Flags -------------------------------------------------------------------------------------

    async def get_flag(self, principal: Principal, environment: str, key: str) -> pb.Flag:
        """The flag; NOT_FOUND when absent (or another tenant's)."""
        flag = await self._store.get_flag(principal.tenant, environment, key)
        if flag is None:
            raise NotFound(f"flag {key!r} not found", resource=("flag", f"{environment}/{key}"))
        return flag

    async def list_flags(
        self, principal: Principal, request: pb.ListFlagsRequest
    ) -> pb.ListFlagsResponse:
        """One page of flags in key order."""
        scope = f"flags\0{request.environment}\0{request.prefix}"
        after = _read_token(request.page_token, scope)
        size = request.page_size or DEFAULT_PAGE_SIZE
        found, revision = await self._store.list_flags(
            principal.tenant, request.environment, request.prefix, after, size + 1
        )
        page = found[:size]
        token = _make_token(page[-1].key, scope) if len(found) > size else ""
        return pb.ListFlagsResponse(flags=page, next_page_token=token, revision=revision)

    async def set_flag(self, principal: Principal, request: pb.SetFlagRequest) -> pb.Flag:
        """Creates or replaces a flag, with compare-and-set on its version."""
        flag = pb.Flag()
        flag.CopyFrom(request.flag)
        flag.environment, flag.key = request.environment, request.key
        for output_only in ("version", "revision", "create_time", "update_time", "updated_by"):
            flag.ClearField(output_only)
        _assign_rule_ids(flag)
        try:
            change = await self._store.put_flag(
                principal.tenant,
                flag,
                expected_version=request.expected_version,
                create_only=request.create_only,
                actor=principal.subject,
            )
        except SegmentsMissing as exc:
            raise FailedPrecondition(
                f"the flag references unknown segments: {', '.join(exc.keys)}",
                reason="SEGMENT_NOT_FOUND",
                info={"segments": ",".join(exc.keys)},
            ) from None
        except StoreLimitReached:
            raise FailedPrecondition(
                "the environment holds the maximum number of flags", reason="TOO_MANY_FLAGS"
            ) from None
        except (ObjectExists, VersionMismatch) as exc:
            raise _conflict("flag", request.environment, request.key, exc) from None
        await self._changed(principal, request.environment, change)
        return change.flag

    async def delete_flag(self, principal: Principal, request: pb.DeleteFlagRequest) -> int:
        """Deletes a flag; returns the revision, or 0 when it was absent and that is allowed."""
        try:
            change = await self._store.delete_flag(
                principal.tenant,
                request.environment,
                request.key,
                expected_version=request.expected_version,
                actor=principal.subject,
            )
        except ObjectMissing:
            if request.allow_missing:
                return 0
            raise NotFound(
                f"flag {request.key!r} not found",
                resource=("flag", f"{request.environment}/{request.key}"),
            ) from None
        except VersionMismatch as exc:
            raise _conflict("flag", request.environment, request.key, exc) from None
        await self._changed(principal, request.environment, change)
        return change.revision

    # Segments ----------------------------------------------------------------------------------

    async def get_segment(self, principal: Principal, environment: str, key: str) -> pb.Segment:
        """The segment; NOT_FOUND when absent (or another tenant's)."""
        segment = await self._store.get_segment(principal.tenant, environment, key)
        if segment is None:
            raise NotFound(
                f"segment {key!r} not found", resource=("flag_segment", f"{environment}/{key}")
            )
        return segment

    async def list_segments(
        self, principal: Principal, request: pb.ListSegmentsRequest
    ) -> pb.ListSegmentsResponse:
        """One page of segments in key order."""
        scope = f"segments\0{request.environment}"
        after = _read_token(request.page_token, scope)
        size = request.page_size or DEFAULT_PAGE_SIZE
        found = await self._store.list_segments(
            principal.tenant, request.environment, after, size + 1
        )
        page = found[:size]
        token = _make_token(page[-1].key, scope) if len(found) > size else ""
        return pb.ListSegmentsResponse(segments=page, next_page_token=token)

    async def set_segment(self, principal: Principal, request: pb.SetSegmentRequest) -> pb.Segment:
        """Creates or replaces a segment, with compare-and-set on its version."""
        segment = pb.Segment()
        segment.CopyFrom(request.segment)
        segment.environment, segment.key = request.environment, request.key
        for output_only in ("version", "revision", "create_time", "update_time", "updated_by"):
            segment.ClearField(output_only)
        try:
            change = await self._store.put_segment(
                principal.tenant,
                segment,
                expected_version=request.expected_version,
                create_only=request.create_only,
                actor=principal.subject,
            )
        except (ObjectExists, VersionMismatch) as exc:
            raise _conflict("flag_segment", request.environment, request.key, exc) from None
        await self._changed(principal, request.environment, change)
        return change.segment

    async def delete_segment(self, principal: Principal, request: pb.DeleteSegmentRequest) -> int:
        """Deletes an unreferenced segment; returns the revision (0 when absent and allowed)."""
        try:
            change = await self._store.delete_segment(
                principal.tenant,
                request.environment,
                request.key,
                expected_version=request.expected_version,
                actor=principal.subject,
            )
        except ObjectMissing:
            if request.allow_missing:
                return 0
            raise NotFound(
                f"segment {request.key!r} not found",
                resource=("flag_segment", f"{request.environment}/{request.key}"),
            ) from None
        except SegmentInUse as exc:
            raise FailedPrecondition(
                f"segment {request.key!r} is used by flags: {', '.join(exc.flag_keys)}",
                reason="SEGMENT_IN_USE",
                info={"flags": ",".join(exc.flag_keys)},
                resource=("flag_segment", f"{request.environment}/{request.key}"),
            ) from None
        except VersionMismatch as exc:
            raise _conflict("flag_segment", request.environment, request.key, exc) from None
        await self._changed(principal, request.environment, change)
        return change.revision

    # Evaluation --------------------------------------------------------------------------------

    async def flag_set(self, principal: Principal, environment: str) -> FlagSet:
        """The environment's compiled flag set at its current revision (cached per revision)."""
        key = (principal.tenant, environment)
        cached = self._cache.get(key)
        if cached is not None and cached.revision == await self._store.revision(*key):
            self._cache.move_to_end(key)
            return cached
        flags = FlagSet.from_snapshot(await self._store.snapshot(*key))
        if self._cache_size:
            self._cache[key] = flags
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return flags

    async def evaluate(
        self, principal: Principal, request: pb.EvaluateFlagRequest
    ) -> pb.EvaluationResult:
        """Evaluates one flag with the shared evaluation module."""
        flags = await self.flag_set(principal, request.environment)
        context = EvaluationContext.from_proto(request.context)
        return flags.evaluate(request.flag_key, context, request.expected_type).to_proto()

    async def evaluate_many(
        self, principal: Principal, request: pb.EvaluateFlagsRequest
    ) -> pb.EvaluateFlagsResponse:
        """Evaluates several flags (or all) against one revision."""
        flags = await self.flag_set(principal, request.environment)
        context = EvaluationContext.from_proto(request.context)
        results = flags.evaluate_many(list(request.flag_keys), context)
        return pb.EvaluateFlagsResponse(
            results=[r.to_proto() for r in results], revision=flags.revision
        )

    # Watch -------------------------------------------------------------------------------------

    async def watch(
        self, principal: Principal, request: pb.WatchFlagsRequest
    ) -> AsyncIterator[pb.WatchFlagsResponse]:
        """A snapshot (or the missed changes), then every change in order, with progress ticks."""
        tenant, environment = principal.tenant, request.environment
        interval = self._progress_interval_s
        if request.HasField("progress_interval"):
            requested = request.progress_interval.ToNanoseconds() / 1e9
            interval = min(max(requested, _MIN_PROGRESS_S), _MAX_PROGRESS_S)
        subscription = self._wakeups.subscribe(tenant, environment)
        try:
            held = request.resume_revision
            pending = await self._changes(tenant, environment, held) if held > 0 else None
            if pending is None:
                snapshot = await self._store.snapshot(tenant, environment)
                yield pb.WatchFlagsResponse(snapshot=snapshot)
                held = snapshot.revision
            else:
                for change in pending:
                    yield pb.WatchFlagsResponse(change=change)
                    held = change.revision
            while True:
                woken = await subscription.wait(interval)
                changes = await self._changes(tenant, environment, held)
                if changes is None:
                    snapshot = await self._store.snapshot(tenant, environment)
                    yield pb.WatchFlagsResponse(snapshot=snapshot)
                    held = snapshot.revision
                    continue
                for change in changes:
                    yield pb.WatchFlagsResponse(change=change)
                    held = change.revision
                if not changes and not woken:
                    yield pb.WatchFlagsResponse(progress=pb.FlagWatchProgress(revision=held))
        finally:
            self._wakeups.unsubscribe(subscription)

    async def _changes(
        self, tenant: str, environment: str, after: int
    ) -> list[pb.FlagChange] | None:
        """Every change after `after`, or None when a snapshot is needed instead."""
        collected: list[pb.FlagChange] = []
        while True:
            batch = await self._store.changes_since(tenant, environment, after, _CHANGE_BATCH)
            if batch is None:
                return None
            collected.extend(batch)
            if len(batch) < _CHANGE_BATCH:
                return collected
            after = batch[-1].revision

    # Changes -----------------------------------------------------------------------------------

    async def _changed(self, principal: Principal, environment: str, change: pb.FlagChange) -> None:
        action, resource_type = _ACTIONS[change.type]
        details: dict[str, Any] = {"revision": change.revision, "environment": environment}
        if change.HasField("flag"):
            details["version"] = change.flag.version
        elif change.HasField("segment"):
            details["version"] = change.segment.version
        event = audit_pb2.AuditEvent(
            event_id=time_ordered_id(),
            category="config",
            action=action,
            outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
            actor=audit_pb2.Actor(
                principal_id=principal.subject,
                tenant=principal.tenant,
                credential_id=principal.credential_id,
            ),
            resource=audit_pb2.Resource(type=resource_type, id=f"{environment}/{change.key}"),
        )
        event.details.update(details)
        event.event_time.CopyFrom(change.time)
        await self._audit.record(event.SerializeToString())
        await self._wakeups.publish(principal.tenant, environment, change.revision)


def _assign_rule_ids(flag: pb.Flag) -> None:
    taken = {rule.id for rule in flag.rules if rule.id}
    number = 0
    for rule in flag.rules:
        if rule.id:
            continue
        number += 1
        while f"rule-{number}" in taken:
            number += 1
        rule.id = f"rule-{number}"
        taken.add(rule.id)


def _conflict(
    kind: str, environment: str, key: str, exc: ObjectExists | VersionMismatch
) -> AlreadyExists | Aborted:
    resource = (kind, f"{environment}/{key}")
    if isinstance(exc, ObjectExists):
        return AlreadyExists(f"{kind} {key!r} already exists", resource=resource)
    return Aborted(
        f"{kind} {key!r} is at version {exc.current}",
        reason="VERSION_MISMATCH",
        info={"current_version": str(exc.current)},
        resource=resource,
    )


def _fingerprint(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def _make_token(last_key: str, scope: str) -> str:
    raw = json.dumps({"after": last_key, "scope": _fingerprint(scope)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str, scope: str) -> str:
    if not token:
        return ""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if decoded["scope"] != _fingerprint(scope) or not isinstance(decoded["after"], str):
            raise ValueError("token of another listing")
        return str(decoded["after"])
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument(
            "page_token is not a token of this listing",
            reason="INVALID_PAGE_TOKEN",
            field_violations=[
                FieldViolation("page_token", "not a next_page_token of this listing")
            ],
        ) from None
