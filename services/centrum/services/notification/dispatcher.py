"""The dispatch worker: claims due notifications, hands them to providers, records the outcome.

Each round tries the channel's providers in order (the later ones are fallbacks). A success is
SENT; a permanent failure, the last allowed round or a passed expire_time is DEAD with the last
error; otherwise RETRYING after an exponential back-off with jitter. Claims are leased, so any
number of workers in any number of processes share one outbox without sending a message twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from google.protobuf import json_format, struct_pb2

from centrum.notification.v1 import notification_pb2 as pb
from centrum.services.db import BackendUnavailable
from centrum.services.notification.outbox import Attempt, Claimed, Outbox, Outcome
from centrum.services.notification.providers.base import Delivery, Provider, ProviderError
from centrum.services.notification.secrets import RecipientSecrets

__all__ = ["Backoff", "Dispatcher"]

_log = structlog.get_logger("centrum.notification.dispatch")
_RECORD_TRIES = 10


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter: min(max, base * 2**(n-1)), its `jitter` share random."""

    base_s: float
    max_s: float
    jitter: float
    rng: Callable[[], float] = random.random

    def delay(self, round_number: int) -> float:
        """Seconds to wait after failed round `round_number` (1-based)."""
        ceiling = min(self.max_s, self.base_s * 2 ** max(0, round_number - 1))
        return float(ceiling * (1 - self.jitter) + ceiling * self.jitter * self.rng())


class Dispatcher:
    """Runs `concurrency` sends at a time from the outbox until stopped."""

    def __init__(
        self,
        outbox: Outbox,
        providers: Mapping[int, Sequence[Provider]],
        secrets: RecipientSecrets,
        *,
        concurrency: int,
        claim_batch: int,
        lease_s: float,
        poll_interval_s: float,
        max_attempts: int,
        backoff: Backoff,
        list_unsubscribe: Callable[[object], dict[str, str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outbox = outbox
        self._providers = providers
        self._secrets = secrets
        self._concurrency = concurrency
        self._claim_batch = claim_batch
        self._lease_s = lease_s
        self._poll = poll_interval_s
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._list_unsubscribe = list_unsubscribe
        self._clock = clock
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(self) & 0xFFFF:04x}"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._outcomes: list[tuple[Outcome, asyncio.Future[bool]]] = []
        self._recorder: asyncio.Task[None] | None = None

    def _primary(self, channel: int) -> str:
        providers = self._providers.get(channel) or ()
        return providers[0].name if providers else ""

    def start(self) -> None:
        """Starts the claim loop in the background."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="notification-dispatcher")

    def wake(self) -> None:
        """Looks for due notifications now instead of at the next poll (after a Send)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stops claiming and waits for the sends in flight (their leases then end normally)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        for providers in self._providers.values():
            for provider in providers:
                await provider.close()

    async def _run(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                free = self._concurrency - len(in_flight)
                claimed: list[Claimed] = []
                # Claiming in batches (half the slots or more) keeps claims few and large.
                if free >= max(1, self._concurrency // 2) or not in_flight:
                    try:
                        claimed = await self._outbox.claim(
                            min(free, self._claim_batch), self._lease_s, self.worker, self._primary
                        )
                    except BackendUnavailable as exc:
                        _log.warning("claiming failed", error=str(exc))
                for item in claimed:
                    task = asyncio.create_task(self._deliver(item))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if claimed:
                    continue
                self._wake.clear()
                waits: list[asyncio.Future[object]] = [
                    asyncio.ensure_future(self._wake.wait()),
                    *in_flight,  # type: ignore[list-item]
                ]
                await asyncio.wait(waits, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
                waits[0].cancel()
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)

    async def run_once(self) -> int:
        """Claims and delivers one batch; returns how many were claimed (for tests and tools)."""
        claimed = await self._outbox.claim(
            self._claim_batch, self._lease_s, self.worker, self._primary
        )
        await asyncio.gather(*(self._deliver(item) for item in claimed))
        return len(claimed)

    def _delivery(self, claimed: Claimed) -> Delivery:
        row = claimed.row
        recipient = pb.Recipient.FromString(row.recipient)
        if row.recipient_secrets:
            self._secrets.restore(row.tenant, row.id, recipient, row.recipient_secrets)
        attachments: tuple[pb.Attachment, ...] = ()
        if row.attachments:
            wrapper = pb.Notification.FromString(row.attachments)
            attachments = tuple(wrapper.attachments)
        overrides: dict[str, object] = {}
        if row.overrides:
            overrides = json_format.MessageToDict(struct_pb2.Struct.FromString(row.overrides))
        headers = self._list_unsubscribe(row) if self._list_unsubscribe else {}
        return Delivery(
            notification_id=row.id,
            tenant=row.tenant,
            channel=row.channel,
            recipient=recipient,
            content=pb.Content.FromString(row.content),
            attachments=attachments,
            priority=row.priority,
            overrides=overrides,
            headers=headers,
        )

    async def _deliver(self, claimed: Claimed) -> None:
        row = claimed.row
        attempts: list[Attempt] = []
        last_error = ""
        permanent = False
        now = self._clock()
        if row.expire_time is not None and row.expire_time <= now:
            attempts.append(
                Attempt(
                    self._primary(row.channel),
                    now,
                    now,
                    pb.ATTEMPT_OUTCOME_FAILED_PERMANENT,
                    response_message="expire_time passed before delivery",
                )
            )
            await self._finish(
                claimed, attempts, pb.NOTIFICATION_STATUS_DEAD, "expire_time passed before delivery"
            )
            return
        try:
            delivery = self._delivery(claimed)
        except Exception as exc:  # undecryptable or corrupt row: no retry can fix it
            _log.error("notification unreadable", notification_id=row.id, error=repr(exc))
            attempts.append(
                Attempt(
                    self._primary(row.channel),
                    now,
                    now,
                    pb.ATTEMPT_OUTCOME_FAILED_PERMANENT,
                    response_message=f"unreadable: {type(exc).__name__}",
                )
            )
            await self._finish(claimed, attempts, pb.NOTIFICATION_STATUS_DEAD, "unreadable")
            return
        providers = self._providers.get(row.channel) or ()
        if not providers:
            last_error, permanent = "no provider is configured for the channel", True
        for provider in providers:
            start = self._clock()
            try:
                result = await provider.send(delivery)
            except ProviderError as exc:
                outcome = (
                    pb.ATTEMPT_OUTCOME_FAILED_PERMANENT
                    if exc.permanent
                    else pb.ATTEMPT_OUTCOME_FAILED_RETRYABLE
                )
                attempts.append(
                    Attempt(provider.name, start, self._clock(), outcome, exc.code, exc.message)
                )
                last_error = f"{provider.name}: {exc.message}"
                permanent = exc.permanent
                continue
            except Exception as exc:  # a provider bug must not kill the worker
                _log.exception("provider crashed", provider=provider.name, notification_id=row.id)
                attempts.append(
                    Attempt(
                        provider.name,
                        start,
                        self._clock(),
                        pb.ATTEMPT_OUTCOME_FAILED_RETRYABLE,
                        "error",
                        type(exc).__name__,
                    )
                )
                last_error = f"{provider.name}: {type(exc).__name__}"
                continue
            attempts.append(
                Attempt(
                    provider.name,
                    start,
                    self._clock(),
                    pb.ATTEMPT_OUTCOME_SUCCEEDED,
                    result.response_code,
                    result.response_message,
                    result.message_id,
                )
            )
            await self._finish(claimed, attempts, pb.NOTIFICATION_STATUS_SENT)
            return
        if not attempts:
            attempts.append(
                Attempt(
                    "", now, now, pb.ATTEMPT_OUTCOME_FAILED_PERMANENT, response_message=last_error
                )
            )
        rounds_used = row.attempt_count - row.attempt_base
        next_at = self._clock() + self._backoff.delay(rounds_used)
        expired = row.expire_time is not None and next_at > row.expire_time
        if permanent or rounds_used >= self._max_attempts or expired:
            await self._finish(claimed, attempts, pb.NOTIFICATION_STATUS_DEAD, last_error)
            return
        attempts[-1].next_attempt_time = next_at
        await self._finish(
            claimed, attempts, pb.NOTIFICATION_STATUS_RETRYING, last_error, due_at=next_at
        )

    async def _finish(
        self,
        claimed: Claimed,
        attempts: list[Attempt],
        status: int,
        message: str = "",
        due_at: float | None = None,
    ) -> None:
        """Queues the outcome for the recorder, which writes many in one transaction."""
        done = asyncio.get_running_loop().create_future()
        self._outcomes.append(
            (Outcome(claimed, attempts, status, message, due_at, self.worker), done)
        )
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record())
        await done

    async def _record(self) -> None:
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            for attempt in range(_RECORD_TRIES):
                try:
                    kept = await self._outbox.finish([outcome for outcome, _ in batch])
                    break
                except BackendUnavailable as exc:
                    _log.warning("recording outcomes failed; retrying", error=str(exc))
                    await asyncio.sleep(0.2 * (attempt + 1))
            else:
                kept = [False] * len(batch)  # the leases expire and the rows are retried
            for (outcome, done), ok in zip(batch, kept, strict=True):
                if not ok:
                    _log.warning(
                        "lease lost before the outcome was recorded",
                        notification_id=outcome.claimed.row.id,
                    )
                if not done.done():
                    done.set_result(ok)
