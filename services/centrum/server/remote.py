"""Services this process does not run, reached through the SDK like any other client would.

A process started with `services` leaving out Auth verifies tokens with the public keys of a
remote Auth service (`RemoteKeySource`, AuthService.GetJwks); one leaving out Audit ships the
chain's audit events to a remote Audit service (`RemoteAuditStore`, AuditService.AppendBatch)
from its local write-ahead spool, so an outage of the remote delays events but loses none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.auth.v1 import auth_service_pb2
from centrum.sdk import ClientCredentials, aio, tls_from_files
from centrum.server.settings import RemoteSettings

__all__ = [
    "MAX_BYTES_PER_CALL",
    "MAX_EVENTS_PER_CALL",
    "RemoteAuditStore",
    "RemoteKeySource",
    "calls_of",
    "open_remote",
]


def open_remote(settings: RemoteSettings, target: str, *, authenticated: bool) -> aio.AsyncClient:
    """An SDK client of the remote at `target`, with the relay credentials when `authenticated`."""
    tls = None
    if settings.tls_ca_file or settings.tls_cert_file:
        tls = tls_from_files(settings.tls_ca_file, settings.tls_cert_file, settings.tls_key_file)
    credentials = None
    if authenticated and settings.client_id and settings.client_secret:
        credentials = ClientCredentials(
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
        )
    # Tokens come from the Auth that the remote trusts: remote.auth when this process verifies
    # tokens remotely too (one central Auth), else the remote itself.
    return aio.connect(
        target, tls=tls, client_credentials=credentials, token_target=settings.auth or target
    )


class RemoteKeySource:
    """The chain's KeySource for a process without Auth: the remote Auth service's JWKS."""

    def __init__(self, client: aio.AsyncClient, *, timeout_s: float = 5.0) -> None:
        self._client = client
        self._timeout_s = timeout_s

    async def fetch_jwks(self) -> Sequence[Mapping[str, Any]]:
        """Fetches the public keys now; a failure propagates, so the verifier keeps its cache."""
        response = await self._client.auth.GetJwks(
            auth_service_pb2.GetJwksRequest(), timeout=self._timeout_s
        )
        keys: list[Mapping[str, Any]] = json.loads(response.json)["keys"]
        return keys


MAX_EVENTS_PER_CALL = 500
"""Events per AppendBatch call: below the Audit service's default `max_batch_size` (1,000)."""
MAX_BYTES_PER_CALL = 4 * 1024 * 1024
"""Serialized event bytes per AppendBatch call: half the server's 8 MiB message limit."""


def calls_of(
    records: Sequence[bytes],
    max_events: int = MAX_EVENTS_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> list[Sequence[bytes]]:
    """Splits records, in order, into the AppendBatch calls that carry them."""
    calls: list[Sequence[bytes]] = []
    start, size = 0, 0
    for end, record in enumerate(records):
        if end > start and (end - start == max_events or size + len(record) > max_bytes):
            calls.append(records[start:end])
            start, size = end, 0
        size += len(record)
    if start < len(records):
        calls.append(records[start:])
    return calls


class RemoteAuditStore:
    """The audit pipeline's AuditStore for a process without Audit: AppendBatch on a remote.

    A batch of the pipeline may need several calls. Events carry their own ids and the remote
    stores an id once, so a batch resent whole after a failure part way (or after a timeout the
    remote had in fact committed) logs nothing twice: all or nothing, as the pipeline expects.
    """

    def __init__(self, client: aio.AsyncClient, *, timeout_s: float = 10.0) -> None:
        self._client = client
        self._timeout_s = timeout_s

    async def append_batch(self, records: Sequence[bytes]) -> None:
        """Appends the serialized events in order; raises if they were not all appended."""
        for call in calls_of(records):
            events = [audit_pb2.AuditEvent.FromString(record) for record in call]
            await self._client.audit.AppendBatch(
                audit_service_pb2.AppendBatchRequest(events=events), timeout=self._timeout_s
            )
