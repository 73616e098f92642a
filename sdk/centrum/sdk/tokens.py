"""OAuth2 client credentials: access tokens fetched from AuthService.Token, renewed before expiry.

One renewal is in flight at a time for all callers (threads with the sync source, tasks with the
async one): callers that find the token stale while another renewal runs wait for its result
instead of asking again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc

from centrum.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from centrum.sdk.errors import from_rpc_error

__all__ = ["AccessToken", "AsyncTokenSource", "ClientCredentials", "TokenSource"]


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """A service account's OAuth2 client id and secret, and the scopes to ask for."""

    client_id: str
    client_secret: str
    scopes: Sequence[str] = ()

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret=<redacted>)"

    def request(self) -> auth_service_pb2.TokenRequest:
        """The Token request for these credentials."""
        return auth_service_pb2.TokenRequest(
            client_id=self.client_id, client_secret=self.client_secret, scopes=list(self.scopes)
        )


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A bearer token and when (monotonic clock) it must be renewed."""

    value: str
    renew_at: float


def _accept(response: auth_service_pb2.TokenResponse, now: float, margin_s: float) -> AccessToken:
    lifetime = response.tokens.expires_in.ToNanoseconds() / 1e9
    # Renew after half the lifetime or `margin_s` before the end, whichever comes first.
    return AccessToken(
        response.tokens.access_token, now + max(0.0, min(lifetime / 2, lifetime - margin_s))
    )


class TokenSource:
    """Thread-safe access tokens for the synchronous client."""

    def __init__(
        self,
        credentials: ClientCredentials,
        channel: grpc.Channel,
        *,
        margin_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        self._margin_s = margin_s
        self._clock = clock
        self._current: AccessToken | None = None
        self._lock = threading.Lock()
        self.fetches = 0
        """How many tokens were fetched (one per renewal)."""

    def token(self) -> str:
        """A valid access token, fetching a new one when the current one is due for renewal."""
        current = self._current
        if current is not None and self._clock() < current.renew_at:
            return current.value
        with self._lock:
            current = self._current
            if current is None or self._clock() >= current.renew_at:
                try:
                    response = self._stub.Token(self._credentials.request(), timeout=10)
                except grpc.RpcError as error:
                    raise from_rpc_error(error) from None
                self.fetches += 1
                current = self._current = _accept(response, self._clock(), self._margin_s)
            return current.value


class AsyncTokenSource:
    """Task-safe access tokens for the asyncio client."""

    def __init__(
        self,
        credentials: ClientCredentials,
        fetch: Callable[[auth_service_pb2.TokenRequest], Awaitable[auth_service_pb2.TokenResponse]],
        *,
        margin_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = credentials
        self._fetch = fetch
        self._margin_s = margin_s
        self._clock = clock
        self._current: AccessToken | None = None
        self._renewal: asyncio.Task[AccessToken] | None = None
        self.fetches = 0
        """How many tokens were fetched (one per renewal)."""

    async def token(self) -> str:
        """A valid access token; concurrent callers share one renewal."""
        current = self._current
        if current is not None and self._clock() < current.renew_at:
            return current.value
        if self._renewal is None or self._renewal.done():
            self._renewal = asyncio.ensure_future(self._renew())
        return (await asyncio.shield(self._renewal)).value

    async def _renew(self) -> AccessToken:
        try:
            response = await self._fetch(self._credentials.request())
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        self.fetches += 1
        self._current = _accept(response, self._clock(), self._margin_s)
        return self._current
