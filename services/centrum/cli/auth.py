"""`centrum auth`: login, token, introspect, API keys, users, roles, and local bootstrap."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any

import typer
from google.protobuf import duration_pb2, field_mask_pb2
from rich.console import Console
from rich.table import Table

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.auth.v1 import principal_pb2
from centrum.cli._common import (
    DEFAULT_TARGET,
    ApiKey,
    AsJson,
    Target,
    Token,
    client,
    fail,
    print_json,
)

__all__ = ["app"]

app = typer.Typer(
    help="Auth: log in, get tokens, introspect, manage API keys, users and roles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
apikey_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
user_app = typer.Typer(
    help="Users: create, get, list, update, disable, delete, set-password.",
    no_args_is_help=True,
)
role_app = typer.Typer(help="Roles: create, list, delete, assign, unassign.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(role_app, name="role")

_out = Console()
_err = Console(stderr=True)


def _emit(message: Any, as_json: bool, rows: list[tuple[str, str]] | None = None) -> None:
    if as_json or rows is None:
        print_json(message)
        return
    table = Table(show_header=False)
    for name, value in rows:
        table.add_row(name, value)
    _out.print(table)


def _kind(value: str) -> principal_pb2.PrincipalKind:
    kinds = {
        "user": principal_pb2.PRINCIPAL_KIND_USER,
        "service-account": principal_pb2.PRINCIPAL_KIND_SERVICE_ACCOUNT,
    }
    if value not in kinds:
        raise fail("kind must be 'user' or 'service-account'")
    return kinds[value]


@app.command()
def login(
    username: Annotated[str, typer.Option(prompt=True, help="Username or email.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, envvar="CENTRUM_PASSWORD")],
    tenant: Annotated[str, typer.Option(help="Tenant (empty: the server's default).")] = "",
    target: Target = DEFAULT_TARGET,
    as_json: AsJson = False,
) -> None:
    """Logs in with a password; prints the access and refresh tokens."""
    with client(target, None) as centrum:
        response = centrum.auth.Login(
            auth_pb.LoginRequest(tenant=tenant, username=username, password=password)
        )
    tokens = response.tokens
    _emit(
        response,
        as_json,
        [
            ("session", response.session_id),
            ("scope", tokens.scope),
            ("access_token", tokens.access_token),
            ("refresh_token", tokens.refresh_token),
        ],
    )


@app.command()
def token(
    client_id: Annotated[str, typer.Option(envvar="CENTRUM_CLIENT_ID", help="OAuth2 client_id.")],
    client_secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, envvar="CENTRUM_CLIENT_SECRET")
    ],
    scope: Annotated[list[str] | None, typer.Option(help="Narrow to these scopes.")] = None,
    target: Target = DEFAULT_TARGET,
    as_json: AsJson = False,
) -> None:
    """Client credentials grant: prints an access token for a service account."""
    with client(target, None) as centrum:
        response = centrum.auth.Token(
            auth_pb.TokenRequest(
                client_id=client_id, client_secret=client_secret, scopes=scope or []
            )
        )
    if as_json:
        _emit(response, True)
    else:
        sys.stdout.write(response.tokens.access_token + "\n")


@app.command()
def introspect(
    value: Annotated[str, typer.Argument(help="Access token, refresh token or API key.")],
    target: Target = DEFAULT_TARGET,
    as_json: AsJson = False,
) -> None:
    """Reports whether a token is active and what it grants (RFC 7662)."""
    with client(target, None) as centrum:
        response = centrum.auth.IntrospectToken(auth_pb.IntrospectTokenRequest(token=value))
    _emit(
        response,
        as_json,
        [
            ("active", str(response.active).lower()),
            ("sub", response.sub),
            ("tenant", response.tenant),
            ("scope", response.scope),
            ("client_id", response.client_id),
        ],
    )


@app.command()
def revoke(
    value: Annotated[str, typer.Argument(help="Access token, refresh token or API key.")],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Revokes a token or API key (RFC 7009)."""
    with client(target, token) as centrum:
        centrum.auth.RevokeToken(auth_pb.RevokeTokenRequest(token=value))
    _err.print("revoked")


@app.command()
def bootstrap(
    tenant: Annotated[
        str | None, typer.Option(help="Tenant (default: the operator tenant).")
    ] = None,
    name: Annotated[str, typer.Option(help="Display name of the account.")] = "admin",
) -> None:
    """Creates an admin service account directly in the database; prints its secret once."""
    from centrum.cli.bootstrap import initialise_admin
    from centrum.cli.main import load_settings
    from centrum.services.auth import bootstrap as boot
    from centrum.services.db import migrate

    settings = load_settings()

    async def run() -> boot.BootstrapCredentials | None:
        migrate(settings.sqlalchemy_url)
        return await initialise_admin(
            settings, tenant or settings.auth.operator_tenant, name, force=True
        )

    created = asyncio.run(run())
    assert created is not None, "force=True always creates an account"
    boot.announce(created, None)


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Short label, e.g. ci-deploy.")],
    scope: Annotated[list[str], typer.Option(help="Scopes the key grants (repeat).")],
    ttl_days: Annotated[float | None, typer.Option(help="Lifetime in days.")] = None,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Creates an API key for the caller; the secret is printed once."""
    request = auth_pb.CreateApiKeyRequest(name=name, scopes=scope)
    if ttl_days is not None:
        request.ttl.CopyFrom(duration_pb2.Duration(seconds=int(ttl_days * 86400)))
    with client(target, token, api_key) as centrum:
        response = centrum.auth.CreateApiKey(request)
    _emit(
        response,
        as_json,
        [
            ("id", response.api_key.id),
            ("prefix", response.api_key.prefix),
            ("secret", response.secret),
        ],
    )


@apikey_app.command("list")
def apikey_list(
    all_owners: Annotated[bool, typer.Option(help="Every key of the tenant (auth.admin).")] = False,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Lists API keys (never their secrets)."""
    with client(target, token, api_key) as centrum:
        response = centrum.auth.ListApiKeys(auth_pb.ListApiKeysRequest(all_owners=all_owners))
    if as_json:
        _emit(response, True)
        return
    table = Table("id", "prefix", "name", "owner", "scopes")
    for key in response.api_keys:
        table.add_row(key.id, key.prefix, key.name, key.owner.id, " ".join(key.scopes))
    _out.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="Id of the key.")],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
) -> None:
    """Revokes an API key on every replica."""
    with client(target, token, api_key) as centrum:
        centrum.auth.RevokeApiKey(auth_pb.RevokeApiKeyRequest(api_key_id=key_id))
    _err.print("revoked")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, envvar="CENTRUM_PASSWORD")],
    email: Annotated[str, typer.Option()] = "",
    role_id: Annotated[list[str] | None, typer.Option(help="Roles to assign.")] = None,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Creates a user."""
    with client(target, token) as centrum:
        response = centrum.auth_admin.CreateUser(
            admin_pb.CreateUserRequest(
                user=principal_pb2.User(username=username, email=email),
                password=password,
                role_ids=role_id or [],
            )
        )
    _emit(response, as_json, [("id", response.user.id), ("username", response.user.username)])


@user_app.command("list")
def user_list(
    query: Annotated[str, typer.Option()] = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Lists users."""
    with client(target, token) as centrum:
        response = centrum.auth_admin.ListUsers(
            admin_pb.ListUsersRequest(query=query, include_disabled=True)
        )
    if as_json:
        _emit(response, True)
        return
    table = Table("id", "username", "disabled", "scopes")
    for user in response.users:
        table.add_row(user.id, user.username, str(user.disabled).lower(), " ".join(user.scopes))
    _out.print(table)


def _user_rows(user: principal_pb2.User) -> list[tuple[str, str]]:
    locked = user.locked_until.ToJsonString() if user.HasField("locked_until") else ""
    return [
        ("id", user.id),
        ("username", user.username),
        ("email", user.email),
        ("display_name", user.display_name),
        ("disabled", str(user.disabled).lower()),
        ("scopes", " ".join(user.scopes)),
        ("failed_logins", str(user.failed_login_count)),
        ("locked_until", locked),
        ("etag", user.etag),
    ]


@user_app.command("get")
def user_get(
    user_id: Annotated[str, typer.Argument()],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Shows one user (never a password hash)."""
    with client(target, token) as centrum:
        response = centrum.auth_admin.GetUser(admin_pb.GetUserRequest(user_id=user_id))
    _emit(response, as_json, _user_rows(response.user))


def _update_user(
    target: str,
    token: str | None,
    user: principal_pb2.User,
    paths: list[str],
    as_json: bool,
) -> None:
    if not paths:
        raise fail("nothing to change: pass at least one option")
    with client(target, token) as centrum:
        response = centrum.auth_admin.UpdateUser(
            admin_pb.UpdateUserRequest(user=user, update_mask=field_mask_pb2.FieldMask(paths=paths))
        )
    _emit(response, as_json, _user_rows(response.user))


@user_app.command("update")
def user_update(
    user_id: Annotated[str, typer.Argument()],
    username: Annotated[str | None, typer.Option(help="New username.")] = None,
    email: Annotated[str | None, typer.Option(help="New email ('' clears it).")] = None,
    display_name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    unlock: Annotated[bool, typer.Option(help="End a lockout after failed logins.")] = False,
    enable: Annotated[
        bool, typer.Option(help="Enable a disabled user (revoked sessions stay revoked).")
    ] = False,
    etag: Annotated[str, typer.Option(help="Fail if the user changed since this etag.")] = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Changes the fields given as options; the others stay as they are."""
    user = principal_pb2.User(id=user_id, etag=etag)
    paths = []
    for path, value in (("username", username), ("email", email), ("display_name", display_name)):
        if value is not None:
            setattr(user, path, value)
            paths.append(path)
    if unlock:
        paths.append("locked_until")
    if enable:
        paths.append("disabled")
    _update_user(target, token, user, paths, as_json)


@user_app.command("disable")
def user_disable(
    user_id: Annotated[str, typer.Argument()],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Disables a user: no logins or refreshes; its sessions and tokens are revoked."""
    user = principal_pb2.User(id=user_id, disabled=True)
    _update_user(target, token, user, ["disabled"], as_json)


@user_app.command("delete")
def user_delete(
    user_id: Annotated[str, typer.Argument()],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Deletes a user and revokes its credentials."""
    with client(target, token) as centrum:
        centrum.auth_admin.DeleteUser(admin_pb.DeleteUserRequest(user_id=user_id))
    _err.print("deleted")


@user_app.command("set-password")
def user_set_password(
    user_id: Annotated[str, typer.Argument()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, envvar="CENTRUM_PASSWORD")],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Sets a user's password (ends its sessions)."""
    with client(target, token) as centrum:
        centrum.auth_admin.SetUserPassword(
            admin_pb.SetUserPasswordRequest(user_id=user_id, password=password)
        )
    _err.print("password set")


@role_app.command("create")
def role_create(
    name: Annotated[str, typer.Argument()],
    scope: Annotated[list[str], typer.Option(help="Scopes the role grants (repeat).")],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    as_json: AsJson = False,
) -> None:
    """Creates a role."""
    with client(target, token) as centrum:
        response = centrum.auth_admin.CreateRole(
            admin_pb.CreateRoleRequest(role=principal_pb2.Role(name=name, scopes=scope))
        )
    _emit(response, as_json, [("id", response.role.id), ("name", response.role.name)])


@role_app.command("list")
def role_list(
    target: Target = DEFAULT_TARGET, token: Token = None, as_json: AsJson = False
) -> None:
    """Lists roles."""
    with client(target, token) as centrum:
        response = centrum.auth_admin.ListRoles(admin_pb.ListRolesRequest())
    if as_json:
        _emit(response, True)
        return
    table = Table("id", "name", "scopes", "builtin")
    for role in response.roles:
        table.add_row(role.id, role.name, " ".join(role.scopes), str(role.builtin).lower())
    _out.print(table)


@role_app.command("delete")
def role_delete(
    role_id: Annotated[str, typer.Argument()],
    force: Annotated[
        bool, typer.Option(help="Delete even while assigned, removing every assignment.")
    ] = False,
    etag: Annotated[str, typer.Option(help="Fail if the role changed since this etag.")] = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Deletes a role; refused while it is assigned unless --force."""
    with client(target, token) as centrum:
        centrum.auth_admin.DeleteRole(
            admin_pb.DeleteRoleRequest(role_id=role_id, etag=etag, force=force)
        )
    _err.print("deleted")


def _print_grants(response: Any) -> None:
    """The principal's roles and scopes after an assignment change, as JSON."""
    print_json({"role_ids": list(response.role_ids), "scopes": list(response.scopes)})


@role_app.command("assign")
def role_assign(
    role_id: Annotated[str, typer.Argument()],
    principal_id: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option(help="user or service-account")] = "user",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Assigns a role to a user or service account."""
    ref = principal_pb2.PrincipalRef(kind=_kind(kind), id=principal_id)
    with client(target, token) as centrum:
        response = centrum.auth_admin.AssignRole(
            admin_pb.AssignRoleRequest(role_id=role_id, principal=ref)
        )
    _print_grants(response)


@role_app.command("unassign")
def role_unassign(
    role_id: Annotated[str, typer.Argument()],
    principal_id: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option(help="user or service-account")] = "user",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
) -> None:
    """Removes a role from a user or service account."""
    ref = principal_pb2.PrincipalRef(kind=_kind(kind), id=principal_id)
    with client(target, token) as centrum:
        response = centrum.auth_admin.UnassignRole(
            admin_pb.UnassignRoleRequest(role_id=role_id, principal=ref)
        )
    _print_grants(response)
