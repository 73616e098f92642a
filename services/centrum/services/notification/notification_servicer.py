"""NotificationService: Send, SendBatch, reads, cancel and retry, for the caller's tenant."""

from __future__ import annotations

from typing import Any

import grpc

from centrum.interceptors.context import current_principal
from centrum.interceptors.errors import (
    CentrumError,
    FailedPrecondition,
    NotFound,
)
from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.notification.v1 import notification_service_pb2_grpc as ns_grpc
from centrum.services.notification.backend_errors import maps_backend_errors
from centrum.services.notification.convert import notification_proto, time_of
from centrum.services.notification.ids import new_id
from centrum.services.notification.outbox import Outbox, Record, StatusConflict
from centrum.services.notification.paging import decode_token, encode_token, page_size
from centrum.services.notification.sending import (
    Sender,
    SendOptions,
    context_of,
    request_hash,
)
from centrum.services.notification.validators import recipient_violations

__all__ = ["NotificationServicer"]


def _not_found(notification_id: str) -> NotFound:
    return NotFound(
        f"notification {notification_id!r} not found",
        reason="NOTIFICATION_NOT_FOUND",
        resource=("notification", notification_id),
    )


@maps_backend_errors
class NotificationServicer(ns_grpc.NotificationServiceServicer):
    """The gRPC face of the outbox."""

    def __init__(self, sender: Sender, outbox: Outbox) -> None:
        self._sender = sender
        self._outbox = outbox

    async def Send(self, request: ns.SendRequest, context: Any) -> ns.SendResponse:
        """Renders, checks and stores one notification (or replays its idempotency key)."""
        principal = current_principal()
        template = (
            await self._sender.template_for(principal.tenant, request.template)
            if request.WhichOneof("body") == "template"
            else None
        )
        prepared = await self._sender.prepare(
            tenant=principal.tenant,
            sender=principal.subject,
            recipient=request.recipient,
            template=template,
            locale=request.template.locale,
            inline=request.content if request.HasField("content") else None,
            context=context_of(request.context),
            options=_options(request),
            idempotency_key=request.idempotency_key,
            request_hash=request_hash(request),
        )
        row, replayed = await self._sender.store(prepared)
        return ns.SendResponse(
            notification=notification_proto(Record(row), full=False), replayed=replayed
        )

    async def SendBatch(self, request: ns.SendBatchRequest, context: Any) -> ns.SendBatchResponse:
        """Sends shared content to every item; items fail independently."""
        principal = current_principal()
        batch_id = new_id()
        results: list[ns.SendBatchResult | None] = [None] * len(request.items)
        prepared: list[tuple[int, Any]] = []
        template = (
            await self._sender.template_for(principal.tenant, request.template)
            if request.WhichOneof("body") == "template"
            else None
        )
        shared = SendOptions(
            category=request.category,
            schedule_at=time_of(request, "schedule_at"),
            priority=request.priority,
            expire_time=time_of(request, "expire_time"),
            attachments=list(request.attachments),
            overrides=request.overrides if request.HasField("overrides") else None,
            batch_id=batch_id,
        )
        known = await self._sender.suppressions_of(
            principal.tenant, [item.recipient for item in request.items]
        )
        for index, item in enumerate(request.items):
            problems = recipient_violations(item.recipient, f"items[{index}].recipient")
            if problems:
                results[index] = ns.SendBatchResult(
                    code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
                    message="; ".join(f"{p.field}: {p.description}" for p in problems),
                )
                continue
            options = SendOptions(**{**shared.__dict__, "tags": [*request.tags, *item.tags]})
            try:
                prepared.append(
                    (
                        index,
                        await self._sender.prepare(
                            tenant=principal.tenant,
                            sender=principal.subject,
                            recipient=item.recipient,
                            template=template,
                            locale=item.locale or request.template.locale,
                            inline=request.content if request.HasField("content") else None,
                            context=context_of(request.context, item.context),
                            options=options,
                            idempotency_key=item.idempotency_key,
                            request_hash=request_hash(item),
                            known_suppressions=known,
                        ),
                    )
                )
            except CentrumError as error:
                results[index] = _failed(error)
        stored = await self._sender.store_many([p for _, p in prepared])
        for (index, _), outcome in zip(prepared, stored, strict=True):
            if isinstance(outcome, CentrumError):
                results[index] = _failed(outcome)
            else:
                row, replayed = outcome
                results[index] = ns.SendBatchResult(
                    notification=notification_proto(Record(row), full=False), replayed=replayed
                )
        return ns.SendBatchResponse(batch_id=batch_id, results=[r for r in results if r])

    async def GetNotification(
        self, request: ns.GetNotificationRequest, context: Any
    ) -> ns.GetNotificationResponse:
        """One notification; FULL unless BASIC is asked for."""
        full = request.view != pb.NOTIFICATION_VIEW_BASIC
        record = await self._outbox.get(
            current_principal().tenant, request.notification_id, full=full
        )
        if record is None:
            raise _not_found(request.notification_id)
        return ns.GetNotificationResponse(notification=notification_proto(record, full=full))

    async def ListNotifications(
        self, request: ns.ListNotificationsRequest, context: Any
    ) -> ns.ListNotificationsResponse:
        """The tenant's notifications, newest first, filtered and paged."""
        size = page_size(request.page_size, maximum=1000)
        full = request.view == pb.NOTIFICATION_VIEW_FULL
        records = await self._outbox.find(
            current_principal().tenant,
            limit=size + 1,
            before_id=decode_token(request.page_token),
            statuses=list(request.statuses),
            tags=list(request.tags),
            recipient=request.recipient,
            subscriber_id=request.subscriber_id,
            channel=request.channel,
            category=request.category,
            template_id=request.template_id,
            batch_id=request.batch_id,
            created_from=time_of(request, "create_time_start"),
            created_before=time_of(request, "create_time_end"),
            full=full,
        )
        page = records[:size]
        token = encode_token(page[-1].row.id) if len(records) > size else ""
        return ns.ListNotificationsResponse(
            notifications=[notification_proto(r, full=full) for r in page], next_page_token=token
        )

    async def CancelNotification(
        self, request: ns.CancelNotificationRequest, context: Any
    ) -> ns.CancelNotificationResponse:
        """SCHEDULED -> CANCELLED; another status is FAILED_PRECONDITION."""
        changed = await self._change(request, "cancel")
        return ns.CancelNotificationResponse(notification=changed)

    async def RetryNotification(
        self, request: ns.RetryNotificationRequest, context: Any
    ) -> ns.RetryNotificationResponse:
        """DEAD -> QUEUED with a fresh attempt budget."""
        changed = await self._change(request, "retry")
        self._sender.wake()
        return ns.RetryNotificationResponse(notification=changed)

    async def _change(
        self, request: ns.CancelNotificationRequest | ns.RetryNotificationRequest, what: str
    ) -> pb.Notification:
        principal = current_principal()
        notification_id = request.notification_id
        operation = self._outbox.cancel if what == "cancel" else self._outbox.retry
        try:
            found = await operation(
                principal.tenant, notification_id, request.reason, principal.subject
            )
        except StatusConflict as conflict:
            needed, done = ("SCHEDULED", "cancelled") if what == "cancel" else ("DEAD", "retried")
            raise FailedPrecondition(
                f"only a {needed} notification can be {done}; it is "
                f"{pb.NotificationStatus.Name(conflict.status)}",
                reason="STATUS_CONFLICT",
                info={"status": pb.NotificationStatus.Name(conflict.status)},
            ) from None
        record = await self._outbox.get(principal.tenant, notification_id) if found else None
        if record is None:
            raise _not_found(notification_id)
        return notification_proto(record, full=True)


def _options(request: ns.SendRequest) -> SendOptions:
    return SendOptions(
        tags=list(request.tags),
        category=request.category,
        schedule_at=time_of(request, "schedule_at"),
        priority=request.priority,
        expire_time=time_of(request, "expire_time"),
        attachments=list(request.attachments),
        overrides=request.overrides if request.HasField("overrides") else None,
    )


def _failed(error: CentrumError) -> ns.SendBatchResult:
    return ns.SendBatchResult(code=error.code.value[0], message=error.message)
