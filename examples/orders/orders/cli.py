"""The `orders` command: `setup` (as an operator, once) and `place` (as the service, per order).

    export CENTRUM_TARGET=127.0.0.1:50051
    CENTRUM_ADMIN_CLIENT_ID=... CENTRUM_ADMIN_CLIENT_SECRET=... python -m orders setup > orders.json
    ORDERS_CLIENT_ID=... ORDERS_CLIENT_SECRET=... python -m orders place \\
        --order-id o-1001 --amount 19.90 --currency EUR --email ada@example.com

Both print JSON on stdout. Exit codes: 0 done, 1 Centrum refused or failed the call, 2 bad
arguments, 3 the audit log did not verify. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import grpc

from centrum import sdk
from centrum.sdk.audit import VerificationError
from orders.provision import provision
from orders.service import Order, OrderService

__all__ = ["main"]

EXIT_FAILED, EXIT_USAGE, EXIT_UNVERIFIED = 1, 2, 3


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal amount like 19.90") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orders", description="The Centrum orders example.")
    parser.add_argument(
        "--target",
        default=os.environ.get("CENTRUM_TARGET", "127.0.0.1:50051"),
        help="Centrum's host:port (default: $CENTRUM_TARGET or 127.0.0.1:50051)",
    )
    parser.add_argument("--environment", default="production", help="feature flag environment")
    commands = parser.add_subparsers(dest="command", required=True)

    setup = commands.add_parser(
        "setup",
        help="create the role, service account, bucket, template and flag (needs an admin)",
        description="Credentials from $CENTRUM_ADMIN_CLIENT_ID and $CENTRUM_ADMIN_CLIENT_SECRET.",
    )
    setup.add_argument(
        "--no-attach-invoice",
        dest="attach_invoice",
        action="store_false",
        help="create the flag switched off",
    )

    place = commands.add_parser(
        "place",
        help="place one order",
        description="Credentials from $ORDERS_CLIENT_ID and $ORDERS_CLIENT_SECRET.",
    )
    place.add_argument("--order-id", required=True)
    place.add_argument("--amount", required=True, type=_decimal)
    place.add_argument("--currency", required=True, help="ISO 4217 code, e.g. EUR")
    place.add_argument("--email", required=True, help="the customer's email address")
    place.add_argument(
        "--audit-state",
        type=Path,
        help="file keeping the last verified audit checkpoint, checked on the next run",
    )
    return parser


def _credentials(prefix: str) -> sdk.ClientCredentials:
    client_id = os.environ.get(f"{prefix}_CLIENT_ID", "")
    secret = os.environ.get(f"{prefix}_CLIENT_SECRET", "")
    if not client_id or not secret:
        raise SystemExit(f"orders: set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET")
    return sdk.ClientCredentials(client_id, secret)


def _run(arguments: argparse.Namespace) -> dict[str, object]:
    if arguments.command == "setup":
        admin = _credentials("CENTRUM_ADMIN")
        with sdk.connect(arguments.target, client_credentials=admin) as client:
            credentials = provision(
                client, environment=arguments.environment, attach_invoice=arguments.attach_invoice
            )
        return {"client_id": credentials.client_id, "client_secret": credentials.client_secret}
    order = Order(arguments.order_id, arguments.email, arguments.amount, arguments.currency)
    with sdk.connect(arguments.target, client_credentials=_credentials("ORDERS")) as client:
        service = OrderService(
            client, environment=arguments.environment, audit_state=arguments.audit_state
        )
        return service.place(order)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    arguments = _parser().parse_args(argv)
    try:
        summary = _run(arguments)
    except sdk.InvalidInput as error:
        print(f"orders: invalid input: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except grpc.RpcError as error:  # a CentrumError, or a failed token request
        print(f"orders: {sdk.from_rpc_error(error)}", file=sys.stderr)
        return EXIT_FAILED
    except VerificationError as error:
        print(f"orders: the audit log did not verify: {error}", file=sys.stderr)
        return EXIT_UNVERIFIED
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0
