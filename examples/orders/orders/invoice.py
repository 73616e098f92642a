"""The invoice document: a one-page PDF written by hand, so the example needs no PDF library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Invoice", "render_pdf"]


@dataclass(frozen=True)
class Invoice:
    """What an invoice states: its order, customer, amount and currency."""

    order_id: str
    customer_email: str
    amount: Decimal
    currency: str
    description: str = "Order"


def _text(value: str) -> bytes:
    """A PDF literal string: latin-1 (unknown characters as `?`) with `\\`, `(`, `)` escaped."""
    raw = value.encode("latin-1", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _page(lines: Sequence[str]) -> bytes:
    shown = b" T*\n".join(_text(line) + b" Tj" for line in lines)
    return b"BT\n/F1 12 Tf\n16 TL\n72 770 Td\n" + shown + b"\nET\n"


def render_pdf(invoice: Invoice) -> bytes:
    """The invoice as a valid single-page PDF 1.4 (Helvetica text, exact cross-reference table)."""
    content = _page(
        [
            f"Invoice for order {invoice.order_id}",
            "",
            f"Customer: {invoice.customer_email}",
            f"{invoice.description}: {invoice.amount} {invoice.currency}",
            "",
            "Thank you for your order.",
        ]
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Title " + _text(f"Invoice {invoice.order_id}") + b" /Producer (centrum orders) >>",
    ]
    # The binary comment line tells transfer tools the file is binary.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (
        len(objects) + 1,
        len(objects),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
