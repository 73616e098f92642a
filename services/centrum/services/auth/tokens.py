"""Token issuance, sessions, revocation and introspection.

Access tokens are JWTs signed by the key ring; each issued token is recorded (jti, principal,
session, expiry) so that logging out, disabling or deleting a principal can revoke exactly the
tokens still outstanding. Refresh tokens read `crt_<id>.<secret>`, are single use, and belong to
a session (their family): presenting a used one again revokes the whole session. Revocations are
persisted here and pushed to the chain's revocation set (shared through Redis when configured).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt as pyjwt
import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.interceptors.context import Principal, scope_satisfies
from centrum.interceptors.credentials import MemoryRevocations
from centrum.interceptors.errors import (
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from centrum.interceptors.request_context import time_ordered_id
from centrum.services.auth.api_keys import API_KEY_PREFIX, ApiKeys
from centrum.services.auth.directory import (
    SERVICE_ACCOUNT,
    USER,
    Directory,
    RevocationReason,
)
from centrum.services.auth.hashing import Pepper, new_id, new_secret, split_credential
from centrum.services.auth.keys import KeyRing
from centrum.services.auth.paging import Page
from centrum.services.auth.security_events import SecurityEvents
from centrum.services.auth.settings import AuthSettings
from centrum.services.auth.tables import access_tokens, refresh_tokens, sessions
from centrum.services.auth.transactions import GroupInsert, writing

__all__ = ["REFRESH_PREFIX", "Introspection", "Issued", "TokenService"]

REFRESH_PREFIX = "crt_"
_BAD_LOGIN = "the username or password is wrong, or the account cannot log in now"
_BAD_CLIENT = "the client credentials are not valid"
_LAST_TOKEN_EVERY_S = 60.0
_CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Issued:
    """A token set as handed to the caller."""

    access_token: str
    expires_in_s: float
    scope: str
    refresh_token: str = ""
    refresh_expires_in_s: float | None = None
    session_id: str = ""


@dataclass(frozen=True)
class Introspection:
    """RFC 7662 answer fields; `active` False means every other field is empty."""

    active: bool
    scope: str = ""
    client_id: str = ""
    username: str = ""
    token_type: str = ""
    exp: float | None = None
    iat: float | None = None
    nbf: float | None = None
    sub: str = ""
    aud: tuple[str, ...] = ()
    iss: str = ""
    jti: str = ""
    tenant: str = ""
    principal_kind: str = ""
    token_use: int = 0
    sid: str = ""


def granted_scopes(held: Sequence[str], requested: Sequence[str], field: str) -> list[str]:
    """The requested scopes when each is held (all held scopes when none requested)."""
    if not requested:
        return sorted(held)
    missing = [s for s in requested if not any(scope_satisfies(h, s) for h in held)]
    if missing:
        raise InvalidArgument(
            f"scopes not granted to this principal: {' '.join(missing)}",
            reason="INVALID_SCOPE",
            field_violations=[FieldViolation(field, f"not held: {' '.join(missing)}")],
        )
    return sorted(set(requested))


class TokenService:
    """Issues, refreshes, revokes and introspects tokens."""

    def __init__(
        self,
        engine: AsyncEngine,
        keyring: KeyRing,
        directory: Directory,
        api_keys: ApiKeys,
        pepper: Pepper,
        revocations: MemoryRevocations,
        settings: AuthSettings,
        *,
        issuer: str,
        audience: str,
        security: SecurityEvents | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._security = security or SecurityEvents(None)
        self._keyring = keyring
        self._directory = directory
        self._api_keys = api_keys
        self._pepper = pepper
        self._revocations = revocations
        self._settings = settings
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self._last_token_write: dict[str, float] = {}
        self._claims_cache: dict[str, tuple[str, dict[str, Any]]] = {}
        self._issued = GroupInsert(engine, access_tokens)

    # --- issuance ---------------------------------------------------------------------------

    async def _mint(
        self,
        *,
        tenant: str,
        kind: str,
        principal_id: str,
        scopes: Sequence[str],
        audience: Sequence[str],
        ttl_s: float,
        client_id: str = "",
        session_id: str = "",
    ) -> tuple[str, float]:
        now = self._clock()
        issued_at = math.floor(now)
        expires_at = issued_at + int(ttl_s)
        jti = time_ordered_id()  # the access-token table's key: inserts stay local
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": audience[0] if len(audience) == 1 else list(audience),
            "sub": principal_id,
            "tenant": tenant,
            "scope": " ".join(scopes),
            "iat": issued_at,
            "nbf": issued_at,
            "exp": expires_at,
            "jti": jti,
            "pkind": kind,
        }
        if client_id:
            claims["client_id"] = client_id
        if session_id:
            claims["sid"] = session_id
        token, _ = await self._keyring.sign(claims)
        await self._issued.insert(
            {
                "jti": jti,
                "tenant": tenant,
                "principal_kind": kind,
                "principal_id": principal_id,
                "session_id": session_id or None,
                "expires_at": float(expires_at),
                "revoked_at": None,
            }
        )
        return token, float(int(ttl_s))

    def _audience_for(
        self, requested: Sequence[str], allowed: Sequence[str], field: str
    ) -> list[str]:
        if not requested:
            return [self._audience]
        permitted = set(allowed) | {self._audience}
        refused = [a for a in requested if a not in permitted]
        if refused:
            raise InvalidArgument(
                f"audiences not allowed: {' '.join(refused)}",
                reason="INVALID_TARGET",
                field_violations=[FieldViolation(field, "not an allowed audience")],
            )
        return list(dict.fromkeys(requested))

    async def client_credentials(
        self, client_id: str, client_secret: str, scopes: Sequence[str], audience: Sequence[str]
    ) -> Issued:
        """The OAuth2 client credentials grant: a service account's secret for a token."""
        found = await self._directory.client_with_grants(client_id)
        if found is None:
            self._pepper.matches(client_secret, b"\x00" * 32)
            raise Unauthenticated(_BAD_CLIENT, reason="INVALID_CLIENT")
        account, held = found
        if not self._directory.secret_matches(account, client_secret) or account.disabled:
            raise Unauthenticated(_BAD_CLIENT, reason="INVALID_CLIENT")
        granted = granted_scopes(held, scopes, "scopes")
        audiences = self._audience_for(audience, json.loads(account.allowed_audiences), "audience")
        ttl = account.access_token_ttl_s or self._settings.access_token_ttl_s
        ttl = min(ttl, self._settings.max_access_token_ttl_s)
        token, expires_in = await self._mint(
            tenant=account.tenant,
            kind=SERVICE_ACCOUNT,
            principal_id=account.id,
            scopes=granted,
            audience=audiences,
            ttl_s=ttl,
            client_id=account.client_id,
        )
        now = self._clock()
        if now - self._last_token_write.get(account.id, float("-inf")) >= _LAST_TOKEN_EVERY_S:
            self._last_token_write[account.id] = now
            await self._directory.touch_service_account(account.id, now)
        return Issued(token, expires_in, " ".join(granted))

    def _lockout_s(self, failures: int) -> float | None:
        excess = failures - self._settings.lockout_threshold
        if excess < 0:
            return None
        return min(
            self._settings.lockout_base_s * float(2 ** min(excess, 30)),
            self._settings.lockout_max_s,
        )

    async def login(
        self,
        tenant: str,
        username: str,
        password: str,
        scopes: Sequence[str],
        audience: Sequence[str],
        *,
        ip_address: str,
        user_agent: str,
    ) -> tuple[Issued, Row[Any]]:
        """A password login: checks lockout and password, then starts a session."""
        user = await self._directory.find_login(tenant, username)
        ok = await self._directory.verify_password(user, password)
        now = self._clock()
        if user is None:
            raise Unauthenticated(_BAD_LOGIN, reason="LOGIN_FAILED")
        locked = user.locked_until is not None and user.locked_until > now
        if not ok or user.disabled or locked:
            if not ok:
                failures = user.failed_logins + 1
                lock_for_s = self._lockout_s(failures)
                await self._directory.record_login(user.id, success=False, lock_for_s=lock_for_s)
                if lock_for_s is not None:
                    await self._security.account_locked(
                        tenant, user.id, failed_logins=failures, locked_for_s=lock_for_s
                    )
            raise Unauthenticated(_BAD_LOGIN, reason="LOGIN_FAILED")
        _, held = await self._directory.grants(tenant, USER, user.id)
        granted = granted_scopes(held, scopes, "scopes")
        audiences = self._audience_for(audience, (), "audience")
        await self._directory.record_login(user.id, success=True, lock_for_s=None)
        session_id = new_id("ses")
        expires_at = now + self._settings.session_ttl_s
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.insert(sessions).values(
                    id=session_id,
                    tenant=tenant,
                    user_id=user.id,
                    scopes=json.dumps(granted),
                    audience=json.dumps(audiences),
                    ip_address=ip_address,
                    user_agent=user_agent[:512],
                    last_ip_address=ip_address,
                    created_at=now,
                    expires_at=expires_at,
                    revoke_reason=0,
                )
            )
        refresh = await self._new_refresh(session_id)
        token, expires_in = await self._mint(
            tenant=tenant,
            kind=USER,
            principal_id=user.id,
            scopes=granted,
            audience=audiences,
            ttl_s=self._settings.access_token_ttl_s,
            session_id=session_id,
        )
        issued = Issued(token, expires_in, " ".join(granted), refresh, expires_at - now, session_id)
        return issued, await self._directory.get_user(tenant, user.id)

    async def _new_refresh(self, session_id: str) -> str:
        refresh_id = uuid.uuid4().hex
        secret = new_secret()
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.insert(refresh_tokens).values(
                    id=refresh_id,
                    session_id=session_id,
                    secret_hash=self._pepper.digest(secret),
                    created_at=self._clock(),
                )
            )
        return f"{REFRESH_PREFIX}{refresh_id}.{secret}"

    async def _refresh_row(self, refresh_token: str) -> tuple[Row[Any], Row[Any]] | None:
        parts = split_credential(refresh_token, REFRESH_PREFIX)
        if parts is None:
            return None
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(refresh_tokens).where(refresh_tokens.c.id == parts[0])
                )
            ).first()
            if row is None or not self._pepper.matches(parts[1], row.secret_hash):
                return None
            session = (
                await connection.execute(sa.select(sessions).where(sessions.c.id == row.session_id))
            ).first()
        return (row, session) if session is not None else None

    async def refresh(
        self, refresh_token: str, scopes: Sequence[str], *, ip_address: str
    ) -> Issued:
        """Rotates a refresh token; a used one revokes its whole session (reuse detection)."""
        found = await self._refresh_row(refresh_token)
        if found is None:
            raise Unauthenticated("the refresh token is not valid", reason="REFRESH_INVALID")
        row, session = found
        now = self._clock()
        if session.revoked_at is not None or session.expires_at <= now:
            raise Unauthenticated("the refresh token is not valid", reason="REFRESH_INVALID")
        async with writing(self._engine) as connection:
            used = await connection.execute(
                sa.update(refresh_tokens)
                .where(refresh_tokens.c.id == row.id, refresh_tokens.c.used_at.is_(None))
                .values(used_at=now)
            )
        if used.rowcount != 1:
            await self.revoke_session(session.id, RevocationReason.REUSE)
            await self._security.refresh_token_reused(session.tenant, session.user_id, session.id)
            raise Unauthenticated(
                "the refresh token was used already; the session is revoked",
                reason="REFRESH_REUSED",
            )
        user = await self._directory.principal_active(session.tenant, USER, session.user_id)
        if user is None:
            raise Unauthenticated("the refresh token is not valid", reason="REFRESH_INVALID")
        _, held = await self._directory.grants(session.tenant, USER, session.user_id)
        session_scopes = [
            s for s in json.loads(session.scopes) if any(scope_satisfies(h, s) for h in held)
        ]
        granted = granted_scopes(session_scopes, scopes, "scopes")
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.update(sessions)
                .where(sessions.c.id == session.id)
                .values(last_refresh_at=now, last_ip_address=ip_address)
            )
        refresh = await self._new_refresh(session.id)
        token, expires_in = await self._mint(
            tenant=session.tenant,
            kind=USER,
            principal_id=session.user_id,
            scopes=granted,
            audience=json.loads(session.audience),
            ttl_s=min(self._settings.access_token_ttl_s, session.expires_at - now),
            session_id=session.id,
        )
        return Issued(
            token, expires_in, " ".join(granted), refresh, session.expires_at - now, session.id
        )

    # --- revocation -------------------------------------------------------------------------

    async def _revoke_access(self, where: Any) -> None:
        now = self._clock()
        async with writing(self._engine) as connection:
            rows = (
                await connection.execute(
                    sa.select(access_tokens.c.jti, access_tokens.c.expires_at).where(
                        where,
                        access_tokens.c.revoked_at.is_(None),
                        access_tokens.c.expires_at > now,
                    )
                )
            ).all()
            if rows:
                await connection.execute(
                    sa.update(access_tokens)
                    .where(access_tokens.c.jti.in_([r.jti for r in rows]))
                    .values(revoked_at=now)
                )
        for row in rows:
            await self._revocations.revoke(row.jti, row.expires_at)

    async def revoke_session(self, session_id: str, reason: int) -> bool:
        """Ends a session and its access tokens; returns whether it was live."""
        now = self._clock()
        async with writing(self._engine) as connection:
            result = await connection.execute(
                sa.update(sessions)
                .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now, revoke_reason=reason)
            )
        await self._revoke_access(access_tokens.c.session_id == session_id)
        return bool(result.rowcount)

    async def revoke_principal(
        self, tenant: str, kind: str, principal_id: str, reason: int, *, api_keys: bool
    ) -> None:
        """Revokes a principal's sessions and access tokens (and API keys when told)."""
        if kind == USER:
            async with self._engine.connect() as connection:
                ids = (
                    (
                        await connection.execute(
                            sa.select(sessions.c.id).where(
                                sessions.c.user_id == principal_id, sessions.c.revoked_at.is_(None)
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            for session_id in ids:
                await self.revoke_session(session_id, reason)
        await self._revoke_access(
            sa.and_(
                access_tokens.c.principal_kind == kind,
                access_tokens.c.principal_id == principal_id,
            )
        )
        if api_keys:
            await self._api_keys.revoke_owner(tenant, kind, principal_id, reason)

    async def restore_revocations(self) -> None:
        """Feeds persisted, unexpired revocations to the revocation set (after a restart)."""
        now = self._clock()
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(access_tokens.c.jti, access_tokens.c.expires_at).where(
                        access_tokens.c.revoked_at.is_not(None), access_tokens.c.expires_at > now
                    )
                )
            ).all()
        for row in rows:
            if not self._revocations.is_revoked(row.jti):
                await self._revocations.revoke(row.jti, row.expires_at)

    async def access_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired, unrevoked access token of this issuer."""
        cached = self._claims_cache.get(token)
        if cached is None:
            claims = await self._keyring.decode(token, issuer=self._issuer)
            if claims is None:
                return None
            if len(self._claims_cache) >= _CACHE_SIZE:
                self._claims_cache.pop(next(iter(self._claims_cache)))
            self._claims_cache[token] = (pyjwt.get_unverified_header(token)["kid"], claims)
        else:
            kid, claims = cached
            if not await self._keyring.trusts(kid):
                return None
        if claims["exp"] <= self._clock() or self._revocations.is_revoked(str(claims["jti"])):
            return None
        return claims

    async def revoke_token(self, token: str, caller: Principal) -> None:
        """RFC 7009: revokes an access token, refresh token (its session) or API key."""
        admin = caller.has_scope("auth.admin")

        def allowed(tenant: str, subject: str) -> bool:
            if tenant != caller.tenant:
                return False
            if subject != caller.subject and not admin:
                raise PermissionDenied(
                    "revoking another principal's token needs auth.admin",
                    reason="MISSING_SCOPE",
                    info={"scope": "auth.admin"},
                )
            return True

        if token.startswith(REFRESH_PREFIX):
            found = await self._refresh_row(token)
            if found is not None and allowed(found[1].tenant, found[1].user_id):
                await self.revoke_session(found[1].id, RevocationReason.REVOKED)
            return
        if token.startswith(API_KEY_PREFIX):
            parts = split_credential(token, API_KEY_PREFIX)
            if parts is None:
                return
            row = await self._api_keys.find_by_secret(token)
            if row is not None and allowed(row.tenant, row.owner_id):
                await self._api_keys.revoke(row)
            return
        claims = await self.access_claims(token)
        if claims is not None and allowed(str(claims["tenant"]), str(claims["sub"])):
            jti = str(claims["jti"])
            async with writing(self._engine) as connection:
                await connection.execute(
                    sa.update(access_tokens)
                    .where(access_tokens.c.jti == jti, access_tokens.c.revoked_at.is_(None))
                    .values(revoked_at=self._clock())
                )
            await self._revocations.revoke(jti, float(claims["exp"]))

    async def logout(self, caller: Principal, all_sessions: bool) -> list[str]:
        """Ends the caller's session (or all of the user's sessions); returns those ended."""
        if all_sessions:
            async with self._engine.connect() as connection:
                ids = list(
                    (
                        await connection.execute(
                            sa.select(sessions.c.id).where(
                                sessions.c.tenant == caller.tenant,
                                sessions.c.user_id == caller.subject,
                                sessions.c.revoked_at.is_(None),
                            )
                        )
                    ).scalars()
                )
        else:
            async with self._engine.connect() as connection:
                session_id = (
                    await connection.execute(
                        sa.select(access_tokens.c.session_id).where(
                            access_tokens.c.jti == caller.credential_id
                        )
                    )
                ).scalar_one_or_none()
            ids = [session_id] if session_id else []
        ended = [sid for sid in ids if await self.revoke_session(sid, RevocationReason.LOGOUT)]
        return ended

    # --- sessions ---------------------------------------------------------------------------

    async def get_session(self, tenant: str, session_id: str) -> Row[Any]:
        """One session of the tenant."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(sessions).where(
                        sessions.c.id == session_id, sessions.c.tenant == tenant
                    )
                )
            ).first()
        if row is None:
            raise NotFound("the session does not exist", resource=("session", session_id))
        return row

    async def list_sessions(
        self, tenant: str, user_id: str | None, include_inactive: bool, page: Page
    ) -> tuple[list[Row[Any]], bool]:
        """A page of sessions, newest first."""
        select = sa.select(sessions).where(sessions.c.tenant == tenant)
        if user_id is not None:
            select = select.where(sessions.c.user_id == user_id)
        if not include_inactive:
            select = select.where(
                sessions.c.revoked_at.is_(None), sessions.c.expires_at > self._clock()
            )
        select = (
            select.order_by(sessions.c.created_at.desc(), sessions.c.id)
            .offset(page.offset)
            .limit(page.size + 1)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select)).all()
        return list(rows[: page.size]), len(rows) > page.size

    async def session_of(self, jti: str) -> str:
        """The session an access token belongs to, or empty."""
        async with self._engine.connect() as connection:
            value = (
                await connection.execute(
                    sa.select(access_tokens.c.session_id).where(access_tokens.c.jti == jti)
                )
            ).scalar_one_or_none()
        return value or ""

    # --- introspection ----------------------------------------------------------------------

    async def introspect(self, token: str, required: Sequence[str]) -> Introspection:
        """RFC 7662: what a token grants, or inactive."""
        answer = await self._introspect(token)
        if answer.active and required:
            held = answer.scope.split()
            if not all(any(scope_satisfies(h, r) for h in held) for r in required):
                return Introspection(active=False)
        return answer

    async def _introspect(self, token: str) -> Introspection:
        if token.startswith(REFRESH_PREFIX):
            return await self._introspect_refresh(token)
        if token.startswith(API_KEY_PREFIX):
            resolved = await self._api_keys.resolve(token)
            if resolved is None:
                return Introspection(active=False)
            row, owner, scopes = resolved
            if self._revocations.is_revoked(row.id):
                return Introspection(active=False)
            return Introspection(
                active=True,
                scope=" ".join(scopes),
                client_id=owner.client_id if row.owner_kind == SERVICE_ACCOUNT else "",
                username=owner.username if row.owner_kind == USER else "",
                exp=row.expires_at,
                iat=row.created_at,
                sub=row.owner_id,
                iss=self._issuer,
                jti=row.id,
                tenant=row.tenant,
                principal_kind=row.owner_kind,
                token_use=3,
            )
        claims = await self.access_claims(token)
        if claims is None:
            return Introspection(active=False)
        kind = str(claims.get("pkind", SERVICE_ACCOUNT if claims.get("client_id") else USER))
        username = ""
        if kind == USER:
            user = await self._directory.principal_active(
                str(claims["tenant"]), USER, str(claims["sub"])
            )
            if user is None:
                return Introspection(active=False)
            username = user.username
        audience = claims["aud"]
        return Introspection(
            active=True,
            scope=str(claims.get("scope", "")),
            client_id=str(claims.get("client_id", "")),
            username=username,
            token_type="Bearer",  # noqa: S106 - the OAuth2 type name
            exp=float(claims["exp"]),
            iat=float(claims["iat"]),
            nbf=float(claims["nbf"]),
            sub=str(claims["sub"]),
            aud=tuple([audience] if isinstance(audience, str) else audience),
            iss=str(claims["iss"]),
            jti=str(claims["jti"]),
            tenant=str(claims["tenant"]),
            principal_kind=kind,
            token_use=1,
            sid=str(claims.get("sid", "")),
        )

    async def _introspect_refresh(self, token: str) -> Introspection:
        found = await self._refresh_row(token)
        if found is None:
            return Introspection(active=False)
        row, session = found
        now = self._clock()
        if row.used_at is not None or session.revoked_at is not None or session.expires_at <= now:
            return Introspection(active=False)
        user = await self._directory.principal_active(session.tenant, USER, session.user_id)
        if user is None:
            return Introspection(active=False)
        return Introspection(
            active=True,
            scope=" ".join(json.loads(session.scopes)),
            username=user.username,
            exp=session.expires_at,
            iat=row.created_at,
            sub=session.user_id,
            aud=tuple(json.loads(session.audience)),
            iss=self._issuer,
            jti=session.id,
            tenant=session.tenant,
            principal_kind=USER,
            token_use=2,
            sid=session.id,
        )
