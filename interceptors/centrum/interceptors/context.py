"""Request-scoped state: the request context and the authenticated principal.

Both live in contextvars. grpc.aio runs every RPC in a task of its own, and the chain sets both
variables afresh at the start of each call, so nothing leaks from one call into the next.
Servicers read them with `current_principal()` and `current_request()`.
"""

from __future__ import annotations

import enum
from contextvars import ContextVar
from dataclasses import dataclass, field

from centrum.interceptors.errors import Unauthenticated

__all__ = [
    "ANONYMOUS",
    "CredentialKind",
    "Principal",
    "RequestInfo",
    "current_principal",
    "current_request",
    "optional_principal",
    "scope_satisfies",
]


class CredentialKind(enum.StrEnum):
    """How a principal proved who it is."""

    NONE = "none"
    JWT = "jwt"
    API_KEY = "api_key"
    MTLS = "mtls"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: subject and tenant, the scopes granted, and the credential used."""

    subject: str
    tenant: str
    scopes: frozenset[str] = frozenset()
    kind: CredentialKind = CredentialKind.NONE
    credential_id: str = ""
    """The token's `jti`, the API key id or the certificate fingerprint."""
    expires_at: float | None = None
    """Unix time after which the credential is no longer valid, when it expires."""
    client_id: str = ""
    """The OAuth2 client the token was issued to, when there is one."""

    def has_scope(self, required: str) -> bool:
        """Tells whether any scope held satisfies `required`."""
        scopes = self.scopes
        if required in scopes or "*" in scopes:
            return True
        return any(scope_satisfies(held, required) for held in scopes)


ANONYMOUS = Principal(subject="", tenant="")


def scope_satisfies(held: str, required: str) -> bool:
    """Tells whether a held scope grants `required`.

    `*` grants everything, `<area>.admin` grants every scope of its area, any other scope only
    itself.
    """
    if held == required or held == "*":
        return True
    area, _, verb = held.rpartition(".")
    return verb == "admin" and bool(area) and required.startswith(area + ".")


@dataclass(slots=True)
class RequestInfo:
    """The request context: set by the outermost step of the chain, read by every later one."""

    request_id: str
    method: str
    peer: str
    deadline_s: float | None = None
    """Seconds the caller left for the call when it arrived, or None without a deadline."""
    trace_id: str = ""
    tenant: str = ""
    extra: dict[str, str] = field(default_factory=dict)


_principal: ContextVar[Principal | None] = ContextVar("centrum_principal", default=None)
_request: ContextVar[RequestInfo | None] = ContextVar("centrum_request", default=None)


def current_principal() -> Principal:
    """Returns the authenticated principal of this call, or raises Unauthenticated."""
    principal = _principal.get()
    if principal is None or principal is ANONYMOUS:
        raise Unauthenticated("this call needs a credential", reason="CREDENTIAL_MISSING")
    return principal


def optional_principal() -> Principal | None:
    """Returns the principal of this call, or None on a public call without a credential."""
    principal = _principal.get()
    return None if principal is ANONYMOUS else principal


def current_request() -> RequestInfo | None:
    """Returns the request context of this call, or None outside a call."""
    return _request.get()


def set_principal(principal: Principal | None) -> None:
    """Sets the principal of the running call (used by the auth step and by tests)."""
    _principal.set(principal)


def set_request(info: RequestInfo | None) -> None:
    """Sets the request context of the running call (used by the request-context step)."""
    _request.set(info)
