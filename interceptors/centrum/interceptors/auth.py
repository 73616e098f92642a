"""The auth step: who is calling, and may they call this RPC?

Credentials come from the call's metadata (`authorization: Bearer <JWT>`, `x-api-key`) or from
the TLS peer certificate. A `Verifier` turns them into a `Principal` (no network call per request:
verifiers cache what they verified), which goes into a contextvar for the servicer. The RPC's
scopes are then checked against the principal's. The step runs only for RPCs whose policy is not
public; that choice is the chain's selector, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from centrum.interceptors.chain import Call, ServicerContext
from centrum.interceptors.context import Principal, set_principal
from centrum.interceptors.errors import PermissionDenied, Unauthenticated
from centrum.interceptors.step import Step

__all__ = ["AuthStep", "Credentials", "Verifier", "credentials_of"]

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a call presented to prove who it is."""

    bearer_token: str | None = None
    api_key: str | None = None
    peer_identity: str | None = None
    """The identity of a verified TLS client certificate: its SPIFFE ID, else its first SAN,
    else its CN."""

    @property
    def empty(self) -> bool:
        """Tells whether the call presented nothing."""
        return not (self.bearer_token or self.api_key or self.peer_identity)


class Verifier(Protocol):
    """Turns credentials into a principal, or raises Unauthenticated."""

    async def verify(self, credentials: Credentials) -> Principal:
        """Returns the principal the credentials prove; raises Unauthenticated otherwise."""
        ...


def credentials_of(call: Call, *, client_certificates: bool = False) -> Credentials:
    """Reads the credentials of a call from its metadata and, with mTLS on, its TLS peer."""
    bearer = None
    authorization = call.metadata.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "the authorization header must be 'Bearer <token>'", reason="CREDENTIAL_MALFORMED"
            )
        bearer = token.strip()
    return Credentials(
        bearer_token=bearer,
        api_key=call.metadata.get(API_KEY_HEADER),
        peer_identity=_peer_identity(call.context) if client_certificates else None,
    )


def _peer_identity(context: ServicerContext) -> str | None:
    auth_context = context.auth_context()
    if not auth_context or b"ssl" not in auth_context.get("transport_security_type", ()):
        return None
    names = [bytes(v).decode() for v in auth_context.get("x509_subject_alternative_name", ())]
    # A workload's SPIFFE ID names it wherever it sits in the certificate; DNS names beside it
    # name hosts, which many workloads share.
    spiffe = [name for name in names if name.startswith("spiffe://")]
    common_names = [bytes(v).decode() for v in auth_context.get("x509_common_name", ())]
    chosen = spiffe or names or common_names
    return chosen[0] if chosen else None


class AuthStep(Step):
    """Authenticates the caller and checks the RPC's scopes."""

    def __init__(self, verifier: Verifier, *, client_certificates: bool = False) -> None:
        self._verifier = verifier
        self._client_certificates = client_certificates

    async def before(self, call: Call) -> None:
        """Verifies the credential, then the scopes; sets the principal of the call."""
        credentials = credentials_of(call, client_certificates=self._client_certificates)
        if credentials.empty:
            raise Unauthenticated(
                "this RPC needs a credential: 'authorization: Bearer <token>' or 'x-api-key'",
                reason="CREDENTIAL_MISSING",
            )
        principal = await self._verifier.verify(credentials)
        call.principal = principal
        set_principal(principal)
        for scope in call.policy.scopes:
            if not principal.has_scope(scope):
                raise PermissionDenied(
                    f"the credential lacks the scope {scope!r}",
                    reason="MISSING_SCOPE",
                    info={"scope": scope, "method": call.policy.method},
                )
