"""Workers sharing one PostgreSQL outbox: exactly-once under concurrency and after a crash."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_notification_kit import (  # noqa: F401 - the fixture wires the service
    FAST_DISPATCH,
    DedicatedSmtp,
    fresh_postgres,
    notify_client,
    poll,
)

from centrum.notification.v1 import notification_pb2 as pb
from centrum.notification.v1 import notification_service_pb2 as ns
from centrum.server import CentrumApp, Settings
from centrum.services.db import create_engine
from centrum.services.keys import MasterKey
from centrum.services.notification.delivery import build_dispatcher
from centrum.services.notification.dispatcher import Dispatcher
from harness.backends import ManagedProcess
from harness.centrum import StartCentrum
from harness.tokens import TokenMint

LEASE_S = 1.5

DispatcherFactory = Callable[..., Dispatcher]


@pytest.fixture
def smtp() -> Iterator[DedicatedSmtp]:
    """A listening SMTP server of this test."""
    server = DedicatedSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def accepting_app(
    start_centrum: StartCentrum,
    fresh_postgres: str,  # noqa: F811 - the fixture imported from the kit
    smtp: DedicatedSmtp,
) -> CentrumApp:
    """A server on the test's PostgreSQL database that accepts sends but dispatches none."""
    return await start_centrum(
        database_url=fresh_postgres,
        smtp_url=smtp.url,
        notification={**FAST_DISPATCH, "dispatch_enabled": False},
    )


@pytest.fixture
async def dispatchers(accepting_app: CentrumApp) -> AsyncIterator[DispatcherFactory]:
    """Factory of extra workers on the same database, each with its own engine (a replica)."""
    started: list[tuple[Dispatcher, Any]] = []
    base = accepting_app.settings

    def make(**notification: Any) -> Dispatcher:
        settings = Settings(
            **{
                **base.model_dump(exclude={"notification"}),
                "notification": {
                    **base.notification.model_dump(),
                    "dispatch_enabled": True,
                    **notification,
                },
            }
        )
        engine = create_engine(settings.sqlalchemy_url)
        dispatcher = build_dispatcher(
            settings, engine, MasterKey.load_or_create(settings.master_key_path)
        )
        dispatcher.start()
        started.append((dispatcher, engine))
        return dispatcher

    yield make
    for dispatcher, engine in started:
        await dispatcher.stop()
        await engine.dispose()


def _notification_ids(messages: list[Any]) -> list[str]:
    return [str(email.message_from_bytes(m.content)["X-Centrum-Notification-Id"]) for m in messages]


async def test_two_workers_deliver_a_thousand_messages_exactly_once(
    accepting_app: CentrumApp,
    token_mint: TokenMint,
    smtp: DedicatedSmtp,
    dispatchers: DispatcherFactory,
) -> None:
    """Two workers claiming from one PostgreSQL outbox (FOR UPDATE SKIP LOCKED) deliver each of
    1,000 notifications exactly once, and every one ends SENT."""
    async with notify_client(accepting_app, token_mint) as client:
        batch = await client.notifications.SendBatch(
            ns.SendBatchRequest(
                content=pb.Content(subject="Hi", text="bulk"),
                items=[
                    ns.SendBatchItem(
                        recipient=pb.Recipient(
                            email=pb.EmailRecipient(to=[pb.EmailAddress(address=f"u{i}@ex.com")])
                        )
                    )
                    for i in range(1000)
                ],
            )
        )
        assert all(r.code == 0 for r in batch.results)
        ids = {r.notification.id for r in batch.results}
        first, second = (dispatchers(worker_concurrency=32, claim_batch=32) for _ in "ab")

        async def all_sent() -> bool:
            unsent = await client.notifications.ListNotifications(
                ns.ListNotificationsRequest(
                    batch_id=batch.batch_id,
                    statuses=[
                        pb.NOTIFICATION_STATUS_QUEUED,
                        pb.NOTIFICATION_STATUS_SENDING,
                        pb.NOTIFICATION_STATUS_RETRYING,
                        pb.NOTIFICATION_STATUS_DEAD,
                    ],
                    page_size=1,
                )
            )
            return not unsent.notifications

        await poll(all_sent, "1,000 notifications SENT", within=120)
        sample = await client.notifications.GetNotification(
            ns.GetNotificationRequest(notification_id=next(iter(ids)))
        )
    delivered = _notification_ids(smtp.capture.messages())
    assert len(delivered) == 1000
    assert set(delivered) == ids
    assert sample.notification.attempts[0].worker in (first.worker, second.worker)


async def test_a_killed_worker_s_message_is_delivered_by_another_after_its_lease(
    accepting_app: CentrumApp,
    token_mint: TokenMint,
    smtp: DedicatedSmtp,
    dispatchers: DispatcherFactory,
    tmp_path: Path,
) -> None:
    """kill -9 of a `centrum worker` process in the middle of an SMTP transaction: once its
    lease expires another worker claims the notification and delivers it exactly once; the
    record shows the dead worker's attempt as LEASE_EXPIRED."""
    smtp.hold = hold = __import__("threading").Event()
    settings = accepting_app.settings
    worker = ManagedProcess(
        "notification-worker",
        [sys.executable, "-m", "centrum.services.notification.worker"],
        tmp_path / "worker.log",
        env={
            **os.environ,
            "CENTRUM_DATABASE_URL": settings.database_url.get_secret_value(),  # type: ignore[union-attr]
            "CENTRUM_DATA_DIR": str(settings.data_dir),
            "CENTRUM_SMTP_URL": smtp.url,
            "CENTRUM_LOG_FORMAT": "json",
            "CENTRUM_NOTIFICATION__LEASE_S": str(LEASE_S),
            "CENTRUM_NOTIFICATION__POLL_INTERVAL_S": "0.05",
        },
    )
    async with notify_client(accepting_app, token_mint) as client:
        sent = await client.notifications.Send(
            ns.SendRequest(
                recipient=pb.Recipient(
                    email=pb.EmailRecipient(to=[pb.EmailAddress(address="crash@ex.com")])
                ),
                content=pb.Content(subject="Once", text="exactly once"),
            )
        )
        worker.start()
        try:
            assert await asyncio.to_thread(smtp.data_started.wait, 60), "worker never sent DATA"
            pid = worker.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await asyncio.to_thread(worker.popen.wait, 10)
        finally:
            worker.stop(grace=1)
        smtp.hold = None
        hold.set()
        survivor = dispatchers(lease_s=LEASE_S)

        async def sent_by_survivor() -> pb.Notification | None:
            found = (
                await client.notifications.GetNotification(
                    ns.GetNotificationRequest(notification_id=sent.notification.id)
                )
            ).notification
            return found if found.status == pb.NOTIFICATION_STATUS_SENT else None

        final = await poll(sent_by_survivor, "delivery by the surviving worker", within=60)
    assert [(a.outcome, a.worker == survivor.worker) for a in final.attempts] == [
        (pb.ATTEMPT_OUTCOME_LEASE_EXPIRED, False),
        (pb.ATTEMPT_OUTCOME_SUCCEEDED, True),
    ]
    assert _notification_ids(smtp.capture.messages()) == [sent.notification.id]
