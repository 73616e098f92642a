"""Centrum's Python SDK: typed stubs for every service behind one `connect` call.

    from centrum import sdk

    with sdk.connect("127.0.0.1:50051", token=access_token) as client:
        value = client.config.GetValue(GetValueRequest(environment="prod", key="checkout.limit"))

`centrum.sdk.aio.connect` is the asyncio twin. Failed calls raise `CentrumError` with the
parsed `google.rpc` details; deadlines and retries follow each RPC's policy in the contract;
`client_credentials=ClientCredentials(...)` keeps an OAuth2 access token fresh. The generated
modules (`centrum.<svc>.v1`) hold the messages; this package adds the connection, the
credentials and the stub per service.
"""

from centrum.sdk._client import Client, connect
from centrum.sdk._credentials import CallCredentials, tls_from_files
from centrum.sdk.errors import CentrumError, FieldViolation, from_rpc_error
from centrum.sdk.tokens import ClientCredentials

__all__ = [
    "CallCredentials",
    "CentrumError",
    "Client",
    "ClientCredentials",
    "FieldViolation",
    "connect",
    "from_rpc_error",
    "tls_from_files",
]
