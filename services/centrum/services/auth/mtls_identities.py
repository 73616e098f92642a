"""Client certificate identities bound to service accounts: the chain's `IdentityLookup`.

With mutual TLS on, the TLS layer has already checked the client certificate against the
server's client CA; the auth step then asks this lookup which service account the certificate's
identity (its SPIFFE URI SAN, else its subject CN) is bound to. The caller is that service account
with its roles' scopes, exactly as if it had presented one of its access tokens. A disabled or
deleted account, or an unbound identity, is refused.
"""

from __future__ import annotations

from centrum.interceptors.context import CredentialKind, Principal
from centrum.services.auth.directory import Directory
from centrum.services.auth.guard import backend_boundary

__all__ = ["CertificateIdentities"]


class CertificateIdentities:
    """Resolves certificate identities through the directory (cached like other hot reads)."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    async def principal_for_identity(self, identity: str) -> Principal | None:
        """The service account bound to `identity` as a principal, or None."""
        if not identity:
            return None
        found = await backend_boundary(self._directory.account_for_identity)(identity)
        if found is None:
            return None
        account, scopes = found
        if account.disabled:
            return None
        return Principal(
            subject=account.id,
            tenant=account.tenant,
            scopes=frozenset(scopes),
            kind=CredentialKind.MTLS,
            credential_id=identity,
            client_id=account.client_id,
        )
