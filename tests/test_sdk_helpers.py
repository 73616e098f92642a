"""The SDK helpers against a real `centrum serve`: email, transfers with progress, audited money."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import hashlib
import io
import os
import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import cast

import grpc
import pytest

from centrum.audit.v1 import audit_pb2
from centrum.audit.v1 import audit_service_pb2 as audit_pb
from centrum.notification.v1 import notification_pb2, template_pb2, template_service_pb2
from centrum.notification.v1 import notification_service_pb2 as notify_pb
from centrum.sdk import (
    CentrumError,
    Client,
    InvalidInput,
    aio,
    audit_transaction,
    connect,
    download_file,
    download_stream,
    pin_log_verifier,
    send_email,
    upload_file,
    upload_stream,
)
from centrum.sdk.audit import LogVerifier, VerificationError, verifier_key
from centrum.sdk.ledger import Transaction, audit_transaction_async
from centrum.sdk.notify import Email, email_attachment, send_email_async
from centrum.sdk.transfer import download_file_async, upload_file_async
from centrum.storage.v1 import storage_service_pb2 as storage_pb
from harness.backends import wait_for
from harness.centrum import ServeProcess
from harness.tokens import TokenMint

SCOPES = (
    "storage.admin",
    "storage.read",
    "storage.write",
    "notify.send",
    "notify.read",
    "notify.admin",
    "audit.write",
    "audit.read",
)
BUCKET = "helpers"
TEMPLATE = "receipt"


@pytest.fixture(scope="module")
def server(
    serve_process_module: Callable[..., ServeProcess], token_mint: TokenMint
) -> ServeProcess:
    """One `centrum serve` for the module, trusting the test mint, with a bucket and template."""
    served = serve_process_module(echo_service=True, jwks=[token_mint.jwk])
    with connect(served.target, token=token(token_mint)) as client:
        client.storage.CreateBucket(storage_pb.CreateBucketRequest(name=BUCKET))
        client.templates.CreateTemplate(
            template_service_pb2.CreateTemplateRequest(
                template_id=TEMPLATE,
                template=template_pb2.Template(
                    name="Receipt",
                    channel=notification_pb2.CHANNEL_EMAIL,
                    default_locale="en",
                    locales={
                        "en": template_pb2.TemplateVariant(
                            subject="Receipt {{ order.id }}",
                            text="Paid {{ order.total }} on {{ order.day }}.",
                        )
                    },
                    required_variables=["order.id", "order.total"],
                ),
            )
        )
    return served


def token(mint: TokenMint) -> str:
    """A token of the test tenant holding every scope the helpers need."""
    return mint.token(subject="svc-helpers", scopes=SCOPES)


@pytest.fixture
def client(server: ServeProcess, token_mint: TokenMint) -> Iterator[Client]:
    """A synchronous SDK client of the module's server."""
    with connect(server.target, token=token(token_mint)) as connected:
        yield connected


def outbox(server: ServeProcess) -> list[bytes]:
    """The emails the server's maildir outbox holds."""
    folder = server.data_dir / "outbox" / "new"
    return [p.read_bytes() for p in folder.glob("*.eml")] if folder.exists() else []


def mail_with(server: ServeProcess, text: bytes) -> bytes:
    """The one delivered email containing `text`, waiting for the dispatcher to write it."""
    wait_for(lambda: any(text in m for m in outbox(server)), 20, f"an email with {text!r}")
    (found,) = [m for m in outbox(server) if text in m]
    return found


def mail_parts(mail: bytes) -> dict[str, object]:
    """The decoded text and the attachment names of an email, by part."""
    parsed = email.message_from_bytes(mail, policy=email.policy.default)
    text = [
        p.get_content()
        for p in parsed.walk()
        if p.get_content_type() == "text/plain" and not p.get_filename()
    ]
    names = [p.get_filename() for p in parsed.walk() if p.get_filename()]
    return {"subject": str(parsed["subject"]), "text": "".join(text), "attachments": names}


class Aborted(Exception):
    """Raised by a progress callback to abort a transfer."""


class Recorder:
    """A progress callback remembering every call, optionally failing past a byte count.

    Aborting with a BaseException (KeyboardInterrupt) must not hang an upload either.
    """

    def __init__(self, fail_after: int | None = None, abort: type[BaseException] = Aborted):
        self.calls: list[tuple[int, int | None]] = []
        self.fail_after = fail_after
        self.abort = abort

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))
        if self.fail_after is not None and done > self.fail_after:
            raise self.abort(f"stopped at {done} bytes")


def assert_progress(recorder: Recorder, total: int) -> None:
    """Progress starts at 0, only grows, and ends at the total, which every call carries."""
    done = [d for d, _ in recorder.calls]
    assert done[0] == 0 and done[-1] == total
    assert done == sorted(done) and len(done) > 2
    assert {t for _, t in recorder.calls} == {total}


# -- send_email ------------------------------------------------------------------------------


def test_send_email_renders_the_template_and_deduplicates(
    server: ServeProcess, client: Client
) -> None:
    """send_email sends a template with a plain-dict context (Decimals and dates included),
    tags and an attachment; the same idempotency key returns the same notification."""
    order = "o-" + secrets.token_hex(4)
    send: Email = {
        "to": "ada@example.com",
        "template": TEMPLATE,
        "context": {"order": {"id": order, "total": Decimal("19.90"), "day": dt.date(2024, 5, 1)}},
        "tags": ["orders", "receipts"],
        "idempotency_key": f"receipt-{order}",
        "attachments": [email_attachment("note.txt", b"thanks")],
    }
    notification_id = send_email(client, **send)
    assert send_email(client, **send) == notification_id
    stored = client.notifications.GetNotification(
        notify_pb.GetNotificationRequest(notification_id=notification_id)
    ).notification
    assert stored.template.template_id == TEMPLATE
    assert list(stored.tags) == ["orders", "receipts"]
    assert [a.address for a in stored.recipient.email.to] == ["ada@example.com"]
    mail = mail_parts(mail_with(server, f"Receipt {order}".encode()))
    assert mail["text"] == "Paid 19.90 on 2024-05-01."
    assert mail["attachments"] == ["note.txt"]


def test_send_email_schedules_for_later(client: Client) -> None:
    """schedule_at (an aware datetime) leaves the notification SCHEDULED for that time."""
    when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    notification_id = send_email(
        client,
        to=["bob@example.com"],
        template=TEMPLATE,
        context={"order": {"id": "later", "total": "1.00", "day": "-"}},
        schedule_at=when,
    )
    stored = client.notifications.GetNotification(
        notify_pb.GetNotificationRequest(notification_id=notification_id)
    ).notification
    assert stored.status == notification_pb2.NOTIFICATION_STATUS_SCHEDULED
    assert stored.schedule_at.ToDatetime(dt.UTC) == when


def test_send_email_refuses_bad_input_before_calling(client: Client) -> None:
    """Bad addresses, a naive schedule time and non-JSON context are INVALID_ARGUMENT field
    violations raised locally; an unknown template is the server's clear error."""
    context = {"order": {"id": "x", "total": "1", "day": "-"}}
    with pytest.raises(InvalidInput) as bad_address:
        send_email(client, to=["ada@example.com", "nobody"], template="", context=context)
    assert bad_address.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in bad_address.value.field_violations] == ["to[1]", "template"]
    with pytest.raises(InvalidInput, match="schedule_at"):
        send_email(
            client,
            to="ada@example.com",
            template=TEMPLATE,
            context=context,
            schedule_at=dt.datetime(2030, 1, 1),  # naive on purpose
        )
    with pytest.raises(ValueError, match="context"):
        send_email(client, to="ada@example.com", template=TEMPLATE, context={"x": object()})
    with pytest.raises(CentrumError) as unknown:
        send_email(client, to="ada@example.com", template="no-such-template", context=context)
    assert unknown.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
    assert not isinstance(unknown.value, InvalidInput)


# -- transfers -------------------------------------------------------------------------------


def test_file_round_trip_reports_progress(client: Client, tmp_path: Path) -> None:
    """upload_file and download_file move a multi-chunk file intact, each reporting progress
    from 0 to the size; the stored object carries the guessed type and the file's SHA-256."""
    data = os.urandom(2_500_000)
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    up = Recorder()
    stored = upload_file(
        client, BUCKET, "files/blob.bin", source, progress=up, metadata={"kind": "test"}
    )
    assert stored.size_bytes == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.content_type == "application/octet-stream"
    assert_progress(up, len(data))
    assert len(up.calls) == 4  # the start, then three chunks of at most 1 MiB

    down = Recorder()
    target = tmp_path / "copy.bin"
    fetched = download_file(client, BUCKET, "files/blob.bin", target, progress=down)
    assert target.read_bytes() == data and fetched.etag == stored.etag
    assert_progress(down, len(data))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin", "copy.bin"]


def test_upload_stream_takes_file_objects_and_chunk_iterables(client: Client) -> None:
    """A seekable file object is measured, an iterable of unknown size is spooled (oversized
    chunks split), a sized generator streams straight through; the type comes from the key."""
    text = b"hello, centrum\n" * 10_000

    def chunks() -> Iterator[bytes]:
        yield text[:5]
        yield text[5:]

    progress = Recorder()
    for key, source, size in [
        ("s/measured.txt", io.BytesIO(text), None),
        ("s/spooled.txt", chunks(), None),
        ("s/sized.txt", chunks(), len(text)),
    ]:
        stored = upload_stream(
            client, BUCKET, key, source, size=size, chunk_size=64 * 1024, progress=progress
        )
        assert (stored.size_bytes, stored.content_type) == (len(text), "text/plain"), key
        with download_stream(client, BUCKET, key) as stream:
            assert b"".join(stream) == text
    assert progress.calls[-1] == (len(text), len(text))
    with pytest.raises(InvalidInput, match="BytesIO"):
        upload_stream(client, BUCKET, "s/raw.txt", text)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="chunk_size"):
        upload_stream(client, BUCKET, "s/big.txt", io.BytesIO(text), chunk_size=5 << 20)


def test_download_stream_of_a_range(client: Client) -> None:
    """download_stream hands out the metadata first, then exactly the requested range, with
    progress counted against the range's length."""
    data = os.urandom(300_000)
    upload_stream(client, BUCKET, "r/range.bin", io.BytesIO(data))
    progress = Recorder()
    with download_stream(
        client, BUCKET, "r/range.bin", offset=1000, length=200_000, progress=progress
    ) as stream:
        assert stream.object.size_bytes == len(data)
        assert b"".join(stream) == data[1000:201_000]
    assert progress.calls[0] == (0, 200_000) and progress.calls[-1] == (200_000, 200_000)


def test_failed_download_leaves_no_partial_file(client: Client, tmp_path: Path) -> None:
    """A download that fails (missing object, or aborted midway) leaves the existing target
    untouched and no temporary file behind."""
    upload_stream(client, BUCKET, "f/big.bin", io.BytesIO(os.urandom(3_000_000)))
    target = tmp_path / "keep.bin"
    target.write_bytes(b"previous content")
    with pytest.raises(CentrumError) as missing:
        download_file(client, BUCKET, "f/missing.bin", target)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    aborting = Recorder(fail_after=100_000)
    with pytest.raises(Aborted):
        download_file(client, BUCKET, "f/big.bin", target, progress=aborting)
    assert len(aborting.calls) >= 2
    assert target.read_bytes() == b"previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.bin"]
    fresh = tmp_path / "fresh.bin"
    with pytest.raises(Aborted):
        download_file(client, BUCKET, "f/big.bin", fresh, progress=Recorder(fail_after=1))
    assert not fresh.exists() and [p.name for p in tmp_path.iterdir()] == ["keep.bin"]


def test_aborted_upload_raises_the_cause_and_stores_nothing(client: Client) -> None:
    """An upload whose source (here, its progress callback) fails raises that exception, even a
    KeyboardInterrupt, and leaves no object at the key."""
    for abort in (Aborted, KeyboardInterrupt):
        with pytest.raises(abort):
            upload_stream(
                client,
                BUCKET,
                "a/aborted.bin",
                io.BytesIO(os.urandom(3_000_000)),
                progress=Recorder(fail_after=1, abort=abort),
            )
    with pytest.raises(CentrumError) as missing:
        client.storage.StatObject(storage_pb.StatObjectRequest(bucket=BUCKET, key="a/aborted.bin"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


# -- audit_transaction -----------------------------------------------------------------------


def test_audit_transaction_is_appended_proven_and_idempotent(client: Client) -> None:
    """audit_transaction logs the financial block exactly, returns a receipt whose inclusion was
    verified against a signed checkpoint, and answers a repeat with the same entry."""
    verifier = pin_log_verifier(client)
    transaction = "t-" + secrets.token_hex(4)
    payment: Transaction = {
        "transaction_id": transaction,
        "amount": Decimal("1234.50"),
        "currency": "eur",
        "debit_account": "customer:ada",
        "credit_account": "revenue:shop",
        "reference": "Order 42",
        "metadata": {"order_id": "42", "lines": 3},
    }
    receipt = audit_transaction(client, verifier=verifier, **payment)
    assert receipt.verified and receipt.checkpoint is not None
    assert receipt.checkpoint.tree_size > receipt.index and not receipt.deduplicated
    assert verifier.latest == receipt.checkpoint
    entry = client.audit.GetEntry(audit_pb.GetEntryRequest(index=receipt.index)).entry
    assert entry.event.category == "financial" and entry.event.event_id == receipt.event_id
    assert entry.event.financial == audit_pb2.Financial(
        transaction_id=transaction,
        amount="1234.50",
        currency="EUR",
        from_account="customer:ada",
        to_account="revenue:shop",
        reason="Order 42",
    )
    assert entry.event.details.fields["lines"].number_value == 3
    repeat: Transaction = {**payment, "amount": "1234.50"}
    again = audit_transaction(client, verifier=verifier, **repeat)
    assert again.deduplicated and (again.index, again.event_id) == (receipt.index, receipt.event_id)
    refund: Transaction = {
        **payment,
        "amount": "-1234.50",
        "debit_account": "revenue:shop",
        "credit_account": "customer:ada",
        "action": "refund",
    }
    unverified = audit_transaction(client, verify=False, **refund)
    assert not unverified.verified and unverified.index != receipt.index


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"currency": "EURO"}, "currency"),
        ({"currency": "E1R"}, "currency"),
        ({"amount": 0}, "amount"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "12,50"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"credit_account": "customer:ada"}, "credit_account"),
        ({"transaction_id": " "}, "transaction_id"),
        ({"action": "Payment Refund"}, "action"),
    ],
)
def test_audit_transaction_refuses_bad_input(
    client: Client, arguments: dict[str, object], field: str
) -> None:
    """Bad currencies, zero or inexact amounts, one account on both sides and malformed names
    are refused locally, naming the field."""
    valid: Transaction = {
        "transaction_id": "t-bad",
        "amount": "1.00",
        "currency": "EUR",
        "debit_account": "customer:ada",
        "credit_account": "revenue:shop",
    }
    with pytest.raises(InvalidInput) as refused:
        audit_transaction(client, **cast(Transaction, {**valid, **arguments}))
    assert [v.field for v in refused.value.field_violations] == [field]


def test_audit_transaction_rejects_a_checkpoint_it_cannot_verify(client: Client) -> None:
    """With a verifier pinned to another key, the receipt is refused with VerificationError."""
    info = client.audit.GetLogInfo(audit_pb.GetLogInfoRequest())
    stranger = LogVerifier(info.origin, [verifier_key(info.origin, secrets.token_bytes(32))])
    with pytest.raises(VerificationError):
        audit_transaction(
            client,
            transaction_id="t-" + secrets.token_hex(4),
            amount="5",
            currency="USD",
            debit_account="a",
            credit_account="b",
            verifier=stranger,
        )


# -- asyncio twins ---------------------------------------------------------------------------


async def test_async_twins(server: ServeProcess, token_mint: TokenMint, tmp_path: Path) -> None:
    """The asyncio helpers send, transfer (an aborted upload raising its cause) and audit like
    the synchronous ones."""
    data = os.urandom(1_500_000)
    source = tmp_path / "a.bin"
    source.write_bytes(data)
    async with aio.connect(server.target, token=token(token_mint)) as client:
        order = "async-" + secrets.token_hex(3)
        notification_id = await send_email_async(
            client,
            to="ada@example.com",
            template=TEMPLATE,
            context={"order": {"id": order, "total": "2.00", "day": "today"}},
        )
        assert notification_id
        progress = Recorder()
        stored = await upload_file_async(client, BUCKET, "async/a.bin", source, progress=progress)
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert_progress(progress, len(data))
        with pytest.raises(Aborted):
            await upload_file_async(
                client, BUCKET, "async/aborted.bin", source, progress=Recorder(fail_after=1)
            )
        target = tmp_path / "b.bin"
        await download_file_async(client, BUCKET, "async/a.bin", target)
        assert target.read_bytes() == data
        with pytest.raises(CentrumError) as missing:
            await download_file_async(client, BUCKET, "async/none.bin", tmp_path / "none.bin")
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        receipt = await audit_transaction_async(
            client,
            transaction_id="t-" + secrets.token_hex(4),
            amount=Decimal("7.25"),
            currency="CHF",
            debit_account="a",
            credit_account="b",
        )
        assert receipt.verified
    await asyncio.to_thread(mail_with, server, f"Receipt {order}".encode())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin"]
