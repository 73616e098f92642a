"""An "orders" service built on the Centrum SDK alone, end to end.

Placing an order authenticates with OAuth2 client credentials, reads a feature flag, stores an
invoice PDF, records the payment as a proof-verified audited financial transaction and sends a
confirmation email through a template. `orders.cli` is the command line, `orders.service` the
calls, `orders.invoice` the PDF and `orders.provision` what an operator sets up once.
"""

from orders.service import Order, OrderService

__all__ = ["Order", "OrderService"]
