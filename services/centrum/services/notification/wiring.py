"""Builds the notification service: NotificationService, TemplateService, PreferenceService,
and the dispatch worker that runs inside `centrum serve` (unless dispatch_enabled is false)."""

from __future__ import annotations

from centrum.services.notification.delivery import build_dispatcher
from centrum.services.notification.notification_servicer import NotificationServicer
from centrum.services.notification.outbox import Outbox
from centrum.services.notification.preference_servicer import PreferenceServicer
from centrum.services.notification.preferences import PreferenceStore
from centrum.services.notification.secrets import RecipientSecrets
from centrum.services.notification.sending import Sender, UnsubscribeTokens
from centrum.services.notification.template_servicer import TemplateServicer
from centrum.services.notification.templates import TemplateStore
from centrum.services.notification.validators import VALIDATORS
from centrum.services.runtime import ServiceBundle, ServiceContext

__all__ = ["build"]


async def build(context: ServiceContext) -> ServiceBundle:
    """The servicers, validators and dispatcher of the notification service."""
    settings = context.settings.notification
    outbox = Outbox(context.engine, idempotency_window_s=settings.idempotency_window_s)
    templates = TemplateStore(context.engine)
    preferences = PreferenceStore(context.engine)
    tokens = UnsubscribeTokens(context.master_key)
    dispatcher = (
        build_dispatcher(context.settings, context.engine, context.master_key)
        if settings.dispatch_enabled
        else None
    )
    sender = Sender(
        outbox,
        templates,
        preferences,
        RecipientSecrets(context.master_key),
        tokens,
        unsubscribe_base_url=settings.unsubscribe_base_url,
        webhook_secret_configured=settings.webhook_secret is not None,
        on_accept=dispatcher.wake if dispatcher else (lambda: None),
    )

    async def start() -> None:
        if dispatcher is not None:
            dispatcher.start()

    async def stop() -> None:
        if dispatcher is not None:
            await dispatcher.stop()

    return ServiceBundle(
        servicers={
            "centrum.notification.v1.NotificationService": NotificationServicer(sender, outbox),
            "centrum.notification.v1.TemplateService": TemplateServicer(templates),
            "centrum.notification.v1.PreferenceService": PreferenceServicer(preferences, tokens),
        },
        validators=dict(VALIDATORS),
        start=start,
        stop=stop,
        extra={"notification.dispatcher": dispatcher},
    )
