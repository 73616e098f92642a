"""Sending through the whole server: templates, idempotency, scheduling, preferences, reads."""

from __future__ import annotations

import email
import stat
import time

import grpc
import pytest
from test_notification_kit import (
    FAST_DISPATCH,
    email_send,
    notify_client,
    poll,
    struct,
)

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.notification.v1 import preference_pb2, template_pb2
from centrum.notification.v1 import preference_service_pb2 as ps
from centrum.notification.v1 import template_service_pb2 as ts
from centrum.sdk.aio import AsyncClient
from centrum.sdk.errors import CentrumError
from centrum.server import CentrumApp
from harness.backends import MessageCapture, SmtpServer
from harness.centrum import StartCentrum
from harness.tokens import TokenMint

WELCOME = template_pb2.Template(
    name="Welcome",
    channel=pb.CHANNEL_EMAIL,
    category="onboarding",
    default_locale="en",
    locales={
        "en": template_pb2.TemplateVariant(
            subject="Welcome, {{ user.first_name }}", text="Hi {{ user.first_name }}!"
        ),
        "de": template_pb2.TemplateVariant(
            subject="Willkommen, {{ user.first_name }}",
            text="Hallo {{ user.first_name }}!",
            html="<p>Hallo {{ user.first_name }}</p>",
        ),
    },
)


@pytest.fixture
async def smtp_app(start_centrum: StartCentrum, smtp_server: SmtpServer) -> CentrumApp:
    """A server delivering email to the session's capturing SMTP server."""
    return await start_centrum(
        smtp_url=f"smtp://{smtp_server.host}:{smtp_server.port}?starttls=false",
        notification=FAST_DISPATCH,
    )


async def _status(client: AsyncClient, notification_id: str) -> pb.Notification:
    response = await client.notifications.GetNotification(
        ns.GetNotificationRequest(notification_id=notification_id)
    )
    notification: pb.Notification = response.notification
    return notification


async def _final(client: AsyncClient, notification_id: str, status: int) -> pb.Notification:
    async def probe() -> pb.Notification | None:
        found = await _status(client, notification_id)
        return found if found.status == status else None

    found: pb.Notification = await poll(probe, f"{notification_id} in status {status}")
    return found


async def test_template_send_renders_and_delivers_over_smtp(
    smtp_app: CentrumApp, token_mint: TokenMint, smtp_capture: MessageCapture
) -> None:
    """A templated email is rendered in the requested locale (falling back from de-AT to de),
    delivered by SMTP, and its record shows SENT with the provider's attempt and history."""
    async with notify_client(smtp_app, token_mint) as client:
        await client.templates.CreateTemplate(
            ts.CreateTemplateRequest(template_id="welcome", template=WELCOME)
        )
        sent = await client.notifications.Send(
            ns.SendRequest(
                recipient=pb.Recipient(
                    email=pb.EmailRecipient(to=[pb.EmailAddress(address="ada@example.com")])
                ),
                template=pb.TemplateRef(template_id="welcome", locale="de-AT"),
                context=struct({"user": {"first_name": "Ada"}}),
                tags=["signup"],
            )
        )
        assert sent.notification.status == pb.NOTIFICATION_STATUS_QUEUED
        final = await _final(client, sent.notification.id, pb.NOTIFICATION_STATUS_SENT)
    (message,) = smtp_capture.wait_for_messages(1)
    parsed = email.message_from_bytes(message.content)
    assert parsed["Subject"] == "Willkommen, Ada"
    assert message.rcpt_tos == ("ada@example.com",)
    assert final.template.locale == "de" and final.template.version == 1
    assert [a.provider for a in final.attempts] == ["smtp"]
    assert final.attempts[0].outcome == pb.ATTEMPT_OUTCOME_SUCCEEDED
    assert [h.status for h in final.history] == [
        pb.NOTIFICATION_STATUS_QUEUED,
        pb.NOTIFICATION_STATUS_SENDING,
        pb.NOTIFICATION_STATUS_SENT,
    ]


async def test_missing_variable_is_invalid_argument_naming_it(
    smtp_app: CentrumApp, token_mint: TokenMint
) -> None:
    """A template variable missing from the context is INVALID_ARGUMENT whose ErrorInfo and
    field violation name its dotted path; nothing is stored."""
    async with notify_client(smtp_app, token_mint) as client:
        await client.templates.CreateTemplate(
            ts.CreateTemplateRequest(template_id="welcome", template=WELCOME)
        )
        with pytest.raises(CentrumError) as failure:
            await client.notifications.Send(
                ns.SendRequest(
                    recipient=pb.Recipient(
                        email=pb.EmailRecipient(to=[pb.EmailAddress(address="a@example.com")])
                    ),
                    template=pb.TemplateRef(template_id="welcome"),
                    context=struct({"user": {}}),
                )
            )
        listed = await client.notifications.ListNotifications(ns.ListNotificationsRequest())
    error = failure.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.reason, error.metadata["variable"]) == ("MISSING_VARIABLE", "user.first_name")
    assert error.field_violations[0].field == "context.user.first_name"
    assert not listed.notifications


async def test_idempotency_key_replays_the_original(
    smtp_app: CentrumApp, token_mint: TokenMint, smtp_capture: MessageCapture
) -> None:
    """The same idempotency key returns the original notification (replayed) and sends once;
    the key with a different request is ALREADY_EXISTS."""
    async with notify_client(smtp_app, token_mint) as client:
        first = await client.notifications.Send(email_send(idempotency_key="order-42"))
        again = await client.notifications.Send(email_send(idempotency_key="order-42"))
        await _final(client, first.notification.id, pb.NOTIFICATION_STATUS_SENT)
        with pytest.raises(CentrumError) as failure:
            await client.notifications.Send(
                email_send(to="other@example.com", idempotency_key="order-42")
            )
    assert again.replayed and not first.replayed
    assert again.notification.id == first.notification.id
    assert failure.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(smtp_capture.wait_for_messages(1)) == 1


async def test_scheduled_message_waits_and_can_be_cancelled(
    smtp_app: CentrumApp, token_mint: TokenMint, smtp_capture: MessageCapture
) -> None:
    """A scheduled notification is not sent before schedule_at; a cancelled one never is, and
    cancelling a sent one is FAILED_PRECONDITION."""
    async with notify_client(smtp_app, token_mint) as client:
        at = time.time() + 1.0
        scheduled = email_send(to="later@example.com")
        scheduled.schedule_at.FromNanoseconds(int(at * 1e9))
        kept = await client.notifications.Send(scheduled)
        dropped = await client.notifications.Send(scheduled)
        assert kept.notification.status == pb.NOTIFICATION_STATUS_SCHEDULED
        cancelled = await client.notifications.CancelNotification(
            ns.CancelNotificationRequest(notification_id=dropped.notification.id, reason="no")
        )
        assert cancelled.notification.status == pb.NOTIFICATION_STATUS_CANCELLED
        final = await _final(client, kept.notification.id, pb.NOTIFICATION_STATUS_SENT)
        with pytest.raises(CentrumError) as failure:
            await client.notifications.CancelNotification(
                ns.CancelNotificationRequest(notification_id=kept.notification.id)
            )
        still = await _status(client, dropped.notification.id)
    assert final.send_time.ToNanoseconds() >= int(at * 1e9)
    assert final.attempts[0].start_time.ToNanoseconds() >= int(at * 1e9)
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert still.status == pb.NOTIFICATION_STATUS_CANCELLED
    assert len(smtp_capture.messages()) == 1


async def test_preferences_and_suppressions_stop_sends_but_critical_passes(
    smtp_app: CentrumApp, token_mint: TokenMint, smtp_capture: MessageCapture
) -> None:
    """An opted-out category is SUPPRESSED by preference, a suppressed address by the list; the
    critical category bypasses preferences but not a bounce suppression."""
    async with notify_client(smtp_app, token_mint) as client:
        await client.preferences.UpdatePreferences(
            ps.UpdatePreferencesRequest(
                subscriber_id="u1",
                rules=[preference_pb2.PreferenceRule(category="marketing", enabled=False)],
            )
        )
        await client.preferences.AddSuppression(
            ps.AddSuppressionRequest(
                channel=pb.CHANNEL_EMAIL,
                address="Bounced@Example.com",
                reason=preference_pb2.SUPPRESSION_REASON_HARD_BOUNCE,
            )
        )

        def to_subscriber(category: str, address: str = "u1@example.com") -> ns.SendRequest:
            request = email_send(to=address, category=category)
            request.recipient.subscriber_id = "u1"
            return request

        opted_out = await client.notifications.Send(to_subscriber("marketing"))
        critical = await client.notifications.Send(to_subscriber("critical"))
        bounced = await client.notifications.Send(to_subscriber("critical", "bounced@example.com"))
        await _final(client, critical.notification.id, pb.NOTIFICATION_STATUS_SENT)
    assert opted_out.notification.status == pb.NOTIFICATION_STATUS_SUPPRESSED
    assert opted_out.notification.suppressed_by == pb.SUPPRESSED_BY_PREFERENCE
    assert bounced.notification.suppressed_by == pb.SUPPRESSED_BY_SUPPRESSION_LIST
    assert [m.rcpt_tos for m in smtp_capture.wait_for_messages(1)] == [("u1@example.com",)]


async def test_other_tenants_see_nothing_and_lists_filter_and_page(
    smtp_app: CentrumApp, token_mint: TokenMint
) -> None:
    """Another tenant's notification is NOT_FOUND and absent from its list; ListNotifications
    filters by tag and recipient and pages newest first."""
    async with notify_client(smtp_app, token_mint) as client:
        ids = [
            (
                await client.notifications.Send(email_send(to=f"p{i}@example.com", tags=["t"]))
            ).notification.id
            for i in range(3)
        ]
        await client.notifications.Send(email_send(to="x@example.com"))
        first = await client.notifications.ListNotifications(
            ns.ListNotificationsRequest(tags=["t"], page_size=2)
        )
        second = await client.notifications.ListNotifications(
            ns.ListNotificationsRequest(tags=["t"], page_size=2, page_token=first.next_page_token)
        )
        by_address = await client.notifications.ListNotifications(
            ns.ListNotificationsRequest(recipient="P1@example.com")
        )
    async with notify_client(smtp_app, token_mint, tenant="globex") as other:
        with pytest.raises(CentrumError) as failure:
            await _status(other, ids[0])
        theirs = await other.notifications.ListNotifications(ns.ListNotificationsRequest())
    paged = [n.id for n in (*first.notifications, *second.notifications)]
    assert paged == list(reversed(ids)) and not second.next_page_token
    assert [n.id for n in by_address.notifications] == [ids[1]]
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert not theirs.notifications


async def test_embedded_maildir_writes_private_files(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Without an SMTP URL email goes to data_dir/outbox as a 0600 RFC 5322 file."""
    app = await start_centrum(notification=FAST_DISPATCH)
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(email_send())
        await _final(client, sent.notification.id, pb.NOTIFICATION_STATUS_SENT)
    (path,) = list((app.settings.data_dir / "outbox" / "new").iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert email.message_from_bytes(path.read_bytes())["To"] == "ada@example.com"


async def test_bad_requests_are_invalid_argument(
    smtp_app: CentrumApp, token_mint: TokenMint
) -> None:
    """A recipient without target, a bad phone number and a bad tag are reported together."""
    async with notify_client(smtp_app, token_mint) as client:
        with pytest.raises(CentrumError) as failure:
            await client.notifications.Send(
                ns.SendRequest(
                    recipient=pb.Recipient(sms=pb.SmsRecipient(phone_number="12345")),
                    content=pb.Content(text="x"),
                    tags=["Bad Tag"],
                )
            )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for v in failure.value.field_violations}
    assert fields == {"recipient.sms.phone_number", "tags[0]"}
