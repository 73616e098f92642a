"""Builds the flag service (centrum.config.v1.FlagService) from the shared backends."""

from __future__ import annotations

from centrum.services.flags.domain import FlagDomain
from centrum.services.flags.fanout import ChangeNotifier
from centrum.services.flags.servicer import FlagServicer
from centrum.services.flags.settings import FlagSettings
from centrum.services.flags.sql import SqlFlagStore
from centrum.services.flags.validation import VALIDATORS
from centrum.services.runtime import ServiceBundle, ServiceContext

__all__ = ["build", "settings_of"]


def settings_of(context: ServiceContext) -> FlagSettings:
    """The flag settings: the `flags` table of Centrum's settings."""
    return context.settings.flags


async def build(context: ServiceContext) -> ServiceBundle:
    """The FlagService servicer, its validators, and the Redis fan-out between replicas."""
    settings = settings_of(context)
    store = SqlFlagStore(
        context.engine,
        retained_changes=settings.retained_changes,
        max_flags=settings.max_flags_per_environment,
    )
    notifier = ChangeNotifier(context.redis, settings.redis_channel_prefix)
    domain = FlagDomain(
        store,
        notifier,
        context.audit,
        progress_interval_s=settings.watch_progress_interval_s,
        cache_size=settings.evaluation_cache_size,
    )
    return ServiceBundle(
        servicers={"centrum.config.v1.FlagService": FlagServicer(domain)},
        validators=dict(VALIDATORS),
        start=notifier.start,
        stop=notifier.stop,
        extra={"flags.domain": domain},
    )
