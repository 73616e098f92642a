"""One verifier over all credential kinds: bearer JWT first, then API key, then mTLS."""

from __future__ import annotations

from centrum.interceptors.auth import Credentials, Verifier
from centrum.interceptors.context import Principal
from centrum.interceptors.errors import Unauthenticated

__all__ = ["CredentialVerifier"]


class CredentialVerifier:
    """Dispatches each credential kind to its verifier; a kind without one is refused."""

    def __init__(
        self,
        *,
        jwt: Verifier | None = None,
        api_key: Verifier | None = None,
        mtls: Verifier | None = None,
    ) -> None:
        self._jwt = jwt
        self._api_key = api_key
        self._mtls = mtls

    async def verify(self, credentials: Credentials) -> Principal:
        """Verifies the strongest credential presented."""
        if credentials.bearer_token is not None:
            return await _required(self._jwt, "bearer tokens").verify(credentials)
        if credentials.api_key is not None:
            return await _required(self._api_key, "API keys").verify(credentials)
        if credentials.peer_identity is not None:
            return await _required(self._mtls, "client certificates").verify(credentials)
        raise Unauthenticated("no credential presented", reason="CREDENTIAL_MISSING")


def _required(verifier: Verifier | None, kind: str) -> Verifier:
    if verifier is None:
        raise Unauthenticated(
            f"this server does not accept {kind}", reason="CREDENTIAL_KIND_NOT_ACCEPTED"
        )
    return verifier
