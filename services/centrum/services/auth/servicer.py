"""The AuthService servicer: logins, tokens, introspection, revocation, keys, API keys, sessions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import grpc

from centrum.auth.v1 import auth_service_pb2 as pb
from centrum.auth.v1 import auth_service_pb2_grpc, credential_pb2, principal_pb2
from centrum.interceptors.context import Principal, current_principal, current_request
from centrum.interceptors.errors import (
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from centrum.services.auth import convert
from centrum.services.auth.api_keys import ApiKeys
from centrum.services.auth.directory import SERVICE_ACCOUNT, USER, Directory, RevocationReason
from centrum.services.auth.guard import backend_boundary
from centrum.services.auth.keys import KeyRing, KeyView
from centrum.services.auth.paging import page_of
from centrum.services.auth.settings import AuthSettings
from centrum.services.auth.tokens import Introspection, Issued, TokenService, granted_scopes

__all__ = ["AuthServicer", "kind_of_subject"]

_ALGORITHMS = {
    credential_pb2.SIGNING_ALGORITHM_ED25519: "EdDSA",
    credential_pb2.SIGNING_ALGORITHM_ES256: "ES256",
    credential_pb2.SIGNING_ALGORITHM_RS256: "RS256",
}


def kind_of_subject(subject: str) -> str:
    """The principal kind of a subject id (ids carry their kind as a prefix)."""
    return USER if subject.startswith("usr_") else SERVICE_ACCOUNT


def _token_set(issued: Issued) -> credential_pb2.TokenSet:
    tokens = credential_pb2.TokenSet(
        access_token=issued.access_token,
        token_type="Bearer",  # noqa: S106 - the OAuth2 type name
        expires_in=convert.duration(issued.expires_in_s),
        refresh_token=issued.refresh_token,
        scope=issued.scope,
    )
    if issued.refresh_expires_in_s is not None:
        tokens.refresh_expires_in.CopyFrom(convert.duration(issued.refresh_expires_in_s))
    return tokens


def _introspection(answer: Introspection) -> pb.IntrospectTokenResponse:
    if not answer.active:
        return pb.IntrospectTokenResponse(active=False)
    message = pb.IntrospectTokenResponse(
        active=True,
        scope=answer.scope,
        client_id=answer.client_id,
        username=answer.username,
        token_type=answer.token_type,
        sub=answer.sub,
        aud=list(answer.aud),
        iss=answer.iss,
        jti=answer.jti,
        tenant=answer.tenant,
        principal_kind=convert.KIND_VALUES.get(answer.principal_kind, 0),  # type: ignore[arg-type]
        token_use=answer.token_use,  # type: ignore[arg-type]
        sid=answer.sid,
    )
    for name in ("exp", "iat", "nbf"):
        stamp = convert.timestamp(getattr(answer, name))
        if stamp is not None:
            getattr(message, name).CopyFrom(stamp)
    return message


def _require_admin(caller: Principal, action: str) -> None:
    if not caller.has_scope("auth.admin"):
        raise PermissionDenied(
            f"{action} needs auth.admin", reason="MISSING_SCOPE", info={"scope": "auth.admin"}
        )


def _peer_ip() -> str:
    info = current_request()
    return info.peer if info is not None else ""


def _user_agent(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "user-agent":
            return str(value)
    return ""


class AuthServicer(auth_service_pb2_grpc.AuthServiceServicer):
    """Implements centrum.auth.v1.AuthService over the domain objects."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        issuer: str,
        keyring: KeyRing,
        tokens: TokenService,
        directory: Directory,
        api_keys: ApiKeys,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._issuer = issuer
        self._keyring = keyring
        self._tokens = tokens
        self._directory = directory
        self._api_keys = api_keys
        self._clock = clock

    @backend_boundary
    async def Login(self, request: pb.LoginRequest, context: Any) -> pb.LoginResponse:
        """Password login: a session with an access and a refresh token."""
        tenant = request.tenant or self._settings.operator_tenant
        issued, user = await self._tokens.login(
            tenant,
            request.username,
            request.password,
            list(request.scopes),
            list(request.audience),
            ip_address=_peer_ip(),
            user_agent=_user_agent(context),
        )
        role_ids, scopes = await self._directory.grants(tenant, USER, user.id)
        return pb.LoginResponse(
            tokens=_token_set(issued),
            session_id=issued.session_id,
            user=convert.user_message(user, role_ids, scopes),
        )

    @backend_boundary
    async def Refresh(self, request: pb.RefreshRequest, context: Any) -> pb.RefreshResponse:
        """Rotates the refresh token; reuse revokes the session."""
        issued = await self._tokens.refresh(
            request.refresh_token, list(request.scopes), ip_address=_peer_ip()
        )
        return pb.RefreshResponse(tokens=_token_set(issued), session_id=issued.session_id)

    @backend_boundary
    async def Logout(self, request: pb.LogoutRequest, context: Any) -> pb.LogoutResponse:
        """Ends the caller's session, or all of the user's sessions."""
        ended = await self._tokens.logout(current_principal(), request.all_sessions)
        return pb.LogoutResponse(revoked_session_ids=ended)

    @backend_boundary
    async def Token(self, request: pb.TokenRequest, context: Any) -> pb.TokenResponse:
        """The OAuth2 client credentials grant."""
        issued = await self._tokens.client_credentials(
            request.client_id, request.client_secret, list(request.scopes), list(request.audience)
        )
        return pb.TokenResponse(tokens=_token_set(issued))

    @backend_boundary
    async def IntrospectToken(
        self, request: pb.IntrospectTokenRequest, context: Any
    ) -> pb.IntrospectTokenResponse:
        """RFC 7662 introspection."""
        answer = await self._tokens.introspect(request.token, list(request.required_scopes))
        return _introspection(answer)

    @backend_boundary
    async def RevokeToken(
        self, request: pb.RevokeTokenRequest, context: Any
    ) -> pb.RevokeTokenResponse:
        """RFC 7009 revocation; unknown tokens answer OK."""
        await self._tokens.revoke_token(request.token, current_principal())
        return pb.RevokeTokenResponse()

    def _jwks_response(self, views: list[KeyView]) -> pb.GetJwksResponse:
        keys = [dict(view.public_jwk) for view in views]
        return pb.GetJwksResponse(
            keys=[convert.jwk_message(key) for key in keys],
            json=json.dumps({"keys": keys}, sort_keys=True),
            issuer=self._issuer,
            max_age=convert.duration(self._settings.jwks_max_age_s),
        )

    @backend_boundary
    async def GetJwks(self, request: pb.GetJwksRequest, context: Any) -> pb.GetJwksResponse:
        """The published public keys."""
        return self._jwks_response(await self._keyring.published())

    @backend_boundary
    async def RotateSigningKey(
        self, request: pb.RotateSigningKeyRequest, context: Any
    ) -> pb.RotateSigningKeyResponse:
        """Introduces the next signing key (operator tenant only)."""
        caller = current_principal()
        if caller.tenant != self._settings.operator_tenant:
            raise PermissionDenied(
                "signing keys belong to the operator tenant", reason="OPERATOR_TENANT_REQUIRED"
            )
        delay = request.activation_delay.ToNanoseconds() / 1e9
        if delay == 0:
            delay = self._settings.jwks_max_age_s
        if delay < self._settings.jwks_max_age_s and not request.retire_current_immediately:
            raise InvalidArgument(
                "the activation delay is shorter than the JWKS max_age",
                reason="ACTIVATION_TOO_SOON",
                field_violations=[
                    FieldViolation(
                        "activation_delay",
                        f"must be at least {self._settings.jwks_max_age_s} s",
                    )
                ],
            )
        view = await self._keyring.rotate(
            algorithm=_ALGORITHMS.get(request.algorithm),
            activation_delay_s=delay,
            retire_immediately=request.retire_current_immediately,
        )
        published = sorted(await self._keyring.published(), key=lambda v: v.activate_at)
        return pb.RotateSigningKeyResponse(
            signing_key=convert.signing_key_message(view),
            signing_keys=[convert.signing_key_message(v) for v in published],
        )

    async def _owner(
        self, caller: Principal, ref: principal_pb2.PrincipalRef | None
    ) -> tuple[str, str]:
        own = (kind_of_subject(caller.subject), caller.subject)
        if ref is None or not ref.id:
            return own
        owner = (convert.KIND_NAMES.get(ref.kind, ""), ref.id)
        if owner != own:
            _require_admin(caller, "acting for another principal")
        return owner

    @backend_boundary
    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: Any
    ) -> pb.CreateApiKeyResponse:
        """Creates an API key; its secret is returned once."""
        caller = current_principal()
        kind, owner_id = await self._owner(
            caller, request.owner if request.HasField("owner") else None
        )
        if await self._directory.principal_active(caller.tenant, kind, owner_id) is None:
            raise NotFound("the owner does not exist or is disabled", resource=(kind, owner_id))
        _, held = await self._directory.grants(caller.tenant, kind, owner_id)
        scopes = granted_scopes(held, list(request.scopes), "scopes")
        granted_scopes(sorted(caller.scopes), scopes, "scopes")
        now = self._clock()
        expires_at: float | None
        if request.HasField("expire_time"):
            expires_at = request.expire_time.ToNanoseconds() / 1e9
            if expires_at <= now:
                raise InvalidArgument(
                    "expire_time is in the past",
                    reason="INVALID_REQUEST",
                    field_violations=[FieldViolation("expire_time", "must be in the future")],
                )
        elif request.HasField("ttl"):
            expires_at = now + request.ttl.ToNanoseconds() / 1e9
        elif self._settings.api_key_default_ttl_s > 0:
            expires_at = now + self._settings.api_key_default_ttl_s
        else:
            expires_at = None
        row, secret = await self._api_keys.create(
            caller.tenant,
            owner_kind=kind,
            owner_id=owner_id,
            name=request.name,
            description=request.description,
            scopes=scopes,
            expires_at=expires_at,
        )
        return pb.CreateApiKeyResponse(api_key=convert.api_key_message(row, now), secret=secret)

    @backend_boundary
    async def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: Any
    ) -> pb.ListApiKeysResponse:
        """Lists API keys of the caller, another principal, or the tenant."""
        caller = current_principal()
        owner: tuple[str, str] | None
        if request.all_owners:
            _require_admin(caller, "listing every key")
            owner = None
        else:
            owner = await self._owner(caller, request.owner if request.HasField("owner") else None)
        page = page_of(
            request.page_size, request.page_token, owner, request.prefix, request.include_inactive
        )
        rows, more = await self._api_keys.page(
            caller.tenant,
            owner=owner,
            prefix=request.prefix,
            include_inactive=request.include_inactive,
            page=page,
        )
        now = self._clock()
        return pb.ListApiKeysResponse(
            api_keys=[convert.api_key_message(row, now) for row in rows],
            next_page_token=page.next_token(len(rows), more),
        )

    @backend_boundary
    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: Any
    ) -> pb.RevokeApiKeyResponse:
        """Revokes an API key on every replica (idempotent)."""
        caller = current_principal()
        row = await self._api_keys.get(caller.tenant, request.api_key_id)
        if row.owner_id != caller.subject:
            _require_admin(caller, "revoking another principal's key")
        row = await self._api_keys.revoke(row, RevocationReason.REVOKED)
        return pb.RevokeApiKeyResponse(api_key=convert.api_key_message(row, self._clock()))

    @backend_boundary
    async def ListSessions(
        self, request: pb.ListSessionsRequest, context: Any
    ) -> pb.ListSessionsResponse:
        """Lists sessions of the caller, another user, or the tenant."""
        caller = current_principal()
        user_id: str | None = caller.subject
        if request.all_users or (request.user_id and request.user_id != caller.subject):
            _require_admin(caller, "listing other users' sessions")
            user_id = None if request.all_users else request.user_id
        page = page_of(request.page_size, request.page_token, user_id, request.include_inactive)
        rows, more = await self._tokens.list_sessions(
            caller.tenant, user_id, request.include_inactive, page
        )
        current = await self._tokens.session_of(caller.credential_id)
        now = self._clock()
        return pb.ListSessionsResponse(
            sessions=[convert.session_message(row, now, current) for row in rows],
            next_page_token=page.next_token(len(rows), more),
        )

    @backend_boundary
    async def RevokeSession(
        self, request: pb.RevokeSessionRequest, context: Any
    ) -> pb.RevokeSessionResponse:
        """Ends a session on every replica (idempotent)."""
        caller = current_principal()
        session = await self._tokens.get_session(caller.tenant, request.session_id)
        if session.user_id != caller.subject:
            _require_admin(caller, "revoking another user's session")
        await self._tokens.revoke_session(session.id, RevocationReason.REVOKED)
        session = await self._tokens.get_session(caller.tenant, session.id)
        current = await self._tokens.session_of(caller.credential_id)
        return pb.RevokeSessionResponse(
            session=convert.session_message(session, self._clock(), current)
        )
