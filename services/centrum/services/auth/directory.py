"""The directory of principals and roles: users, service accounts, roles and assignments.

Everything is scoped to a tenant; a resource of another tenant is reported as not found.
Disabling or deleting a principal revokes its credentials through the `PrincipalRevoker`. The
reads on the hot paths (a client's row and scopes at Token, a principal's active flag at
introspection, a certificate identity's service account) go through a `PrincipalCache`, and
every change here announces itself to that cache on every replica.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from centrum.interceptors.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from centrum.services.auth.hashing import PasswordHashing, Pepper, new_id, new_secret
from centrum.services.auth.paging import Page
from centrum.services.auth.principal_cache import PrincipalCache, principal_marker, roles_marker
from centrum.services.auth.tables import (
    certificate_identities,
    role_assignments,
    roles,
    service_accounts,
    users,
)
from centrum.services.auth.transactions import writing

__all__ = [
    "SCOPE_PATTERN",
    "Directory",
    "PrincipalRevoker",
    "RevocationReason",
    "password_violations",
]

SCOPE_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_*-]+)+)$")
ROLE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
USER = "user"
SERVICE_ACCOUNT = "service_account"
CLIENT_SECRET_PREFIX = "cs_"  # noqa: S105 - a visible prefix, not a secret


class RevocationReason:
    """Reasons, as in the contract's RevocationReason."""

    LOGOUT = 1
    REVOKED = 2
    REUSE = 3
    PASSWORD_CHANGED = 4
    DISABLED = 5
    DELETED = 6


class PrincipalRevoker(Protocol):
    """Revokes every credential of a principal (sessions, access tokens, optionally API keys)."""

    async def revoke_principal(
        self, tenant: str, kind: str, principal_id: str, reason: int, *, api_keys: bool
    ) -> None:
        """Revokes the principal's outstanding credentials on every replica."""
        ...


def password_violations(password: str, username: str, min_length: int) -> list[FieldViolation]:
    """The password policy: long enough, not containing the username."""
    problems = []
    if len(password) < min_length:
        problems.append(FieldViolation("password", f"must be at least {min_length} characters"))
    if len(password) > 1024:
        problems.append(FieldViolation("password", "must be at most 1024 characters"))
    if username and username.lower() in password.lower():
        problems.append(FieldViolation("password", "must not contain the username"))
    return problems


def _etag_check(row: Row[Any], etag: str) -> None:
    if etag and etag != str(row.version):
        raise Aborted(
            "the resource changed since it was read",
            reason="ETAG_MISMATCH",
            info={"current_etag": str(row.version)},
        )


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Directory:
    """Users, service accounts and roles of every tenant, in the relational database."""

    def __init__(
        self,
        engine: AsyncEngine,
        passwords: PasswordHashing,
        pepper: Pepper,
        *,
        password_min_length: int,
        max_access_token_ttl_s: float,
        cache: PrincipalCache[Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = self._engine = engine
        self._passwords = passwords
        self._pepper = pepper
        self._min_length = password_min_length
        self._max_ttl = max_access_token_ttl_s
        self._cache = cache
        self._clock = clock
        self.revoker: PrincipalRevoker | None = None

    async def _changed(self, *markers: str) -> None:
        if self._cache is not None:
            await self._cache.changed(*markers)

    async def _cached(
        self, key: str, load: Callable[[], Awaitable[tuple[Any, tuple[str, ...]] | None]]
    ) -> Any:
        if self._cache is None:
            loaded = await load()
            return loaded[0] if loaded is not None else None
        return await self._cache.get(key, load)

    # --- roles and scopes -----------------------------------------------------------------

    async def grants(
        self, tenant: str, kind: str, principal_id: str, connection: AsyncConnection | None = None
    ) -> tuple[list[str], list[str]]:
        """The role ids a principal holds and the union of their scopes (both sorted)."""
        query = (
            sa.select(roles.c.id, roles.c.scopes)
            .join(role_assignments, role_assignments.c.role_id == roles.c.id)
            .where(
                role_assignments.c.tenant == tenant,
                role_assignments.c.principal_kind == kind,
                role_assignments.c.principal_id == principal_id,
            )
        )
        if connection is None:
            async with self._engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        else:
            rows = (await connection.execute(query)).all()
        scopes: set[str] = set()
        for row in rows:
            scopes.update(json.loads(row.scopes))
        return sorted(row.id for row in rows), sorted(scopes)

    async def create_role(
        self,
        tenant: str,
        name: str,
        description: str,
        scopes: Sequence[str],
        *,
        builtin: bool = False,
    ) -> Row[Any]:
        """Creates a role; ALREADY_EXISTS when the name is taken."""
        now = self._clock()
        role_id = new_id("role")
        try:
            async with writing(self._engine) as connection:
                await connection.execute(
                    sa.insert(roles).values(
                        id=role_id,
                        tenant=tenant,
                        name=name,
                        description=description,
                        scopes=_json(sorted(set(scopes))),
                        builtin=builtin,
                        created_at=now,
                        updated_at=now,
                        version=1,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(
                f"a role named {name!r} exists already", resource=("role", name)
            ) from None
        return await self.get_role(tenant, role_id=role_id)

    async def get_role(self, tenant: str, *, role_id: str = "", name: str = "") -> Row[Any]:
        """One role by id or name."""
        condition = roles.c.id == role_id if role_id else roles.c.name == name
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(roles).where(roles.c.tenant == tenant, condition)
                )
            ).first()
        if row is None:
            raise NotFound("the role does not exist", resource=("role", role_id or name))
        return row

    async def list_roles(self, tenant: str, scope: str, page: Page) -> tuple[list[Row[Any]], bool]:
        """A page of roles ordered by name (filtered by a granted scope)."""
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(roles).where(roles.c.tenant == tenant).order_by(roles.c.name)
                )
            ).all()
        if scope:
            rows = [r for r in rows if scope in json.loads(r.scopes)]
        chunk = list(rows[page.offset : page.offset + page.size + 1])
        return chunk[: page.size], len(chunk) > page.size

    async def update_role(
        self, tenant: str, role_id: str, etag: str, changes: Mapping[str, Any]
    ) -> Row[Any]:
        """Applies the changes named by the mask; builtin roles accept only a description."""
        row = await self.get_role(tenant, role_id=role_id)
        _etag_check(row, etag)
        if row.builtin and set(changes) - {"description"}:
            raise FailedPrecondition(
                "builtin roles accept only a new description", reason="BUILTIN_ROLE"
            )
        values = dict(changes)
        if "scopes" in values:
            values["scopes"] = _json(sorted(set(values["scopes"])))
        values.update(updated_at=self._clock(), version=row.version + 1)
        try:
            async with writing(self._engine) as connection:
                result = await connection.execute(
                    sa.update(roles)
                    .where(roles.c.id == role_id, roles.c.version == row.version)
                    .values(**values)
                )
        except IntegrityError:
            raise AlreadyExists(
                "a role of that name exists already", resource=("role", str(changes.get("name")))
            ) from None
        if result.rowcount != 1:
            raise Aborted("the role changed concurrently; read it again", reason="CONFLICT")
        await self._changed(roles_marker(tenant))
        return await self.get_role(tenant, role_id=role_id)

    async def delete_role(
        self, tenant: str, role_id: str, etag: str, *, force: bool, allow_missing: bool
    ) -> None:
        """Deletes a role; refused while assigned unless forced, and always for builtin roles."""
        try:
            row = await self.get_role(tenant, role_id=role_id)
        except NotFound:
            if allow_missing:
                return
            raise
        _etag_check(row, etag)
        if row.builtin:
            raise FailedPrecondition("builtin roles cannot be deleted", reason="BUILTIN_ROLE")
        async with writing(self._engine) as connection:
            assigned = (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(role_assignments)
                    .where(role_assignments.c.role_id == role_id)
                )
            ).scalar_one()
            if assigned and not force:
                raise FailedPrecondition(
                    f"the role is assigned to {assigned} principal(s); pass force to delete it",
                    reason="ROLE_ASSIGNED",
                )
            await connection.execute(
                sa.delete(role_assignments).where(role_assignments.c.role_id == role_id)
            )
            await connection.execute(sa.delete(roles).where(roles.c.id == role_id))
        await self._changed(roles_marker(tenant))

    async def _require_principal(
        self, connection: AsyncConnection, tenant: str, kind: str, pid: str
    ) -> None:
        table = users if kind == USER else service_accounts
        found = (
            await connection.execute(
                sa.select(table.c.id).where(table.c.id == pid, table.c.tenant == tenant)
            )
        ).first()
        if found is None:
            raise NotFound("the principal does not exist", resource=(kind, pid))

    async def assign(
        self, tenant: str, role_ids: Iterable[str], kind: str, principal_id: str
    ) -> tuple[list[str], list[str]]:
        """Assigns roles (idempotent); returns the principal's roles and scopes afterwards."""
        async with writing(self._engine) as connection:
            await self._require_principal(connection, tenant, kind, principal_id)
            for role_id in role_ids:
                found = (
                    await connection.execute(
                        sa.select(roles.c.id).where(roles.c.id == role_id, roles.c.tenant == tenant)
                    )
                ).first()
                if found is None:
                    raise NotFound("the role does not exist", resource=("role", role_id))
                exists = (
                    await connection.execute(
                        sa.select(role_assignments.c.role_id).where(
                            role_assignments.c.role_id == role_id,
                            role_assignments.c.principal_kind == kind,
                            role_assignments.c.principal_id == principal_id,
                        )
                    )
                ).first()
                if exists is None:
                    await connection.execute(
                        sa.insert(role_assignments).values(
                            role_id=role_id,
                            principal_kind=kind,
                            principal_id=principal_id,
                            tenant=tenant,
                        )
                    )
        await self._changed(principal_marker(principal_id))
        return await self.grants(tenant, kind, principal_id)

    async def unassign(
        self, tenant: str, role_id: str, kind: str, principal_id: str
    ) -> tuple[list[str], list[str]]:
        """Removes a role (idempotent); returns the principal's roles and scopes afterwards."""
        async with writing(self._engine) as connection:
            await self._require_principal(connection, tenant, kind, principal_id)
            await connection.execute(
                sa.delete(role_assignments).where(
                    role_assignments.c.tenant == tenant,
                    role_assignments.c.role_id == role_id,
                    role_assignments.c.principal_kind == kind,
                    role_assignments.c.principal_id == principal_id,
                )
            )
        await self._changed(principal_marker(principal_id))
        return await self.grants(tenant, kind, principal_id)

    # --- users ------------------------------------------------------------------------------

    async def create_user(
        self,
        tenant: str,
        *,
        username: str,
        email: str,
        display_name: str,
        disabled: bool,
        labels: Mapping[str, str],
        password: str,
        role_ids: Sequence[str],
    ) -> Row[Any]:
        """Creates a user; ALREADY_EXISTS when the username or email is taken."""
        if password:
            violations = password_violations(password, username, self._min_length)
            if violations:
                raise InvalidArgument(
                    "the password does not meet the policy",
                    reason="PASSWORD_POLICY",
                    field_violations=violations,
                )
        now = self._clock()
        password_hash = await self._passwords.hash(password) if password else None
        user_id = new_id("usr")
        try:
            async with writing(self._engine) as connection:
                await connection.execute(
                    sa.insert(users).values(
                        id=user_id,
                        tenant=tenant,
                        username=username,
                        username_key=username.lower(),
                        email=email or None,
                        email_key=email.lower() or None,
                        display_name=display_name,
                        disabled=disabled,
                        labels=_json(dict(labels)),
                        password_hash=password_hash,
                        password_updated_at=now if password_hash else None,
                        failed_logins=0,
                        created_at=now,
                        updated_at=now,
                        version=1,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(
                "a user with that username or email exists already",
                resource=("user", username),
            ) from None
        if role_ids:
            try:
                await self.assign(tenant, role_ids, USER, user_id)
            except NotFound:
                async with writing(self._engine) as connection:
                    await connection.execute(sa.delete(users).where(users.c.id == user_id))
                raise
        return await self.get_user(tenant, user_id)

    async def get_user(self, tenant: str, user_id: str) -> Row[Any]:
        """One user of the tenant."""
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(users).where(users.c.id == user_id, users.c.tenant == tenant)
                )
            ).first()
        if row is None:
            raise NotFound("the user does not exist", resource=("user", user_id))
        return row

    async def find_login(self, tenant: str, name: str) -> Row[Any] | None:
        """The user whose username or email is `name` (case-insensitive), if any."""
        key = name.lower()
        async with self._engine.connect() as connection:
            return (
                await connection.execute(
                    sa.select(users).where(
                        users.c.tenant == tenant,
                        sa.or_(users.c.username_key == key, users.c.email_key == key),
                    )
                )
            ).first()

    async def _list_principals(
        self,
        kind: str,
        tenant: str,
        query: str,
        role_id: str,
        include_disabled: bool,
        page: Page,
    ) -> tuple[list[Row[Any]], bool]:
        table = users if kind == USER else service_accounts
        select = sa.select(table).where(table.c.tenant == tenant)
        if not include_disabled:
            select = select.where(table.c.disabled.is_(False))
        if query:
            like = _like_prefix(query)
            searched = (
                [users.c.username_key, users.c.email_key, sa.func.lower(users.c.display_name)]
                if kind == USER
                else [
                    sa.func.lower(service_accounts.c.display_name),
                    sa.func.lower(service_accounts.c.client_id),
                ]
            )
            select = select.where(sa.or_(*(c.like(like, escape="\\") for c in searched)))
        if role_id:
            select = select.where(
                table.c.id.in_(
                    sa.select(role_assignments.c.principal_id).where(
                        role_assignments.c.role_id == role_id,
                        role_assignments.c.principal_kind == kind,
                    )
                )
            )
        order = (users.c.username_key,) if kind == USER else (table.c.display_name, table.c.id)
        select = select.order_by(*order).offset(page.offset).limit(page.size + 1)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select)).all()
        return list(rows[: page.size]), len(rows) > page.size

    async def list_users(
        self, tenant: str, query: str, role_id: str, include_disabled: bool, page: Page
    ) -> tuple[list[Row[Any]], bool]:
        """A page of users ordered by username."""
        return await self._list_principals(USER, tenant, query, role_id, include_disabled, page)

    async def update_user(
        self, tenant: str, user_id: str, etag: str, changes: Mapping[str, Any]
    ) -> Row[Any]:
        """Applies the masked changes; disabling revokes the user's sessions and tokens."""
        row = await self.get_user(tenant, user_id)
        _etag_check(row, etag)
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "username":
                values.update(username=value, username_key=value.lower())
            elif name == "email":
                values.update(email=value or None, email_key=value.lower() or None)
            elif name == "labels":
                values["labels"] = _json(dict(value))
            elif name == "locked_until":
                values.update(locked_until=None, failed_logins=0)
            else:
                values[name] = value
        values.update(updated_at=self._clock(), version=row.version + 1)
        try:
            async with writing(self._engine) as connection:
                result = await connection.execute(
                    sa.update(users)
                    .where(users.c.id == user_id, users.c.version == row.version)
                    .values(**values)
                )
        except IntegrityError:
            raise AlreadyExists(
                "a user with that username or email exists already", resource=("user", user_id)
            ) from None
        if result.rowcount != 1:
            raise Aborted("the user changed concurrently; read it again", reason="CONFLICT")
        await self._changed(principal_marker(user_id))
        if values.get("disabled") and not row.disabled and self.revoker is not None:
            await self.revoker.revoke_principal(
                tenant, USER, user_id, RevocationReason.DISABLED, api_keys=False
            )
        return await self.get_user(tenant, user_id)

    async def set_password(
        self, tenant: str, user_id: str, password: str, *, keep_sessions: bool
    ) -> Row[Any]:
        """Sets a password after the policy check, unlocks, and ends sessions unless kept."""
        row = await self.get_user(tenant, user_id)
        violations = password_violations(password, row.username, self._min_length)
        if violations:
            raise InvalidArgument(
                "the password does not meet the policy",
                reason="PASSWORD_POLICY",
                field_violations=violations,
            )
        now = self._clock()
        password_hash = await self._passwords.hash(password)
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(
                    password_hash=password_hash,
                    password_updated_at=now,
                    failed_logins=0,
                    locked_until=None,
                    updated_at=now,
                    version=users.c.version + 1,
                )
            )
        await self._changed(principal_marker(user_id))
        if not keep_sessions and self.revoker is not None:
            await self.revoker.revoke_principal(
                tenant, USER, user_id, RevocationReason.PASSWORD_CHANGED, api_keys=False
            )
        return await self.get_user(tenant, user_id)

    async def delete_user(
        self, tenant: str, user_id: str, etag: str, *, allow_missing: bool
    ) -> None:
        """Deletes a user and revokes every credential of it."""
        await self._delete_principal(tenant, USER, user_id, etag, allow_missing=allow_missing)

    async def _delete_principal(
        self, tenant: str, kind: str, principal_id: str, etag: str, *, allow_missing: bool
    ) -> None:
        table = users if kind == USER else service_accounts
        try:
            row = await (
                self.get_user(tenant, principal_id)
                if kind == USER
                else self.get_service_account(tenant, account_id=principal_id)
            )
        except NotFound:
            if allow_missing:
                return
            raise
        _etag_check(row, etag)
        await self._changed(principal_marker(principal_id))
        if self.revoker is not None:
            await self.revoker.revoke_principal(
                tenant, kind, principal_id, RevocationReason.DELETED, api_keys=True
            )
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.delete(role_assignments).where(
                    role_assignments.c.principal_kind == kind,
                    role_assignments.c.principal_id == principal_id,
                )
            )
            await connection.execute(
                sa.delete(certificate_identities).where(
                    certificate_identities.c.service_account_id == principal_id
                )
            )
            await connection.execute(sa.delete(table).where(table.c.id == principal_id))
        # Again once gone: a revocation outlasting the first marker must not let a replica cache
        # the row it read in between.
        await self._changed(principal_marker(principal_id))

    async def verify_password(self, user: Row[Any] | None, password: str) -> bool:
        """Checks a login password; an unknown user costs the same time as a known one."""
        return await self._passwords.verify(user.password_hash if user else None, password)

    async def touch_service_account(self, account_id: str, now: float) -> None:
        """Records when a service account last obtained a token."""
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.update(service_accounts)
                .where(service_accounts.c.id == account_id)
                .values(last_token_at=now)
            )

    async def record_login(self, user_id: str, *, success: bool, lock_for_s: float | None) -> None:
        """Counts a failed login (locking when told), or resets the count after a success."""
        now = self._clock()
        async with writing(self._engine) as connection:
            if success:
                values: dict[str, Any] = {
                    "failed_logins": 0,
                    "locked_until": None,
                    "last_login_at": now,
                }
            else:
                values = {"failed_logins": users.c.failed_logins + 1}
                if lock_for_s is not None:
                    values["locked_until"] = now + lock_for_s
            await connection.execute(sa.update(users).where(users.c.id == user_id).values(**values))

    # --- service accounts ------------------------------------------------------------------

    def _secret_expiry(self, ttl_s: float) -> float | None:
        return self._clock() + ttl_s if ttl_s > 0 else None

    async def create_service_account(
        self,
        tenant: str,
        *,
        display_name: str,
        description: str,
        disabled: bool,
        allowed_audiences: Sequence[str],
        access_token_ttl_s: float,
        labels: Mapping[str, str],
        role_ids: Sequence[str],
        secret_ttl_s: float,
        identities: Sequence[str] = (),
    ) -> tuple[Row[Any], str]:
        """Creates a service account; returns it and its client secret (shown once)."""
        now = self._clock()
        account_id = new_id("sa")
        client_id = new_id("cl")
        secret = CLIENT_SECRET_PREFIX + new_secret()
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.insert(service_accounts).values(
                    id=account_id,
                    tenant=tenant,
                    client_id=client_id,
                    display_name=display_name,
                    description=description,
                    disabled=disabled,
                    allowed_audiences=_json(list(allowed_audiences)),
                    access_token_ttl_s=min(access_token_ttl_s, self._max_ttl),
                    labels=_json(dict(labels)),
                    secret_hash=self._pepper.digest(secret),
                    secret_created_at=now,
                    secret_expires_at=self._secret_expiry(secret_ttl_s),
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
        try:
            if identities:
                await self.bind_certificate_identities(tenant, account_id, identities)
            if role_ids:
                await self.assign(tenant, role_ids, SERVICE_ACCOUNT, account_id)
        except (NotFound, AlreadyExists):
            async with writing(self._engine) as connection:
                for table, column in (
                    (certificate_identities, certificate_identities.c.service_account_id),
                    (service_accounts, service_accounts.c.id),
                ):
                    await connection.execute(sa.delete(table).where(column == account_id))
            raise
        return await self.get_service_account(tenant, account_id=account_id), secret

    async def get_service_account(
        self, tenant: str | None, *, account_id: str = "", client_id: str = ""
    ) -> Row[Any]:
        """One service account by id or client_id (any tenant when `tenant` is None)."""
        condition = (
            service_accounts.c.id == account_id
            if account_id
            else service_accounts.c.client_id == client_id
        )
        select = sa.select(service_accounts).where(condition)
        if tenant is not None:
            select = select.where(service_accounts.c.tenant == tenant)
        async with self._engine.connect() as connection:
            row = (await connection.execute(select)).first()
        if row is None:
            raise NotFound(
                "the service account does not exist",
                resource=("service_account", account_id or client_id),
            )
        return row

    async def client_with_grants(self, client_id: str) -> tuple[Row[Any], list[str]] | None:
        """The service account of an OAuth2 client and its scopes (cached briefly)."""
        found: tuple[Row[Any], list[str]] | None = await self._cached(
            "client:" + client_id,
            lambda: self._account_with_grants(service_accounts.c.client_id == client_id),
        )
        return found

    async def _account_with_grants(
        self, condition: Any
    ) -> tuple[tuple[Row[Any], list[str]], tuple[str, ...]] | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(sa.select(service_accounts).where(condition))).first()
            if row is None:
                return None
            _, scopes = await self.grants(row.tenant, SERVICE_ACCOUNT, row.id, connection)
        return (row, scopes), (principal_marker(row.id), roles_marker(row.tenant))

    # --- certificate identities -------------------------------------------------------------

    async def certificate_identities(self, account_id: str) -> list[str]:
        """The certificate identities bound to a service account, sorted."""
        async with self._engine.connect() as connection:
            values = (
                await connection.execute(
                    sa.select(certificate_identities.c.identity)
                    .where(certificate_identities.c.service_account_id == account_id)
                    .order_by(certificate_identities.c.identity)
                )
            ).scalars()
            return list(values)

    async def bind_certificate_identities(
        self, tenant: str, account_id: str, identities: Sequence[str]
    ) -> None:
        """Replaces the identities bound to a service account; ALREADY_EXISTS when one is taken."""
        wanted = sorted(set(identities))
        try:
            async with writing(self._engine) as connection:
                await self._require_principal(connection, tenant, SERVICE_ACCOUNT, account_id)
                await connection.execute(
                    sa.delete(certificate_identities).where(
                        certificate_identities.c.service_account_id == account_id
                    )
                )
                if wanted:
                    now = self._clock()
                    await connection.execute(
                        sa.insert(certificate_identities),
                        [
                            {
                                "identity": identity,
                                "service_account_id": account_id,
                                "tenant": tenant,
                                "created_at": now,
                            }
                            for identity in wanted
                        ],
                    )
        except IntegrityError:
            raise AlreadyExists(
                "a certificate identity is bound to another service account already",
                reason="CERTIFICATE_IDENTITY_TAKEN",
                resource=("certificate_identity", ", ".join(wanted)),
            ) from None
        await self._changed(principal_marker(account_id))

    async def account_for_identity(self, identity: str) -> tuple[Row[Any], list[str]] | None:
        """The service account a certificate identity is bound to, and its scopes (cached)."""

        async def load() -> tuple[tuple[Row[Any], list[str]], tuple[str, ...]] | None:
            bound = sa.select(certificate_identities.c.service_account_id).where(
                certificate_identities.c.identity == identity
            )
            return await self._account_with_grants(service_accounts.c.id.in_(bound))

        found: tuple[Row[Any], list[str]] | None = await self._cached("mtls:" + identity, load)
        return found

    async def list_service_accounts(
        self, tenant: str, query: str, role_id: str, include_disabled: bool, page: Page
    ) -> tuple[list[Row[Any]], bool]:
        """A page of service accounts ordered by display name."""
        return await self._list_principals(
            SERVICE_ACCOUNT, tenant, query, role_id, include_disabled, page
        )

    async def update_service_account(
        self, tenant: str, account_id: str, etag: str, changes: Mapping[str, Any]
    ) -> Row[Any]:
        """Applies the masked changes; disabling revokes the account's access tokens."""
        row = await self.get_service_account(tenant, account_id=account_id)
        _etag_check(row, etag)
        values = dict(changes)
        if "certificate_identities" in values:
            identities = values.pop("certificate_identities")
            await self.bind_certificate_identities(tenant, account_id, identities)
        if "allowed_audiences" in values:
            values["allowed_audiences"] = _json(list(values["allowed_audiences"]))
        if "labels" in values:
            values["labels"] = _json(dict(values["labels"]))
        if "access_token_ttl_s" in values:
            values["access_token_ttl_s"] = min(values["access_token_ttl_s"], self._max_ttl)
        values.update(updated_at=self._clock(), version=row.version + 1)
        async with writing(self._engine) as connection:
            result = await connection.execute(
                sa.update(service_accounts)
                .where(
                    service_accounts.c.id == account_id, service_accounts.c.version == row.version
                )
                .values(**values)
            )
        if result.rowcount != 1:
            raise Aborted("the service account changed concurrently", reason="CONFLICT")
        await self._changed(principal_marker(account_id))
        if values.get("disabled") and not row.disabled and self.revoker is not None:
            await self.revoker.revoke_principal(
                tenant, SERVICE_ACCOUNT, account_id, RevocationReason.DISABLED, api_keys=False
            )
        return await self.get_service_account(tenant, account_id=account_id)

    async def rotate_secret(
        self, tenant: str, account_id: str, *, grace_s: float, secret_ttl_s: float
    ) -> tuple[Row[Any], str]:
        """Issues a new client secret; the previous one stays valid for the grace period."""
        row = await self.get_service_account(tenant, account_id=account_id)
        now = self._clock()
        secret = CLIENT_SECRET_PREFIX + new_secret()
        previous_until = now + grace_s if grace_s > 0 else None
        if row.secret_expires_at is not None and previous_until is not None:
            previous_until = min(previous_until, row.secret_expires_at)
        async with writing(self._engine) as connection:
            await connection.execute(
                sa.update(service_accounts)
                .where(service_accounts.c.id == account_id)
                .values(
                    secret_hash=self._pepper.digest(secret),
                    secret_created_at=now,
                    secret_expires_at=self._secret_expiry(secret_ttl_s),
                    previous_secret_hash=row.secret_hash if previous_until else None,
                    previous_secret_expires_at=previous_until,
                    updated_at=now,
                    version=service_accounts.c.version + 1,
                )
            )
        await self._changed(principal_marker(account_id))
        return await self.get_service_account(tenant, account_id=account_id), secret

    def secret_matches(self, row: Row[Any], secret: str) -> bool:
        """Tells in constant time whether `secret` is the account's current or grace secret."""
        now = self._clock()
        current = self._pepper.matches(secret, row.secret_hash) and (
            row.secret_expires_at is None or row.secret_expires_at > now
        )
        previous = (
            row.previous_secret_hash is not None
            and row.previous_secret_expires_at is not None
            and row.previous_secret_expires_at > now
            and self._pepper.matches(secret, row.previous_secret_hash)
        )
        return current or previous

    async def delete_service_account(
        self, tenant: str, account_id: str, etag: str, *, allow_missing: bool
    ) -> None:
        """Deletes a service account and revokes every credential of it."""
        await self._delete_principal(
            tenant, SERVICE_ACCOUNT, account_id, etag, allow_missing=allow_missing
        )

    async def principal_active(self, tenant: str, kind: str, principal_id: str) -> Row[Any] | None:
        """The principal's row when it exists in the tenant and is enabled (cached briefly)."""
        table = users if kind == USER else service_accounts

        async def load() -> tuple[Row[Any], tuple[str, ...]] | None:
            async with self._engine.connect() as connection:
                row = (
                    await connection.execute(
                        sa.select(table).where(table.c.id == principal_id, table.c.tenant == tenant)
                    )
                ).first()
            if row is None or row.disabled:
                return None
            return row, (principal_marker(principal_id),)

        active: Row[Any] | None = await self._cached(f"active:{kind}:{tenant}:{principal_id}", load)
        return active
