"""examples/orders end to end: installed with only the SDK, run against a `centrum serve`."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from test_sdk_package import SDK_DISTRIBUTIONS, installed_distributions, sdk_virtualenv

from centrum.audit.v1 import audit_service_pb2 as audit_pb
from centrum.config.v1 import flag_service_pb2 as flag_pb
from centrum.sdk import CentrumError, Client, ClientCredentials, connect, download_stream
from centrum.sdk.audit import LogVerifier
from centrum.storage.v1 import storage_service_pb2 as storage_pb
from harness.backends import wait_for
from harness.centrum import ROOT, ServeProcess, bootstrap_credentials, run

pytestmark = pytest.mark.slow

FLAG = "orders.attach-invoice"


@dataclass
class Orders:
    """The example installed in its own venv, pointed at one server."""

    python: Path
    server: ServeProcess
    workdir: Path
    credentials: dict[str, str]

    def run(self, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Runs `python -m orders ...` in the example's venv; returns (exit code, out, err)."""
        result = run(
            [str(self.python), "-m", "orders", *argv],
            cwd=self.workdir,
            env={
                "PATH": os.environ["PATH"],
                "CENTRUM_TARGET": self.server.target,
                "ORDERS_CLIENT_ID": self.credentials.get("client_id", ""),
                "ORDERS_CLIENT_SECRET": self.credentials.get("client_secret", ""),
                **(env or {}),
            },
        )
        return result.returncode, result.stdout, result.stderr

    def place(self, order_id: str, amount: str = "19.90", **options: str) -> dict[str, object]:
        """Places an order that must succeed; returns the printed summary."""
        argv = ["--order-id", order_id, "--amount", amount, "--email", "ada@example.com"]
        for name, value in {"currency": "EUR", **options}.items():
            argv += [f"--{name.replace('_', '-')}", value]
        code, out, err = self.run("place", *argv)
        assert code == 0, err
        summary: dict[str, object] = json.loads(out)
        return summary


def bootstrap_admin(server: ServeProcess) -> ClientCredentials:
    """The admin credentials the server wrote on its first start."""
    values = bootstrap_credentials(server.data_dir)
    return ClientCredentials(values["client_id"], values["client_secret"])


@pytest.fixture
def admin(server: ServeProcess) -> Iterator[Client]:
    """The operator's SDK client (bootstrap admin, client credentials)."""
    with connect(server.target, client_credentials=bootstrap_admin(server)) as client:
        yield client


@pytest.fixture
def server(serve_process: Callable[..., ServeProcess]) -> ServeProcess:
    """A plain `centrum serve` subprocess on the embedded defaults."""
    return serve_process()


@pytest.fixture(scope="module")
def example_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv holding only ./sdk and ./examples/orders."""
    env_dir = tmp_path_factory.mktemp("orders") / "venv"
    return sdk_virtualenv(env_dir, ROOT / "examples" / "orders")


@pytest.fixture
def orders(tmp_path: Path, server: ServeProcess, example_python: Path) -> Orders:
    """The example set up by an operator through `orders setup` with the bootstrap admin's
    credentials."""
    python = example_python
    workdir = tmp_path / "work"
    workdir.mkdir()
    example = Orders(python, server, workdir, {})
    admin = bootstrap_admin(server)
    code, out, err = example.run(
        "setup",
        env={
            "CENTRUM_ADMIN_CLIENT_ID": admin.client_id,
            "CENTRUM_ADMIN_CLIENT_SECRET": admin.client_secret,
        },
    )
    assert code == 0, err
    example.credentials = json.loads(out)
    return example


def emails(server: ServeProcess) -> dict[str, email.message.EmailMessage]:
    """The delivered emails of the maildir outbox, by subject."""
    folder = server.data_dir / "outbox" / "new"
    found: dict[str, email.message.EmailMessage] = {}
    for path in folder.glob("*.eml") if folder.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found[str(message["subject"])] = message
    return found


def delivered(server: ServeProcess, subject: str) -> email.message.EmailMessage:
    """The email with `subject`, once the dispatcher wrote it."""
    wait_for(lambda: subject in emails(server), 30, f"the email {subject!r}")
    return emails(server)[subject]


def body_and_attachments(message: email.message.EmailMessage) -> tuple[str, dict[str, bytes]]:
    """The plain-text body and the attachments (by file name) of an email."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    attachments = {str(p.get_filename()): p.get_content() for p in message.iter_attachments()}
    return str(body.get_content()), attachments


def assert_valid_pdf(data: bytes) -> None:
    """A PDF whose cross-reference table points at each of its objects."""
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    start = int(re.findall(rb"startxref\n(\d+)", data)[-1])
    assert data[start:].startswith(b"xref\n")
    count = int(data[start:].split(b"\n")[1].split()[1])
    entries = data[start:].split(b"\n")[2 : 2 + count]
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry.split()[0])
        assert data[offset:].startswith(b"%d 0 obj" % number), number


def test_orders_example_end_to_end(orders: Orders, admin: Client, tmp_path: Path) -> None:
    """With the flag on, an order stores a valid invoice PDF, logs a verifiable audited
    transaction and sends a confirmation with the invoice attached; switched off, the next
    order's email only names the invoice. The venv holds nothing but the SDK and the example."""
    extra = installed_distributions(orders.python) - SDK_DISTRIBUTIONS
    assert extra == {"centrum-orders-example"}

    state = tmp_path / "audit-state.json"
    first = orders.place("o-1001", audit_state=str(state))
    assert first["flags"] == {FLAG: True}
    invoice = first["invoice"]
    assert isinstance(invoice, dict) and invoice["key"] == "o-1001/invoice.pdf"
    with download_stream(admin, "invoices", "o-1001/invoice.pdf") as stream:
        pdf = b"".join(stream)
        assert stream.object.content_type == "application/pdf"
        assert stream.object.sha256 == invoice["sha256"]
    assert_valid_pdf(pdf)
    assert b"(Invoice for order o-1001)" in pdf and b"19.90 EUR" in pdf

    audit = first["audit"]
    assert isinstance(audit, dict) and audit["verified"] is True
    info = admin.audit.GetLogInfo(audit_pb.GetLogInfoRequest())
    verifier = LogVerifier(info.origin, [k.verifier_key for k in info.public_keys])
    checkpoint = admin.audit.GetCheckpoint(audit_pb.GetCheckpointRequest()).checkpoint
    verifier.advance(checkpoint.note, [])
    fetched = admin.audit.GetEntry(
        audit_pb.GetEntryRequest(
            index=int(audit["index"]),
            include_leaf_value=True,
            include_inclusion_proof=True,
            tree_size=checkpoint.tree_size,
        )
    )
    verifier.verify_entry(fetched.entry, fetched.inclusion_proof)
    money = fetched.entry.event.financial
    assert (money.transaction_id, money.amount, money.currency) == ("o-1001", "19.90", "EUR")
    assert (money.from_account, money.to_account) == (
        "customer:ada@example.com",
        "revenue:orders:EUR",
    )
    assert json.loads(state.read_text())["note"]

    text, attachments = body_and_attachments(delivered(orders.server, "Your order o-1001"))
    assert "order o-1001 of 19.90 EUR" in text and "Your invoice is attached." in text
    assert attachments == {"invoice-o-1001.pdf": pdf}

    flag = admin.flags.GetFlag(flag_pb.GetFlagRequest(environment="production", key=FLAG)).flag
    flag.enabled = False
    admin.flags.SetFlag(flag_pb.SetFlagRequest(environment="production", key=FLAG, flag=flag))
    second = orders.place("o-1002", amount="5", currency="usd", audit_state=str(state))
    assert second["flags"] == {FLAG: False}
    second_audit = second["audit"]
    assert isinstance(second_audit, dict) and second_audit["index"] > audit["index"]
    text, attachments = body_and_attachments(delivered(orders.server, "Your order o-1002"))
    assert "of 5 USD" in text and "stored as o-1002/invoice.pdf" in text
    assert attachments == {}


def test_orders_example_refuses_bad_orders_and_credentials(orders: Orders, admin: Client) -> None:
    """A bad currency is exit code 2 with one line naming the field and stores nothing; a
    wrong client secret is exit code 1 with the server's reason, never a traceback."""
    code, out, err = orders.run(
        "place", "--order-id", "o-bad", "--amount", "1", "--currency", "EURO", "--email", "a@b.c"
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "currency" in err and "Traceback" not in err
    with pytest.raises(CentrumError) as missing:
        admin.storage.StatObject(
            storage_pb.StatObjectRequest(bucket="invoices", key="o-bad/invoice.pdf")
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    code, out, err = orders.run(
        "place",
        *("--order-id", "o-2", "--amount", "1", "--currency", "EUR", "--email", "a@b.c"),
        env={"ORDERS_CLIENT_SECRET": "wrong"},
    )
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "UNAUTHENTICATED" in err and "Traceback" not in err
