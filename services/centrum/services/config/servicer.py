"""ConfigService: the gRPC face of the value store and the change hub."""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from centrum.config.v1 import config_service_pb2 as pb
from centrum.config.v1 import config_service_pb2_grpc as pb_grpc
from centrum.interceptors.context import current_principal
from centrum.services.config.paging import decode_token, encode_token, page_size
from centrum.services.config.values import Change, KeyFilter, ValueStore
from centrum.services.config.watch import ChangeHub, Progress, watch

__all__ = ["ConfigServicer", "change_message"]

_MIN_PROGRESS_S = 1.0
_MAX_PROGRESS_S = 300.0
_EVENT_MEMO = 256


def _timestamp(ns: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(ns)
    return stamp


def _value(raw: bytes | None) -> struct_pb2.Value | None:
    return None if raw is None else struct_pb2.Value.FromString(raw)


def value_message(change: Change) -> pb.ConfigValue:
    """The key state a put change left."""
    return pb.ConfigValue(
        environment=change.environment,
        key=change.key,
        value=_value(change.value),
        description=change.description,
        revision=change.revision,
        create_revision=change.create_revision,
        version=change.version,
        updated_by=change.actor,
        update_time=_timestamp(change.time_ns),
        create_time=_timestamp(change.create_ns),
    )


def change_message(change: Change) -> pb.ConfigChange:
    """A change as a history entry or watch event."""
    return pb.ConfigChange(
        type=pb.CONFIG_CHANGE_TYPE_DELETE if change.deleted else pb.CONFIG_CHANGE_TYPE_PUT,
        environment=change.environment,
        key=change.key,
        value=_value(change.value),
        description=change.description,
        revision=change.revision,
        previous_revision=change.previous_revision,
        create_revision=change.create_revision,
        version=change.version,
        actor=change.actor,
        time=_timestamp(change.time_ns),
        reason=change.reason,
        rollback_revision=change.rollback_revision,
    )


def _where(request: Any, *, key: str | None = None, prefix: str = "") -> KeyFilter:
    return KeyFilter(current_principal().tenant, request.environment, key, prefix)


class ConfigServicer(pb_grpc.ConfigServiceServicer):
    """Versioned config values of the caller's tenant."""

    def __init__(self, store: ValueStore, hub: ChangeHub, default_progress_s: float) -> None:
        self._store = store
        self._hub = hub
        self._default_progress_s = default_progress_s
        self._events: collections.OrderedDict[int, pb.WatchResponse] = collections.OrderedDict()

    async def GetValue(self, request: pb.GetValueRequest, context: Any) -> pb.GetValueResponse:
        """The latest value of a key, or its value at a revision."""
        change, head = await self._store.get(_where(request, key=request.key), request.revision)
        return pb.GetValueResponse(value=value_message(change), current_revision=head)

    async def ListValues(
        self, request: pb.ListValuesRequest, context: Any
    ) -> pb.ListValuesResponse:
        """One page of the live values under a prefix, every page at the same revision."""
        revision, after = request.revision, ""
        if request.page_token:
            position = decode_token(
                request.page_token,
                {"e": request.environment, "p": request.prefix, "r0": request.revision},
            )
            revision, after = int(position["r"]), str(position["k"])
        size = page_size(request.page_size, 100)
        changes, at = await self._store.list_values(
            _where(request, prefix=request.prefix), revision, after, size + 1
        )
        token = ""
        if len(changes) > size:
            changes = changes[:size]
            token = encode_token(
                {
                    "e": request.environment,
                    "p": request.prefix,
                    "r0": request.revision,
                    "r": at,
                    "k": changes[-1].key,
                }
            )
        return pb.ListValuesResponse(
            values=[value_message(c) for c in changes], next_page_token=token, revision=at
        )

    async def SetValue(self, request: pb.SetValueRequest, context: Any) -> pb.SetValueResponse:
        """Writes a new revision of a key, after the compare-and-set checks."""
        result = await self._store.put(
            _where(request, key=request.key),
            request.value.SerializeToString(deterministic=True),
            actor=current_principal().subject,
            description=request.description if request.HasField("description") else None,
            expected_revision=request.expected_revision,
            create_only=request.create_only,
            reason=request.reason,
        )
        await self._hub.committed(result.change.revision)
        return pb.SetValueResponse(
            value=value_message(result.change), previous_revision=result.previous_revision
        )

    async def DeleteValue(
        self, request: pb.DeleteValueRequest, context: Any
    ) -> pb.DeleteValueResponse:
        """Writes a tombstone for a key."""
        result = await self._store.delete(
            _where(request, key=request.key),
            actor=current_principal().subject,
            expected_revision=request.expected_revision,
            allow_missing=request.allow_missing,
            reason=request.reason,
        )
        if result is None:
            return pb.DeleteValueResponse()
        await self._hub.committed(result.change.revision)
        return pb.DeleteValueResponse(
            revision=result.change.revision, previous_revision=result.previous_revision
        )

    async def GetHistory(
        self, request: pb.GetHistoryRequest, context: Any
    ) -> pb.GetHistoryResponse:
        """One page of a key's changes, newest first."""
        before = 0
        bound = {"e": request.environment, "k": request.key}
        if request.page_token:
            before = int(decode_token(request.page_token, bound)["b"])
        size = page_size(request.page_size, 50)
        where = _where(request, key=request.key)
        changes = await self._store.history(where, before, size + 1)
        if not changes and not before:
            await self._store.get(where)  # NOT_FOUND for a key that never existed
        token = ""
        if len(changes) > size:
            changes = changes[:size]
            token = encode_token({**bound, "b": changes[-1].revision})
        return pb.GetHistoryResponse(
            changes=[change_message(c) for c in changes], next_page_token=token
        )

    async def Rollback(self, request: pb.RollbackRequest, context: Any) -> pb.RollbackResponse:
        """Restores the state a key had at a revision, as a new revision."""
        result = await self._store.rollback(
            _where(request, key=request.key),
            request.revision,
            actor=current_principal().subject,
            expected_revision=request.expected_revision,
            reason=request.reason,
        )
        await self._hub.committed(result.change.revision)
        return pb.RollbackResponse(
            value=value_message(result.change),
            restored_revision=result.change.rollback_revision,
        )

    async def Watch(
        self, request: pb.WatchRequest, context: Any
    ) -> AsyncIterator[pb.WatchResponse]:
        """Every matching change from the start revision, then live, with progress events."""
        target = request.WhichOneof("target")
        where = _where(
            request,
            key=request.key if target == "key" else None,
            prefix=request.prefix if target == "prefix" else "",
        )
        interval = self._default_progress_s
        if request.HasField("progress_interval"):
            interval = request.progress_interval.ToNanoseconds() / 1e9
        interval = min(max(interval, _MIN_PROGRESS_S), _MAX_PROGRESS_S)
        async for item in watch(self._hub, self._store, where, request.start_revision, interval):
            if isinstance(item, Progress):
                yield pb.WatchResponse(progress=pb.WatchProgress(revision=item.revision))
            else:
                yield self._event(item)

    def _event(self, change: Change) -> pb.WatchResponse:
        # A change fans out to many watchers: build its message once (messages are not mutated).
        event = self._events.get(change.revision)
        if event is None:
            event = pb.WatchResponse(change=change_message(change))
            self._events[change.revision] = event
            while len(self._events) > _EVENT_MEMO:
                self._events.popitem(last=False)
        return event
