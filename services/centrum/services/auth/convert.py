"""Rows of the auth tables as contract messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from sqlalchemy.engine import Row

from centrum.auth.v1 import credential_pb2, principal_pb2
from centrum.services.auth.directory import SERVICE_ACCOUNT, USER
from centrum.services.auth.keys import KeyView

__all__ = [
    "KIND_NAMES",
    "KIND_VALUES",
    "api_key_message",
    "duration",
    "jwk_message",
    "role_message",
    "service_account_message",
    "session_message",
    "signing_key_message",
    "timestamp",
    "user_message",
]

KIND_VALUES = {
    USER: principal_pb2.PRINCIPAL_KIND_USER,
    SERVICE_ACCOUNT: principal_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT,
}
KIND_NAMES = {value: name for name, value in KIND_VALUES.items()}
_ALGORITHMS = {
    "EdDSA": credential_pb2.SIGNING_ALGORITHM_ED25519,
    "ES256": credential_pb2.SIGNING_ALGORITHM_ES256,
    "RS256": credential_pb2.SIGNING_ALGORITHM_RS256,
}
_STORAGE = {
    "local": credential_pb2.KEY_STORAGE_LOCAL,
    "transit": credential_pb2.KEY_STORAGE_TRANSIT,
}


def timestamp(value: float | None) -> timestamp_pb2.Timestamp | None:
    """A Timestamp for Unix seconds, or None."""
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(value * 1e9))
    return stamp


def duration(seconds: float) -> duration_pb2.Duration:
    """A Duration of `seconds`."""
    value = duration_pb2.Duration()
    value.FromNanoseconds(int(seconds * 1e9))
    return value


def _times(message: Any, **fields: float | None) -> None:
    for name, value in fields.items():
        stamp = timestamp(value)
        if stamp is not None:
            getattr(message, name).CopyFrom(stamp)


def user_message(row: Row[Any], role_ids: list[str], scopes: list[str]) -> principal_pb2.User:
    """A User message (never the password hash)."""
    message = principal_pb2.User(
        id=row.id,
        username=row.username,
        email=row.email or "",
        display_name=row.display_name,
        disabled=row.disabled,
        role_ids=role_ids,
        scopes=scopes,
        labels=json.loads(row.labels),
        password_set=row.password_hash is not None,
        failed_login_count=row.failed_logins,
        etag=str(row.version),
    )
    _times(
        message,
        password_update_time=row.password_updated_at,
        last_login_time=row.last_login_at,
        locked_until=row.locked_until,
        create_time=row.created_at,
        update_time=row.updated_at,
    )
    return message


def service_account_message(
    row: Row[Any], role_ids: list[str], scopes: list[str], identities: Sequence[str] = ()
) -> principal_pb2.ServiceAccount:
    """A ServiceAccount message (never the secret hash)."""
    message = principal_pb2.ServiceAccount(
        id=row.id,
        client_id=row.client_id,
        display_name=row.display_name,
        description=row.description,
        disabled=row.disabled,
        role_ids=role_ids,
        scopes=scopes,
        allowed_audiences=json.loads(row.allowed_audiences),
        labels=json.loads(row.labels),
        etag=str(row.version),
        certificate_identities=list(identities),
    )
    if row.access_token_ttl_s:
        message.access_token_ttl.CopyFrom(duration(row.access_token_ttl_s))
    _times(
        message,
        secret_create_time=row.secret_created_at,
        secret_expire_time=row.secret_expires_at,
        previous_secret_expire_time=row.previous_secret_expires_at,
        last_token_time=row.last_token_at,
        create_time=row.created_at,
        update_time=row.updated_at,
    )
    return message


def role_message(row: Row[Any]) -> principal_pb2.Role:
    """A Role message."""
    message = principal_pb2.Role(
        id=row.id,
        name=row.name,
        description=row.description,
        scopes=json.loads(row.scopes),
        builtin=row.builtin,
        etag=str(row.version),
    )
    _times(message, create_time=row.created_at, update_time=row.updated_at)
    return message


def _state(revoked_at: float | None, expires_at: float | None, now: float) -> int:
    if revoked_at is not None:
        return credential_pb2.CREDENTIAL_STATE_REVOKED
    if expires_at is not None and expires_at <= now:
        return credential_pb2.CREDENTIAL_STATE_EXPIRED
    return credential_pb2.CREDENTIAL_STATE_ACTIVE


def api_key_message(row: Row[Any], now: float) -> credential_pb2.ApiKey:
    """An ApiKey message (never the secret or its hash)."""
    message = credential_pb2.ApiKey(
        id=row.id,
        name=row.name,
        description=row.description,
        prefix=row.prefix,
        owner=principal_pb2.PrincipalRef(kind=KIND_VALUES[row.owner_kind], id=row.owner_id),
        scopes=json.loads(row.scopes),
        state=_state(row.revoked_at, row.expires_at, now),  # type: ignore[arg-type]
        revoke_reason=row.revoke_reason,
    )
    _times(
        message,
        create_time=row.created_at,
        expire_time=row.expires_at,
        last_used_time=row.last_used_at,
        revoke_time=row.revoked_at,
    )
    return message


def session_message(row: Row[Any], now: float, current_session: str) -> credential_pb2.Session:
    """A Session message."""
    message = credential_pb2.Session(
        id=row.id,
        user_id=row.user_id,
        scopes=json.loads(row.scopes),
        audience=json.loads(row.audience),
        state=_state(row.revoked_at, row.expires_at, now),  # type: ignore[arg-type]
        current=row.id == current_session,
        ip_address=row.ip_address,
        user_agent=row.user_agent,
        last_ip_address=row.last_ip_address,
        revoke_reason=row.revoke_reason,
    )
    _times(
        message,
        create_time=row.created_at,
        last_refresh_time=row.last_refresh_at,
        expire_time=row.expires_at,
        revoke_time=row.revoked_at,
    )
    return message


def jwk_message(jwk: dict[str, Any] | Any) -> credential_pb2.Jwk:
    """A Jwk message from a JWK mapping."""
    fields = ("kid", "kty", "crv", "x", "y", "n", "e", "alg", "use")
    return credential_pb2.Jwk(**{name: str(jwk.get(name, "")) for name in fields})


def signing_key_message(view: KeyView) -> credential_pb2.SigningKey:
    """A SigningKey message (public material only)."""
    message = credential_pb2.SigningKey(
        kid=view.kid,
        algorithm=_ALGORITHMS[view.algorithm],
        state=view.state,  # type: ignore[arg-type]
        storage=_STORAGE[view.storage],
        public_key=jwk_message(view.public_jwk),
    )
    _times(
        message,
        create_time=view.created_at,
        activate_time=view.activate_at,
        retire_time=view.retire_at,
        expire_time=view.expire_at,
    )
    return message
