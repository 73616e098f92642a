"""Centrum's Python SDK: typed stubs for every service behind one `connect` call.

    from centrum import sdk

    with sdk.connect("127.0.0.1:50051", token=access_token) as client:
        value = client.config.GetValue(GetValueRequest(environment="prod", key="checkout.limit"))

`centrum.sdk.aio.connect` is the asyncio twin. Failed calls raise `CentrumError` with the
parsed `google.rpc` details; deadlines and retries follow each RPC's policy in the contract;
`client_credentials=ClientCredentials(...)` keeps an OAuth2 access token fresh, and
`breaker=CircuitBreaker(...)` fails calls fast while the server is unhealthy. The generated
modules (`centrum.<svc>.v1`) hold the messages; this package adds the connection, the
credentials and the stub per service.

Helpers for what teams do most, each a thin layer over the stubs (asyncio twins in the same
modules): `send_email` (`centrum.sdk.notify`); `upload_file`, `upload_stream`, `download_file`,
`download_stream` with progress callbacks (`centrum.sdk.transfer`); `audit_transaction`, a
proof-verified financial audit event (`centrum.sdk.ledger`).
"""

from centrum.sdk._client import Client, connect
from centrum.sdk._credentials import CallCredentials, tls_from_files
from centrum.sdk._inputs import InvalidInput
from centrum.sdk.breaker import BreakerState, CircuitBreaker
from centrum.sdk.errors import CentrumError, FieldViolation, from_rpc_error
from centrum.sdk.ledger import TransactionReceipt, audit_transaction, pin_log_verifier
from centrum.sdk.notify import send_email
from centrum.sdk.tokens import ClientCredentials
from centrum.sdk.transfer import download_file, download_stream, upload_file, upload_stream

__all__ = [
    "BreakerState",
    "CallCredentials",
    "CentrumError",
    "CircuitBreaker",
    "Client",
    "ClientCredentials",
    "FieldViolation",
    "InvalidInput",
    "TransactionReceipt",
    "audit_transaction",
    "connect",
    "download_file",
    "download_stream",
    "from_rpc_error",
    "pin_log_verifier",
    "send_email",
    "tls_from_files",
    "upload_file",
    "upload_stream",
]
