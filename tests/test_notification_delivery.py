"""Delivery: retries with back-off, dead letters, fallback, signed webhooks, push, SES and SNS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from test_notification_kit import (  # noqa: F401 - the fixture wires the service
    FAST_DISPATCH,
    DedicatedSmtp,
    HttpReceiver,
    email_send,
    notify_client,
    poll,
    struct,
)

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.sdk.aio import AsyncClient
from centrum.services.notification.providers.http import verify_webhook
from harness.backends import S3Target
from harness.centrum import StartCentrum
from harness.tokens import TokenMint


@pytest.fixture
def smtp() -> Iterator[DedicatedSmtp]:
    """An SMTP server of this test, not yet listening."""
    server = DedicatedSmtp()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A loopback HTTP receiver of this test."""
    server = HttpReceiver().start()
    yield server
    server.stop()


async def _get(client: AsyncClient, notification_id: str) -> pb.Notification:
    response = await client.notifications.GetNotification(
        ns.GetNotificationRequest(notification_id=notification_id)
    )
    notification: pb.Notification = response.notification
    return notification


async def _until(
    client: AsyncClient, notification_id: str, check: Any, what: str
) -> pb.Notification:
    async def probe() -> pb.Notification | None:
        found = await _get(client, notification_id)
        return found if check(found) else None

    found: pb.Notification = await poll(probe, what)
    return found


def _failed_rounds(n: pb.Notification) -> list[pb.Attempt]:
    return [a for a in n.attempts if a.outcome == pb.ATTEMPT_OUTCOME_FAILED_RETRYABLE]


async def test_smtp_down_retries_with_backoff_then_sends_when_back(
    start_centrum: StartCentrum, token_mint: TokenMint, smtp: DedicatedSmtp
) -> None:
    """While the SMTP server is down the notification is RETRYING with growing next attempt
    times; once the server listens again it is SENT exactly once."""
    app = await start_centrum(
        smtp_url=smtp.url, notification={**FAST_DISPATCH, "max_attempts": 100}
    )
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(email_send())
        retrying = await _until(
            client,
            sent.notification.id,
            lambda n: n.status == pb.NOTIFICATION_STATUS_RETRYING and len(_failed_rounds(n)) >= 3,
            "three failed rounds",
        )
        smtp.start()
        final = await _until(
            client,
            sent.notification.id,
            lambda n: n.status == pb.NOTIFICATION_STATUS_SENT,
            "SENT after the server returned",
        )
    for attempt in _failed_rounds(retrying):
        assert attempt.provider_response_code == "connection"
        assert attempt.next_attempt_time.ToNanoseconds() > attempt.end_time.ToNanoseconds()
    assert "smtp:" in retrying.status_message
    assert final.attempts[-1].outcome == pb.ATTEMPT_OUTCOME_SUCCEEDED
    assert [a.number for a in final.attempts] == list(range(1, len(final.attempts) + 1))
    assert len(smtp.capture.wait_for_messages(1)) == 1


async def test_smtp_down_past_the_maximum_is_dead_and_retry_requeues(
    start_centrum: StartCentrum, token_mint: TokenMint, smtp: DedicatedSmtp
) -> None:
    """After max_attempts failed rounds the notification is DEAD with the last error; nothing
    is lost: RetryNotification re-queues it with a fresh budget and it is sent."""
    app = await start_centrum(smtp_url=smtp.url, notification={**FAST_DISPATCH, "max_attempts": 3})
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(email_send())
        dead = await _until(
            client,
            sent.notification.id,
            lambda n: n.status == pb.NOTIFICATION_STATUS_DEAD,
            "DEAD",
        )
        smtp.start()
        retried = await client.notifications.RetryNotification(
            ns.RetryNotificationRequest(notification_id=sent.notification.id, reason="relay up")
        )
        final = await _until(
            client,
            sent.notification.id,
            lambda n: n.status == pb.NOTIFICATION_STATUS_SENT,
            "SENT after RetryNotification",
        )
    assert dead.attempt_count == 3 and len(dead.attempts) == 3
    assert dead.status_message.startswith("smtp:")
    assert not dead.attempts[-1].HasField("next_attempt_time")
    assert retried.notification.status == pb.NOTIFICATION_STATUS_QUEUED
    assert final.attempt_count == 4
    assert len(smtp.capture.wait_for_messages(1)) == 1


async def test_fallback_provider_is_tried_in_the_same_round(
    start_centrum: StartCentrum, token_mint: TokenMint, smtp: DedicatedSmtp
) -> None:
    """With SMTP down, the configured second email provider (maildir) delivers in round one."""
    app = await start_centrum(
        smtp_url=smtp.url,
        notification={**FAST_DISPATCH, "providers": {"email": ["smtp", "maildir"]}},
    )
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(email_send())
        final = await _until(
            client, sent.notification.id, lambda n: n.status == pb.NOTIFICATION_STATUS_SENT, "SENT"
        )
    assert [(a.number, a.provider, a.outcome) for a in final.attempts] == [
        (1, "smtp", pb.ATTEMPT_OUTCOME_FAILED_RETRYABLE),
        (1, "maildir", pb.ATTEMPT_OUTCOME_SUCCEEDED),
    ]
    assert len(list((app.settings.data_dir / "outbox" / "new").iterdir())) == 1


async def test_webhook_is_signed_and_its_secrets_never_returned(
    start_centrum: StartCentrum, token_mint: TokenMint, receiver: HttpReceiver
) -> None:
    """The receiver gets the JSON body with a Centrum-Signature that verifies with the secret;
    reads return the signing secret and header values empty."""
    app = await start_centrum(notification={**FAST_DISPATCH, "ssrf_allow": ["127.0.0.1"]})
    secret = "whsec-test-1"
    request = ns.SendRequest(
        recipient=pb.Recipient(
            webhook=pb.WebhookRecipient(
                url=receiver.url("/hooks/orders"),
                signing_secret=secret,
                headers={"Authorization": "Bearer abc"},
            )
        ),
        content=pb.Content(),
    )
    request.content.data.struct_value.update({"order": 42, "state": "paid"})
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(request)
        final = await _until(
            client, sent.notification.id, lambda n: n.status == pb.NOTIFICATION_STATUS_SENT, "SENT"
        )
    ((path, headers, body),) = receiver.requests
    assert path == "/hooks/orders" and json.loads(body) == {"order": 42, "state": "paid"}
    assert headers["Authorization"] == "Bearer abc"
    assert headers["Centrum-Notification-Id"] == sent.notification.id
    assert verify_webhook(secret.encode(), body, headers["Centrum-Signature"])
    assert not verify_webhook(b"wrong", body, headers["Centrum-Signature"])
    assert not verify_webhook(secret.encode(), body + b" ", headers["Centrum-Signature"])
    assert final.recipient.webhook.signing_secret == ""
    assert dict(final.recipient.webhook.headers) == {"Authorization": ""}


async def test_webhook_to_loopback_is_refused_without_the_allow_list(
    start_centrum: StartCentrum, token_mint: TokenMint, receiver: HttpReceiver
) -> None:
    """The SSRF guard refuses a loopback webhook permanently: DEAD in one round, no request."""
    app = await start_centrum(notification={**FAST_DISPATCH, "webhook_secret": "s"})
    request = ns.SendRequest(
        recipient=pb.Recipient(webhook=pb.WebhookRecipient(url=receiver.url())),
        content=pb.Content(),
    )
    request.content.data.struct_value.update({"x": 1})
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(request)
        final = await _until(
            client, sent.notification.id, lambda n: n.status == pb.NOTIFICATION_STATUS_DEAD, "DEAD"
        )
    assert final.attempts[0].outcome == pb.ATTEMPT_OUTCOME_FAILED_PERMANENT
    assert "loopback" in final.status_message
    assert not receiver.requests


async def test_push_goes_out_in_fcm_http_v1_format(
    start_centrum: StartCentrum, token_mint: TokenMint, receiver: HttpReceiver
) -> None:
    """A push is POSTed as an FCM v1 message (token, notification, string data, platform block)
    with the bearer token, and FCM's message name becomes the provider message id."""
    app = await start_centrum(
        notification={
            **FAST_DISPATCH,
            "ssrf_allow": ["127.0.0.1"],
            "fcm_url": receiver.url("/v1/projects/demo/messages:send"),
            "fcm_token": "fcm-token",
        }
    )
    request = ns.SendRequest(
        recipient=pb.Recipient(
            push=pb.PushRecipient(device_token="dev-1", platform=pb.PUSH_PLATFORM_ANDROID)
        ),
        content=pb.Content(subject="Order shipped", text="It is on its way"),
        priority=pb.PRIORITY_HIGH,
    )
    request.content.data.struct_value.update({"order": 42})
    async with notify_client(app, token_mint) as client:
        sent = await client.notifications.Send(request)
        final = await _until(
            client, sent.notification.id, lambda n: n.status == pb.NOTIFICATION_STATUS_SENT, "SENT"
        )
    ((path, headers, body),) = receiver.requests
    assert path == "/v1/projects/demo/messages:send"
    assert headers["Authorization"] == "Bearer fcm-token"
    assert json.loads(body) == {
        "message": {
            "token": "dev-1",
            "notification": {"title": "Order shipped", "body": "It is on its way"},
            "data": {"order": "42"},
            "android": {"priority": "high"},
        }
    }
    assert final.attempts[0].provider_message_id == "projects/test/messages/1"


async def test_ses_email_and_sns_sms_through_moto(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """Email through SES v2 and SMS through SNS (moto_server) are SENT with AWS message ids."""
    ses = boto3.client(
        "ses",
        endpoint_url=s3_endpoint.endpoint_url,
        region_name=s3_endpoint.region,
        aws_access_key_id=s3_endpoint.access_key,
        aws_secret_access_key=s3_endpoint.secret_key,
    )
    ses.verify_email_identity(EmailAddress="noreply@centrum.test")
    app = await start_centrum(
        notification={
            **FAST_DISPATCH,
            "providers": {"email": ["ses"], "sms": ["sns"]},
            "aws_endpoint_url": s3_endpoint.endpoint_url,
            "aws_region": s3_endpoint.region,
            "aws_access_key_id": s3_endpoint.access_key,
            "aws_secret_access_key": s3_endpoint.secret_key,
            "default_sender": "noreply@centrum.test",
        }
    )
    async with notify_client(app, token_mint) as client:
        mail = await client.notifications.Send(email_send())
        sms = await client.notifications.Send(
            ns.SendRequest(
                recipient=pb.Recipient(sms=pb.SmsRecipient(phone_number="+4915112345678")),
                content=pb.Content(text="Your code is 123456"),
            )
        )
        done = [
            await _until(
                client, n.notification.id, lambda x: x.status == pb.NOTIFICATION_STATUS_SENT, "SENT"
            )
            for n in (mail, sms)
        ]
    assert [n.attempts[0].provider for n in done] == ["ses", "sns"]
    assert all(n.attempts[0].provider_message_id for n in done)
    sent_quota = ses.get_send_quota()
    assert sent_quota["SentLast24Hours"] >= 1
