"""Request validators of the auth RPCs, run by the chain's validation step."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf import message

from centrum.auth.v1 import principal_pb2
from centrum.interceptors.errors import FieldViolation
from centrum.interceptors.validation import Validator
from centrum.services.auth.directory import ROLE_NAME_PATTERN, SCOPE_PATTERN

__all__ = ["VALIDATORS"]

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,254}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_MAX_TOKEN = 8192
# A certificate identity: a SPIFFE ID (spiffe://<trust domain>/<path>) or a subject common name,
# printable ASCII without surrounding spaces.
_SPIFFE = re.compile(r"^spiffe://[a-z0-9._-]+(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$")
_COMMON_NAME = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,510}[\x21-\x7e])?$")
_MAX_IDENTITIES = 16
_MAX_IDENTITY_LENGTH = 512  # the column's width
_MAX_DISPLAY_NAME = 255  # the column's width
# The longest lifetime (secret, API key) or delay counted from now: the end must stay a time the
# contract's Timestamp can carry (before the year 10000), or the stored row could never be read.
_MAX_LIFETIME_S = 100 * 365 * 86400
_KINDS = (principal_pb2.PRINCIPAL_KIND_USER, principal_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT)


def _required(request: Any, *paths: str) -> Iterable[FieldViolation]:
    for path in paths:
        value: Any = request
        for part in path.split("."):
            value = getattr(value, part)
        if not value:
            yield FieldViolation(path, "is required")


def _scopes(field: str, scopes: Iterable[str]) -> Iterable[FieldViolation]:
    for index, scope in enumerate(scopes):
        if not SCOPE_PATTERN.match(scope):
            yield FieldViolation(f"{field}[{index}]", "must look like '<area>.<verb>' or '*'")


def _length(field: str, value: str, limit: int) -> Iterable[FieldViolation]:
    if len(value) > limit:
        yield FieldViolation(field, f"must be at most {limit} characters")


def _principal(field: str, ref: Any) -> Iterable[FieldViolation]:
    if ref.kind not in _KINDS:
        yield FieldViolation(f"{field}.kind", "must be USER or SERVICE_ACCOUNT")
    if not ref.id:
        yield FieldViolation(f"{field}.id", "is required")


def _identities(field: str, identities: Sequence[str]) -> Iterable[FieldViolation]:
    if len(identities) > _MAX_IDENTITIES:
        yield FieldViolation(field, f"at most {_MAX_IDENTITIES} identities")
    for index, identity in enumerate(identities):
        spiffe = identity.lower().startswith("spiffe://")
        if len(identity) > _MAX_IDENTITY_LENGTH:
            yield FieldViolation(
                f"{field}[{index}]", f"must be at most {_MAX_IDENTITY_LENGTH} characters"
            )
        elif not (_SPIFFE if spiffe else _COMMON_NAME).match(identity):
            yield FieldViolation(
                f"{field}[{index}]",
                "must be a SPIFFE ID (spiffe://trust-domain/path) or a certificate common name"
                " (printable, 1-512 characters)",
            )


def _non_negative(field: str, value: Any) -> Iterable[FieldViolation]:
    if value.ToNanoseconds() < 0:
        yield FieldViolation(field, "must not be negative")


def _lifetime(field: str, value: Any) -> Iterable[FieldViolation]:
    """A duration counted from now: not negative, and at most `_MAX_LIFETIME_S`."""
    nanos = value.ToNanoseconds()
    if nanos < 0:
        yield FieldViolation(field, "must not be negative")
    elif nanos > _MAX_LIFETIME_S * 1_000_000_000:
        yield FieldViolation(field, "must be at most 100 years")


def _user(request: Any, prefix: str, *, creating: bool) -> Iterable[FieldViolation]:
    user = request.user
    if (creating or "username" in request_paths(request)) and not _USERNAME.match(user.username):
        yield FieldViolation(f"{prefix}.username", "letters, digits and ._@+- (1-255)")
    if user.email and not _EMAIL.match(user.email):
        yield FieldViolation(f"{prefix}.email", "is not an email address")
    yield from _length(f"{prefix}.display_name", user.display_name, 255)


def _display_name(account: Any) -> Iterable[FieldViolation]:
    """A service account's display name: required, at most the column's width."""
    if not account.display_name:
        yield FieldViolation("service_account.display_name", "is required")
    yield from _length("service_account.display_name", account.display_name, _MAX_DISPLAY_NAME)


def _masked(
    request: Any, path: str, check: Callable[[], Iterable[FieldViolation]]
) -> Iterable[FieldViolation]:
    """The violations of `check` when the update mask names `path`, else none."""
    return check() if path in request_paths(request) else ()


def request_paths(request: Any) -> list[str]:
    """The update mask paths of a request, if it has one."""
    mask = getattr(request, "update_mask", None)
    return list(mask.paths) if mask is not None else []


def _rule(*checks: Callable[[Any], Iterable[FieldViolation]]) -> Validator:
    def validate(request: message.Message) -> list[FieldViolation]:
        return [v for check in checks for v in check(request)]

    return validate


_AUTH = "/centrum.auth.v1.AuthService/"
_ADMIN = "/centrum.auth.v1.AuthAdminService/"

VALIDATORS: dict[str, Validator] = {
    _AUTH + "Login": _rule(
        lambda r: _required(r, "username", "password"),
        lambda r: _length("username", r.username, 320),
        lambda r: _length("password", r.password, 1024),
        lambda r: _scopes("scopes", r.scopes),
    ),
    _AUTH + "Refresh": _rule(
        lambda r: _required(r, "refresh_token"),
        lambda r: _length("refresh_token", r.refresh_token, 512),
        lambda r: _scopes("scopes", r.scopes),
    ),
    _AUTH + "Token": _rule(
        lambda r: _required(r, "client_id", "client_secret"),
        lambda r: _length("client_id", r.client_id, 64),
        lambda r: _length("client_secret", r.client_secret, 512),
        lambda r: _scopes("scopes", r.scopes),
    ),
    _AUTH + "IntrospectToken": _rule(
        lambda r: _required(r, "token"),
        lambda r: _length("token", r.token, _MAX_TOKEN),
        lambda r: _scopes("required_scopes", r.required_scopes),
    ),
    _AUTH + "RevokeToken": _rule(
        lambda r: _required(r, "token"), lambda r: _length("token", r.token, _MAX_TOKEN)
    ),
    _AUTH + "RotateSigningKey": _rule(
        lambda r: _lifetime("activation_delay", r.activation_delay),
        lambda r: _length("reason", r.reason, 512),
    ),
    _AUTH + "CreateApiKey": _rule(
        lambda r: _required(r, "name", "scopes"),
        lambda r: _length("name", r.name, 63),
        lambda r: _length("description", r.description, 1024),
        lambda r: _scopes("scopes", r.scopes),
        lambda r: _principal("owner", r.owner) if r.HasField("owner") else (),
        lambda r: (
            [FieldViolation("ttl", "must be positive")]
            if r.HasField("ttl") and r.ttl.ToNanoseconds() <= 0
            else _lifetime("ttl", r.ttl)
        ),
    ),
    _AUTH + "ListApiKeys": _rule(
        lambda r: _principal("owner", r.owner) if r.HasField("owner") else ()
    ),
    _AUTH + "RevokeApiKey": _rule(lambda r: _required(r, "api_key_id")),
    _AUTH + "RevokeSession": _rule(lambda r: _required(r, "session_id")),
    _ADMIN + "CreateUser": _rule(lambda r: _user(r, "user", creating=True)),
    _ADMIN + "GetUser": _rule(lambda r: _required(r, "user_id")),
    _ADMIN + "UpdateUser": _rule(
        lambda r: _required(r, "user.id"), lambda r: _user(r, "user", creating=False)
    ),
    _ADMIN + "DeleteUser": _rule(lambda r: _required(r, "user_id")),
    _ADMIN + "SetUserPassword": _rule(lambda r: _required(r, "user_id", "password")),
    _ADMIN + "CreateServiceAccount": _rule(
        lambda r: _display_name(r.service_account),
        lambda r: _non_negative(
            "service_account.access_token_ttl", r.service_account.access_token_ttl
        ),
        lambda r: _lifetime("secret_ttl", r.secret_ttl),
        lambda r: _identities(
            "service_account.certificate_identities", r.service_account.certificate_identities
        ),
    ),
    _ADMIN + "GetServiceAccount": _rule(
        lambda r: [] if r.WhichOneof("lookup") else [FieldViolation("lookup", "is required")]
    ),
    _ADMIN + "UpdateServiceAccount": _rule(
        lambda r: _required(r, "service_account.id"),
        lambda r: _masked(r, "display_name", lambda: _display_name(r.service_account)),
        lambda r: _masked(
            r,
            "access_token_ttl",
            lambda: _non_negative(
                "service_account.access_token_ttl", r.service_account.access_token_ttl
            ),
        ),
        lambda r: _identities(
            "service_account.certificate_identities", r.service_account.certificate_identities
        ),
    ),
    _ADMIN + "DeleteServiceAccount": _rule(lambda r: _required(r, "service_account_id")),
    _ADMIN + "RotateServiceAccountSecret": _rule(
        lambda r: _required(r, "service_account_id"),
        lambda r: _lifetime("secret_ttl", r.secret_ttl),
        lambda r: _non_negative("previous_secret_grace_period", r.previous_secret_grace_period),
        lambda r: (
            [FieldViolation("previous_secret_grace_period", "must be at most 30 days")]
            if r.previous_secret_grace_period.seconds > 30 * 86400
            else []
        ),
    ),
    _ADMIN + "CreateRole": _rule(
        lambda r: (
            []
            if ROLE_NAME_PATTERN.match(r.role.name)
            else [FieldViolation("role.name", "lowercase letters, digits and dashes (1-63)")]
        ),
        lambda r: _required(r, "role.scopes"),
        lambda r: _scopes("role.scopes", r.role.scopes),
    ),
    _ADMIN + "GetRole": _rule(
        lambda r: [] if r.WhichOneof("lookup") else [FieldViolation("lookup", "is required")]
    ),
    _ADMIN + "UpdateRole": _rule(
        lambda r: _required(r, "role.id"),
        lambda r: _scopes("role.scopes", r.role.scopes),
        lambda r: (
            [FieldViolation("role.name", "lowercase letters, digits and dashes (1-63)")]
            if "name" in request_paths(r) and not ROLE_NAME_PATTERN.match(r.role.name)
            else []
        ),
    ),
    _ADMIN + "DeleteRole": _rule(lambda r: _required(r, "role_id")),
    _ADMIN + "AssignRole": _rule(
        lambda r: _required(r, "role_id"), lambda r: _principal("principal", r.principal)
    ),
    _ADMIN + "UnassignRole": _rule(
        lambda r: _required(r, "role_id"), lambda r: _principal("principal", r.principal)
    ),
}
