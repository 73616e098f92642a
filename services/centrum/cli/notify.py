"""`centrum notify`: send notifications and follow their delivery on a Centrum server."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from centrum.cli._common import AsJson, Target, Token, client, fail, print_json
from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns

__all__ = ["AsJson", "Target", "Token", "app", "client", "fail", "print_json"]

app = typer.Typer(
    help="Notifications: send, status, list, cancel, retry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)

NotificationId = Annotated[str, typer.Argument(help="Notification id.")]


def _name(enum: Any, value: int, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def _table(notifications: list[pb.Notification]) -> Table:
    table = Table("id", "channel", "status", "attempts", "tags", "created", "message")
    for n in notifications:
        table.add_row(
            n.id,
            _name(pb.Channel, n.channel, "CHANNEL_"),
            _name(pb.NotificationStatus, n.status, "NOTIFICATION_STATUS_"),
            str(n.attempt_count),
            ",".join(n.tags),
            n.create_time.ToDatetime().isoformat(timespec="seconds")
            if n.create_time.seconds
            else "",
            n.status_message,
        )
    return table


@app.command()
def send(
    to: Annotated[list[str], typer.Option(help="Email address (repeatable).")] = [],  # noqa: B006
    sms: Annotated[str, typer.Option(help="E.164 phone number for an SMS.")] = "",
    push_token: Annotated[str, typer.Option(help="FCM device token for a push.")] = "",
    webhook_url: Annotated[str, typer.Option(help="URL for a signed webhook.")] = "",
    template: Annotated[str, typer.Option(help="Template id to render.")] = "",
    locale: Annotated[str, typer.Option(help="Template locale, e.g. de-AT.")] = "",
    subject: Annotated[str, typer.Option(help="Inline subject (email, push title).")] = "",
    text: Annotated[str, typer.Option(help="Inline text body.")] = "",
    html: Annotated[str, typer.Option(help="Inline HTML body (email).")] = "",
    data: Annotated[str, typer.Option(help="Inline JSON data (webhook, push).")] = "",
    context: Annotated[str, typer.Option(help="Template variables as a JSON object.")] = "",
    tag: Annotated[list[str], typer.Option(help="Tag (repeatable).")] = [],  # noqa: B006
    category: Annotated[str, typer.Option(help="Preference category.")] = "",
    subscriber: Annotated[str, typer.Option(help="Subscriber id for preferences.")] = "",
    schedule_at: Annotated[str, typer.Option(help="ISO 8601 time to send at.")] = "",
    priority: Annotated[str, typer.Option(help="low, normal or high.")] = "normal",
    idempotency_key: Annotated[str, typer.Option(help="Deduplicates retries for 24 h.")] = "",
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Sends one notification (email, SMS, push or webhook), rendered or inline."""
    recipient = pb.Recipient(subscriber_id=subscriber)
    targets = [bool(to), bool(sms), bool(push_token), bool(webhook_url)]
    if sum(targets) != 1:
        raise fail("give exactly one of --to, --sms, --push-token, --webhook-url")
    if to:
        recipient.email.to.extend(pb.EmailAddress(address=a) for a in to)
    elif sms:
        recipient.sms.phone_number = sms
    elif push_token:
        recipient.push.device_token = push_token
    else:
        recipient.webhook.url = webhook_url
    request = ns.SendRequest(
        recipient=recipient,
        tags=tag,
        category=category,
        idempotency_key=idempotency_key,
    )
    try:
        request.priority = pb.Priority.Value(f"PRIORITY_{priority.upper()}")  # type: ignore[assignment]
    except ValueError:
        raise fail("--priority must be low, normal or high") from None
    try:
        if template:
            request.template.template_id = template
            request.template.locale = locale
        else:
            request.content.subject, request.content.text, request.content.html = (
                subject,
                text,
                html,
            )
            if data:
                json_format.Parse(data, request.content.data)
        if context:
            request.context.update(json.loads(context))
        if schedule_at:
            request.schedule_at.FromDatetime(datetime.fromisoformat(schedule_at))
    except (ValueError, json_format.ParseError) as exc:
        raise fail(f"bad option value: {exc}") from None
    with client(target, token) as connected:
        response = connected.notifications.Send(request, timeout=15)
    if as_json:
        print_json(response)
        return
    note = " (replayed)" if response.replayed else ""
    state = _name(pb.NotificationStatus, response.notification.status, "NOTIFICATION_STATUS_")
    _out.print(f"{response.notification.id} {state}{note}")


@app.command()
def status(
    notification_id: NotificationId,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Shows a notification's status, attempts and history."""
    with client(target, token) as connected:
        n = connected.notifications.GetNotification(
            ns.GetNotificationRequest(notification_id=notification_id), timeout=15
        ).notification
    if as_json:
        print_json(n)
        return
    _out.print(_table([n]))
    attempts = Table("round", "provider", "outcome", "code", "response", "worker")
    for a in n.attempts:
        attempts.add_row(
            str(a.number),
            a.provider,
            _name(pb.AttemptOutcome, a.outcome, "ATTEMPT_OUTCOME_"),
            a.provider_response_code,
            a.provider_response_message,
            a.worker,
        )
    _out.print(attempts)


@app.command("list")
def list_notifications(
    status_filter: Annotated[
        list[str], typer.Option("--status", help="Status to keep, e.g. dead (repeatable).")
    ] = [],  # noqa: B006
    tag: Annotated[list[str], typer.Option(help="Tag every result carries.")] = [],  # noqa: B006
    recipient: Annotated[str, typer.Option(help="Address, number, token or URL.")] = "",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    target: Target = "127.0.0.1:50051",
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Lists notifications, newest first."""
    try:
        statuses = [
            pb.NotificationStatus.Value(f"NOTIFICATION_STATUS_{s.upper()}") for s in status_filter
        ]
    except ValueError as exc:
        raise fail(str(exc)) from None
    found: list[pb.Notification] = []
    with client(target, token) as connected:
        page_token = ""
        while len(found) < limit:
            response = connected.notifications.ListNotifications(
                ns.ListNotificationsRequest(
                    statuses=statuses,  # type: ignore[arg-type]
                    tags=tag,
                    recipient=recipient,
                    page_size=min(limit - len(found), 1000),
                    page_token=page_token,
                ),
                timeout=15,
            )
            found.extend(response.notifications)
            page_token = response.next_page_token
            if not page_token:
                break
    if as_json:
        print_json([json_format.MessageToDict(n, preserving_proto_field_name=True) for n in found])
        return
    _out.print(_table(found))


Reason = Annotated[str, typer.Option(help="Why, for the history.")]


@app.command()
def cancel(
    notification_id: NotificationId,
    reason: Reason = "",
    target: Target = "127.0.0.1:50051",
    token: Token = None,
) -> None:
    """Cancels a scheduled notification."""
    with client(target, token) as connected:
        request = ns.CancelNotificationRequest(notification_id=notification_id, reason=reason)
        connected.notifications.CancelNotification(request, timeout=15)
    _out.print(f"{notification_id} cancelled")


@app.command()
def retry(
    notification_id: NotificationId,
    reason: Reason = "",
    target: Target = "127.0.0.1:50051",
    token: Token = None,
) -> None:
    """Re-queues a dead notification."""
    with client(target, token) as connected:
        request = ns.RetryNotificationRequest(notification_id=notification_id, reason=reason)
        connected.notifications.RetryNotification(request, timeout=15)
    _out.print(f"{notification_id} queued again")
