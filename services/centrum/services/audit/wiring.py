"""Builds the Audit service: the log, its signing key, the checkpointer and the servicer."""

from __future__ import annotations

import asyncio
import time

import structlog

from centrum.interceptors.lifecycle import cancel_and_wait
from centrum.services.audit.export import S3Exporter, S3Settings
from centrum.services.audit.log import SqlAuditLog
from centrum.services.audit.servicer import AuditServicer, Wakeup
from centrum.services.audit.signing import Checkpointer
from centrum.services.audit.validation import validators
from centrum.services.db import BackendUnavailable
from centrum.services.runtime import ServiceBundle, ServiceContext

__all__ = ["build"]

_log = structlog.get_logger("centrum.audit")
_PRUNE_EVERY_S = 3600.0


def _s3_settings(context: ServiceContext) -> S3Settings | None:
    """The S3 store exports may go to: the server's, when an endpoint or keys are configured."""
    settings = context.settings
    if settings.s3_endpoint_url is None and settings.s3_access_key_id is None:
        return None
    secret = settings.s3_secret_access_key
    return S3Settings(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
    )


async def build(context: ServiceContext) -> ServiceBundle:
    """The AuditService servicer, its validators, and the background checkpointer.

    Nothing here touches the database: the signing key is loaded on first use.
    """
    settings = context.settings.audit
    wakeup = Wakeup()
    log = SqlAuditLog(context.engine, on_append=wakeup.notify)
    checkpointer = Checkpointer(log, context.master_key, settings.origin)
    export_dir = settings.export_dir or context.data_dir / "audit-exports"
    servicer = AuditServicer(
        log,
        checkpointer,
        origin=settings.origin,
        max_batch_size=settings.max_batch_size,
        export_dir=export_dir,
        tail_poll_interval_s=settings.tail_poll_interval_s,
        wakeup=wakeup,
        s3=S3Exporter(_s3_settings(context)),
        relay_tenant=context.settings.auth.operator_tenant,
    )
    task: asyncio.Task[None] | None = None

    async def background() -> None:
        """Checkpoints what the chain appended; prunes old payloads when retention is set."""
        last_prune = 0.0
        while True:
            try:
                await checkpointer.issue()
                wakeup.notify()
                if settings.retention_days and time.monotonic() - last_prune > _PRUNE_EVERY_S:
                    cutoff = time.time_ns() - int(settings.retention_days * 86400e9)
                    pruned = await log.prune(cutoff)
                    last_prune = time.monotonic()
                    if pruned:
                        _log.info("audit payloads pruned", entries=pruned)
            except BackendUnavailable as exc:
                _log.warning("audit checkpointer: store unavailable", error=str(exc))
            except Exception as exc:  # a transient fault must not stop the checkpoints
                _log.error("audit checkpointer failed; retrying", error=repr(exc))
            await asyncio.sleep(settings.checkpoint_interval_s)

    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(background(), name="audit-checkpointer")

    async def stop() -> None:
        await cancel_and_wait(task)

    return ServiceBundle(
        servicers={"centrum.audit.v1.AuditService": servicer},
        validators=validators(settings.max_batch_size),
        start=start,
        stop=stop,
        extra={"audit_log": log, "audit_checkpointer": checkpointer},
    )
