"""Assembling the delivery side from settings: providers per channel and the dispatcher.

Shared by `centrum serve` (wiring) and `centrum worker` (worker), so both dispatch alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.notification.v1 import notification_pb2 as pb
from centrum.services.keys import MasterKey
from centrum.services.notification.dispatcher import Backoff, Dispatcher
from centrum.services.notification.outbox import Outbox
from centrum.services.notification.providers.aws import AwsClients, SesProvider, SnsProvider
from centrum.services.notification.providers.base import Provider
from centrum.services.notification.providers.http import FcmProvider, WebhookProvider
from centrum.services.notification.providers.maildir import MaildirProvider
from centrum.services.notification.providers.smtp import SmtpProvider
from centrum.services.notification.secrets import RecipientSecrets
from centrum.services.notification.settings import ChannelName, ProviderName
from centrum.services.notification.ssrf import Resolver, SsrfGuard

if TYPE_CHECKING:
    from centrum.server.settings import Settings

__all__ = ["build_dispatcher", "build_providers", "provider_names"]

CHANNELS: dict[ChannelName, int] = {
    "email": pb.CHANNEL_EMAIL,
    "sms": pb.CHANNEL_SMS,
    "push": pb.CHANNEL_PUSH,
    "webhook": pb.CHANNEL_WEBHOOK,
}


def provider_names(settings: Settings) -> dict[ChannelName, list[ProviderName]]:
    """The providers of each channel: the configured lists, else the defaults."""
    n = settings.notification
    aws = bool(n.aws_endpoint_url or n.aws_region)
    defaults: dict[ChannelName, list[ProviderName]] = {
        "email": ["smtp"] if settings.smtp_url else ["maildir"],
        "sms": ["sns"] if aws else ["maildir"],
        "push": ["fcm"] if n.fcm_url else ["maildir"],
        "webhook": ["webhook"],
    }
    return {**defaults, **n.providers}


def build_providers(
    settings: Settings, *, resolver: Resolver | None = None
) -> dict[int, list[Provider]]:
    """One provider instance per configured name, listed per channel in fallback order."""
    n = settings.notification
    guard = SsrfGuard(n.ssrf_allow, resolver=resolver)
    built: dict[ProviderName, Provider] = {}
    aws: list[AwsClients] = []

    def aws_clients() -> AwsClients:
        if not aws:
            aws.append(
                AwsClients(
                    endpoint_url=n.aws_endpoint_url,
                    region=n.aws_region or "us-east-1",
                    access_key_id=n.aws_access_key_id,
                    secret_access_key=(
                        n.aws_secret_access_key.get_secret_value()
                        if n.aws_secret_access_key
                        else None
                    ),
                    timeout_s=n.provider_timeout_s,
                )
            )
        return aws[0]

    factories: dict[ProviderName, Callable[[], Provider]] = {
        "smtp": lambda: SmtpProvider(
            settings.smtp_url.get_secret_value() if settings.smtp_url else "smtp://127.0.0.1:25",
            default_sender=n.default_sender,
            timeout_s=n.provider_timeout_s,
        ),
        "maildir": lambda: MaildirProvider(
            n.maildir_path or settings.data_dir / "outbox", default_sender=n.default_sender
        ),
        "ses": lambda: SesProvider(aws_clients(), default_sender=n.default_sender),
        "sns": lambda: SnsProvider(aws_clients(), default_sender_id=n.sms_sender_id),
        "fcm": lambda: FcmProvider(
            guard,
            url=n.fcm_url or "https://fcm.googleapis.com/v1/projects/-/messages:send",
            token=n.fcm_token.get_secret_value() if n.fcm_token else None,
            timeout_s=n.webhook_timeout_s,
        ),
        "webhook": lambda: WebhookProvider(
            guard,
            timeout_s=n.webhook_timeout_s,
            default_secret=n.webhook_secret.get_secret_value().encode()
            if n.webhook_secret
            else None,
        ),
    }
    providers: dict[int, list[Provider]] = {}
    for channel, names in provider_names(settings).items():
        for name in names:
            if name not in built:
                built[name] = factories[name]()
            providers.setdefault(CHANNELS[channel], []).append(built[name])
    return providers


def build_dispatcher(
    settings: Settings,
    engine: AsyncEngine,
    master_key: MasterKey,
    *,
    resolver: Resolver | None = None,
) -> Dispatcher:
    """A dispatcher over the shared outbox with the configured providers."""
    n = settings.notification
    return Dispatcher(
        Outbox(engine, idempotency_window_s=n.idempotency_window_s),
        build_providers(settings, resolver=resolver),
        RecipientSecrets(master_key),
        concurrency=n.worker_concurrency,
        claim_batch=n.claim_batch,
        lease_s=n.lease_s,
        poll_interval_s=n.poll_interval_s,
        max_attempts=n.max_attempts,
        backoff=Backoff(n.backoff_base_s, n.backoff_max_s, n.backoff_jitter),
    )
