"""Benchmark: accepted sends/s through gRPC and delivered emails/s to a local SMTP server.

Issue 6 acceptance. Two phases, each against its baseline in the same run:

* ``accept``: ``NotificationService/Send`` of inline email content through the whole server
  (JWT auth, rate limit, validation, metadata audit, outbox insert) at ``--concurrency``
  callers, against the floor of the same work without gRPC and the chain: ``Outbox.accept`` of
  the same prepared rows called directly in process at the same concurrency.
* ``deliver``: ``--messages`` queued emails dispatched by one worker (``--workers`` concurrent
  sends, leases, attempt and history rows) to an aiosmtpd ``Sink`` server in a separate
  process, against the same number of messages sent straight to that server with aiosmtplib
  over the same number of reused connections.

The database is SQLite in a temporary directory, or ``--database-url postgresql://...``.
Usage: ``.venv/bin/python bench/bench_notification.py [--duration 5] [--messages 2000]``;
prints one JSON line. ``--profile FILE`` writes a cProfile of the deliver phase.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from centrum.interceptors.logging import configure_logging  # noqa: E402
from centrum.notification.v1 import notification_pb2 as pb  # noqa: E402
from centrum.notification.v1 import notification_service_pb2 as ns  # noqa: E402
from centrum.sdk.aio import connect  # noqa: E402
from centrum.server.app import CentrumApp  # noqa: E402
from centrum.server.runner import freeze_startup_heap  # noqa: E402
from centrum.server.settings import Settings  # noqa: E402
from centrum.services.notification.delivery import build_dispatcher  # noqa: E402
from centrum.services.notification.ids import new_id  # noqa: E402
from centrum.services.notification.outbox import NewNotification, Outbox  # noqa: E402
from centrum.services.notification.tables import notifications  # noqa: E402
from harness.tokens import TokenMint  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _smtp_sink(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("aiosmtpd did not start")


def _settings(data_dir: Path, args: argparse.Namespace, smtp_port: int) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "listen": "127.0.0.1:0",
        "log_level": "warning",
        "log_format": "json",
        "smtp_url": f"smtp://127.0.0.1:{smtp_port}?starttls=false",
        "rate_limits": {"notify.send": {"disabled": True}},
        "services": ("notification", "audit"),
        "notification": {
            "dispatch_enabled": False,
            "worker_concurrency": args.workers,
            "claim_batch": args.workers,
            "poll_interval_s": 0.05,
        },
    }
    if args.database_url:
        values["database_url"] = args.database_url
    return Settings(**values)


def _request(i: int) -> ns.SendRequest:
    return ns.SendRequest(
        recipient=pb.Recipient(
            email=pb.EmailRecipient(to=[pb.EmailAddress(address=f"user{i}@example.com")])
        ),
        content=pb.Content(subject="Your receipt", text="Thanks for your order " + "x" * 400),
    )


async def _closed_loop(concurrency: int, duration_s: float, call: Any) -> int:
    done = 0
    deadline = time.perf_counter() + duration_s

    async def worker(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await call(i)
            done += 1
            i += concurrency

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done


async def _accept_phase(
    app: CentrumApp, mint: TokenMint, args: argparse.Namespace
) -> dict[str, float]:
    token = mint.token(subject="bench", tenant="bench", scopes=["notify.send"])
    async with connect(f"127.0.0.1:{app.port}", token=token) as client:
        requests = [_request(i) for i in range(1000)]

        async def send(i: int) -> None:
            await client.notifications.Send(requests[i % 1000])

        await _closed_loop(args.concurrency, 1.0, send)  # warm-up
        start = time.perf_counter()
        grpc_count = await _closed_loop(args.concurrency, args.duration, send)
        grpc_rate = grpc_count / (time.perf_counter() - start)

    assert app._backends is not None
    outbox = Outbox(app._backends.engine)
    content = pb.Content(subject="Your receipt", text="Thanks " + "x" * 400).SerializeToString()

    async def accept(i: int) -> None:
        recipient = _request(i).recipient
        await outbox.accept(
            NewNotification(
                id=new_id(),
                tenant="bench",
                channel=pb.CHANNEL_EMAIL,
                status=pb.NOTIFICATION_STATUS_QUEUED,
                recipient=recipient.SerializeToString(),
                recipient_secrets=None,
                recipient_index=f"|user{i}@example.com|",
                subscriber_id="",
                content=content,
                sender="bench",
                request_hash="",
            )
        )

    start = time.perf_counter()
    direct_count = await _closed_loop(args.concurrency, args.duration, accept)
    direct_rate = direct_count / (time.perf_counter() - start)
    return {
        "accepted_sends_per_s": round(grpc_rate, 1),
        "baseline_outbox_accepts_per_s": round(direct_rate, 1),
        "accept_ratio": round(grpc_rate / direct_rate, 3),
    }


async def _deliver_phase(
    app: CentrumApp, args: argparse.Namespace, smtp_port: int
) -> dict[str, float]:
    assert app._backends is not None
    engine = app._backends.engine
    async with engine.begin() as connection:  # the accept phase's rows are not part of this one
        await connection.execute(
            sa.update(notifications).values(status=pb.NOTIFICATION_STATUS_CANCELLED, due_at=None)
        )
    mint_rows = Outbox(engine)
    content = pb.Content(subject="Your receipt", text="Thanks " + "x" * 400)
    items = [
        NewNotification(
            id=new_id(),
            tenant="bench",
            channel=pb.CHANNEL_EMAIL,
            status=pb.NOTIFICATION_STATUS_QUEUED,
            recipient=_request(i).recipient.SerializeToString(),
            recipient_secrets=None,
            recipient_index="",
            subscriber_id="",
            content=content.SerializeToString(),
            sender="bench",
            request_hash="",
        )
        for i in range(args.messages)
    ]
    await mint_rows.accept_many(items)
    dispatcher = build_dispatcher(app.settings, engine, app._master_key)  # type: ignore[arg-type]
    profile = cProfile.Profile() if args.profile else None
    start = time.perf_counter()
    if profile:
        profile.enable()
    dispatcher.start()
    while True:
        async with engine.connect() as connection:
            left = (
                await connection.execute(
                    sa.select(sa.func.count()).where(
                        notifications.c.status != pb.NOTIFICATION_STATUS_SENT,
                        notifications.c.status != pb.NOTIFICATION_STATUS_CANCELLED,
                    )
                )
            ).scalar_one()
        if not left:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    await dispatcher.stop()
    delivered_rate = args.messages / elapsed

    message_bytes = []
    for i in range(args.messages):
        message = EmailMessage()
        message["From"] = "centrum@localhost"
        message["To"] = f"user{i}@example.com"
        message["Subject"] = "Your receipt"
        message.set_content("Thanks " + "x" * 400)
        message_bytes.append(message)
    clients = []
    for _ in range(args.workers):
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port, start_tls=False)
        await client.connect()
        clients.append(client)
    queue: asyncio.Queue[EmailMessage] = asyncio.Queue()
    for message in message_bytes:
        queue.put_nowait(message)

    async def drain(client: aiosmtplib.SMTP) -> None:
        while not queue.empty():
            await client.send_message(queue.get_nowait())

    start = time.perf_counter()
    await asyncio.gather(*(drain(c) for c in clients))
    raw_rate = args.messages / (time.perf_counter() - start)
    for client in clients:
        await client.quit()
    return {
        "delivered_emails_per_s": round(delivered_rate, 1),
        "baseline_raw_smtp_per_s": round(raw_rate, 1),
        "deliver_ratio": round(delivered_rate / raw_rate, 3),
    }


async def main(args: argparse.Namespace) -> None:
    """Runs both phases and prints one JSON line."""
    configure_logging("warning", "json")
    port = _free_port()
    sink = _smtp_sink(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            mint = TokenMint()
            app = CentrumApp(_settings(Path(tmp), args, port), key_source=mint.key_source())
            await app.start()
            freeze_startup_heap()  # as `centrum serve` does once serving
            try:
                result: dict[str, Any] = {
                    "bench": "notification",
                    "database": "postgresql" if args.database_url else "sqlite",
                    "concurrency": args.concurrency,
                    "workers": args.workers,
                    "messages": args.messages,
                }
                if not args.skip_accept:
                    result.update(await _accept_phase(app, mint, args))
                result.update(await _deliver_phase(app, args, port))
            finally:
                await app.stop(grace_s=0)
    finally:
        sink.terminate()
        sink.wait(10)
    print(json.dumps(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--skip-accept", action="store_true")
    asyncio.run(main(parser.parse_args()))
