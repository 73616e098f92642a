"""Placing an order: every Centrum call the orders service makes, through the SDK helpers only."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from centrum import sdk
from centrum.config.v1 import flag_service_pb2
from centrum.sdk.ledger import transaction_event
from centrum.sdk.notify import email_attachment
from orders.invoice import Invoice, render_pdf

__all__ = [
    "ATTACH_INVOICE_FLAG",
    "BUCKET",
    "CONFIRMATION_TEMPLATE",
    "Order",
    "OrderService",
    "revenue_account",
]

ATTACH_INVOICE_FLAG = "orders.attach-invoice"
"""Bool flag: attach the invoice PDF to the confirmation email (off: the email only names it)."""
BUCKET = "invoices"
"""The bucket holding the invoice PDFs."""
CONFIRMATION_TEMPLATE = "order-confirmation"
"""The email template of order confirmations."""


def revenue_account(currency: str) -> str:
    """The ledger account an order's amount is credited to."""
    return f"revenue:orders:{currency.upper()}"


@dataclass(frozen=True)
class Order:
    """An order as the customer placed it."""

    order_id: str
    email: str
    amount: Decimal
    currency: str

    @property
    def invoice_key(self) -> str:
        """The key of the order's invoice PDF in `BUCKET`."""
        return f"{self.order_id}/invoice.pdf"


class OrderService:
    """Places orders against one Centrum connection, in one feature-flag environment."""

    def __init__(
        self,
        client: sdk.Client,
        *,
        environment: str = "production",
        audit_state: Path | None = None,
    ) -> None:
        self._client = client
        self._environment = environment
        self._audit_state = audit_state

    def attach_invoice(self, order: Order) -> bool:
        """Evaluates ATTACH_INVOICE_FLAG for the order; a missing flag means off."""
        context = flag_service_pb2.EvaluationContext(targeting_key=order.order_id)
        context.attributes.update({"currency": order.currency.upper()})
        response: flag_service_pb2.EvaluateFlagResponse = self._client.flags.EvaluateFlag(
            flag_service_pb2.EvaluateFlagRequest(
                environment=self._environment,
                flag_key=ATTACH_INVOICE_FLAG,
                context=context,
                expected_type=flag_service_pb2.VARIANT_TYPE_BOOL,
            )
        )
        value = response.result.value
        return value.WhichOneof("kind") == "bool_value" and value.bool_value

    def place(self, order: Order) -> dict[str, Any]:
        """Stores the invoice, records the payment in the audit log, then confirms by email.

        The arguments are checked before anything is stored (an `sdk.InvalidInput` otherwise).
        Returns a JSON-ready summary of what was done.
        """
        debit, credit = f"customer:{order.email}", revenue_account(order.currency)
        transaction_event(  # validates amount, currency and accounts before any side effect
            transaction_id=order.order_id,
            amount=order.amount,
            currency=order.currency,
            debit_account=debit,
            credit_account=credit,
        )
        attach = self.attach_invoice(order)
        pdf = render_pdf(Invoice(order.order_id, order.email, order.amount, order.currency))
        stored = sdk.upload_stream(
            self._client,
            BUCKET,
            order.invoice_key,
            io.BytesIO(pdf),
            content_type="application/pdf",
            metadata={"order-id": order.order_id},
        )
        verifier = sdk.pin_log_verifier(self._client, state_file=self._audit_state)
        receipt = sdk.audit_transaction(
            self._client,
            transaction_id=order.order_id,
            amount=order.amount,
            currency=order.currency,
            debit_account=debit,
            credit_account=credit,
            reference=f"Order {order.order_id}",
            metadata={"invoice": {"bucket": BUCKET, "key": order.invoice_key}},
            verifier=verifier,
        )
        attachments = [email_attachment(f"invoice-{order.order_id}.pdf", pdf)] if attach else []
        notification_id = sdk.send_email(
            self._client,
            to=order.email,
            template=CONFIRMATION_TEMPLATE,
            context={
                "order": {
                    "id": order.order_id,
                    "amount": order.amount,
                    "currency": order.currency.upper(),
                },
                "invoice": {"key": order.invoice_key, "attached": attach},
            },
            tags=["orders"],
            idempotency_key=f"order-confirmation-{order.order_id}",
            attachments=attachments,
        )
        assert receipt.checkpoint is not None
        return {
            "order_id": order.order_id,
            "flags": {ATTACH_INVOICE_FLAG: attach},
            "invoice": {
                "bucket": BUCKET,
                "key": order.invoice_key,
                "etag": stored.etag,
                "sha256": stored.sha256,
                "size_bytes": stored.size_bytes,
            },
            "audit": {
                "event_id": receipt.event_id,
                "index": receipt.index,
                "deduplicated": receipt.deduplicated,
                "verified": receipt.verified,
                "tree_size": receipt.checkpoint.tree_size,
                "root_hash": receipt.checkpoint.root_hash.hex(),
            },
            "email": {"notification_id": notification_id, "invoice_attached": attach},
        }
