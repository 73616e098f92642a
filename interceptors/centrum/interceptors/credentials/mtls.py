"""Client-certificate identities: a verified TLS peer mapped to a Centrum principal."""

from __future__ import annotations

from typing import Protocol

from centrum.interceptors.auth import Credentials
from centrum.interceptors.context import Principal
from centrum.interceptors.errors import Unauthenticated

__all__ = ["IdentityLookup", "MtlsVerifier"]


class IdentityLookup(Protocol):
    """Maps a certificate identity (SAN or CN) to a principal."""

    async def principal_for_identity(self, identity: str) -> Principal | None:
        """Returns the principal registered for the identity, or None."""
        ...


class MtlsVerifier:
    """Verifies callers by the certificate the TLS layer already validated against the CA."""

    def __init__(self, lookup: IdentityLookup) -> None:
        self._lookup = lookup

    async def verify(self, credentials: Credentials) -> Principal:
        """Returns the principal registered for the peer's certificate identity."""
        identity = credentials.peer_identity or ""
        principal = await self._lookup.principal_for_identity(identity)
        if principal is None:
            raise Unauthenticated(
                "the client certificate is not registered", reason="CERTIFICATE_UNKNOWN"
            )
        return principal
