"""The AuthAdminService servicer: users, service accounts, roles and assignments of a tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from centrum.auth.v1 import auth_admin_service_pb2 as pb
from centrum.auth.v1 import auth_admin_service_pb2_grpc
from centrum.interceptors.context import current_principal
from centrum.interceptors.errors import FieldViolation, InvalidArgument
from centrum.services.auth import convert
from centrum.services.auth.directory import SERVICE_ACCOUNT, USER, Directory
from centrum.services.auth.guard import backend_boundary
from centrum.services.auth.paging import page_of

__all__ = ["ROLE_MASK", "SERVICE_ACCOUNT_MASK", "USER_MASK", "AuthAdminServicer"]

USER_MASK = frozenset({"username", "email", "display_name", "disabled", "labels", "locked_until"})
SERVICE_ACCOUNT_MASK = frozenset(
    {
        "display_name",
        "description",
        "disabled",
        "allowed_audiences",
        "access_token_ttl",
        "labels",
        "certificate_identities",
    }
)
ROLE_MASK = frozenset({"name", "description", "scopes"})


def _tenant() -> str:
    return current_principal().tenant


def _mask(paths: Sequence[str], allowed: frozenset[str]) -> list[str]:
    bad = [p for p in paths if p not in allowed]
    if not paths or bad:
        raise InvalidArgument(
            "update_mask must name fields that can change",
            reason="INVALID_REQUEST",
            field_violations=[
                FieldViolation("update_mask", f"allowed paths: {', '.join(sorted(allowed))}")
            ],
        )
    return list(paths)


class AuthAdminServicer(auth_admin_service_pb2_grpc.AuthAdminServiceServicer):
    """Implements centrum.auth.v1.AuthAdminService over the directory."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory

    async def _user(self, tenant: str, row: Any) -> Any:
        role_ids, scopes = await self._directory.grants(tenant, USER, row.id)
        return convert.user_message(row, role_ids, scopes)

    async def _account(self, tenant: str, row: Any) -> Any:
        role_ids, scopes = await self._directory.grants(tenant, SERVICE_ACCOUNT, row.id)
        identities = await self._directory.certificate_identities(row.id)
        return convert.service_account_message(row, role_ids, scopes, identities)

    @backend_boundary
    async def CreateUser(
        self, request: pb.CreateUserRequest, context: Any
    ) -> pb.CreateUserResponse:
        """Creates a user."""
        tenant = _tenant()
        user = request.user
        row = await self._directory.create_user(
            tenant,
            username=user.username,
            email=user.email,
            display_name=user.display_name,
            disabled=user.disabled,
            labels=dict(user.labels),
            password=request.password,
            role_ids=list(request.role_ids),
        )
        return pb.CreateUserResponse(user=await self._user(tenant, row))

    @backend_boundary
    async def GetUser(self, request: pb.GetUserRequest, context: Any) -> pb.GetUserResponse:
        """Returns one user."""
        tenant = _tenant()
        row = await self._directory.get_user(tenant, request.user_id)
        return pb.GetUserResponse(user=await self._user(tenant, row))

    @backend_boundary
    async def ListUsers(self, request: pb.ListUsersRequest, context: Any) -> pb.ListUsersResponse:
        """Lists users by username."""
        tenant = _tenant()
        page = page_of(
            request.page_size,
            request.page_token,
            request.query,
            request.role_id,
            request.include_disabled,
        )
        rows, more = await self._directory.list_users(
            tenant, request.query, request.role_id, request.include_disabled, page
        )
        return pb.ListUsersResponse(
            users=[await self._user(tenant, row) for row in rows],
            next_page_token=page.next_token(len(rows), more),
        )

    @backend_boundary
    async def UpdateUser(
        self, request: pb.UpdateUserRequest, context: Any
    ) -> pb.UpdateUserResponse:
        """Changes the masked fields of a user."""
        tenant = _tenant()
        paths = _mask(request.update_mask.paths, USER_MASK)
        user = request.user
        if "locked_until" in paths and user.HasField("locked_until"):
            raise InvalidArgument(
                "locked_until may only be cleared",
                reason="INVALID_REQUEST",
                field_violations=[FieldViolation("user.locked_until", "may only be cleared")],
            )
        changes = {
            path: (dict(user.labels) if path == "labels" else getattr(user, path)) for path in paths
        }
        row = await self._directory.update_user(tenant, user.id, user.etag, changes)
        return pb.UpdateUserResponse(user=await self._user(tenant, row))

    @backend_boundary
    async def DeleteUser(
        self, request: pb.DeleteUserRequest, context: Any
    ) -> pb.DeleteUserResponse:
        """Deletes a user and revokes its credentials."""
        await self._directory.delete_user(
            _tenant(), request.user_id, request.etag, allow_missing=request.allow_missing
        )
        return pb.DeleteUserResponse()

    @backend_boundary
    async def SetUserPassword(
        self, request: pb.SetUserPasswordRequest, context: Any
    ) -> pb.SetUserPasswordResponse:
        """Sets a user's password."""
        tenant = _tenant()
        row = await self._directory.set_password(
            tenant, request.user_id, request.password, keep_sessions=request.keep_sessions
        )
        return pb.SetUserPasswordResponse(user=await self._user(tenant, row))

    @backend_boundary
    async def CreateServiceAccount(
        self, request: pb.CreateServiceAccountRequest, context: Any
    ) -> pb.CreateServiceAccountResponse:
        """Creates a service account; its secret is returned once."""
        tenant = _tenant()
        account = request.service_account
        row, secret = await self._directory.create_service_account(
            tenant,
            display_name=account.display_name,
            description=account.description,
            disabled=account.disabled,
            allowed_audiences=list(account.allowed_audiences),
            access_token_ttl_s=account.access_token_ttl.ToNanoseconds() / 1e9,
            labels=dict(account.labels),
            role_ids=list(request.role_ids),
            secret_ttl_s=request.secret_ttl.ToNanoseconds() / 1e9,
            identities=list(account.certificate_identities),
        )
        return pb.CreateServiceAccountResponse(
            service_account=await self._account(tenant, row), client_secret=secret
        )

    @backend_boundary
    async def GetServiceAccount(
        self, request: pb.GetServiceAccountRequest, context: Any
    ) -> pb.GetServiceAccountResponse:
        """Returns one service account."""
        tenant = _tenant()
        row = await self._directory.get_service_account(
            tenant, account_id=request.service_account_id, client_id=request.client_id
        )
        return pb.GetServiceAccountResponse(service_account=await self._account(tenant, row))

    @backend_boundary
    async def ListServiceAccounts(
        self, request: pb.ListServiceAccountsRequest, context: Any
    ) -> pb.ListServiceAccountsResponse:
        """Lists service accounts by display name."""
        tenant = _tenant()
        page = page_of(
            request.page_size,
            request.page_token,
            request.query,
            request.role_id,
            request.include_disabled,
        )
        rows, more = await self._directory.list_service_accounts(
            tenant, request.query, request.role_id, request.include_disabled, page
        )
        return pb.ListServiceAccountsResponse(
            service_accounts=[await self._account(tenant, row) for row in rows],
            next_page_token=page.next_token(len(rows), more),
        )

    @backend_boundary
    async def UpdateServiceAccount(
        self, request: pb.UpdateServiceAccountRequest, context: Any
    ) -> pb.UpdateServiceAccountResponse:
        """Changes the masked fields of a service account."""
        tenant = _tenant()
        paths = _mask(request.update_mask.paths, SERVICE_ACCOUNT_MASK)
        account = request.service_account
        changes: dict[str, Any] = {}
        for path in paths:
            if path == "access_token_ttl":
                changes["access_token_ttl_s"] = account.access_token_ttl.ToNanoseconds() / 1e9
            elif path in ("labels", "allowed_audiences", "certificate_identities"):
                value = getattr(account, path)
                changes[path] = dict(value) if path == "labels" else list(value)
            else:
                changes[path] = getattr(account, path)
        row = await self._directory.update_service_account(
            tenant, account.id, account.etag, changes
        )
        return pb.UpdateServiceAccountResponse(service_account=await self._account(tenant, row))

    @backend_boundary
    async def DeleteServiceAccount(
        self, request: pb.DeleteServiceAccountRequest, context: Any
    ) -> pb.DeleteServiceAccountResponse:
        """Deletes a service account and revokes its credentials."""
        await self._directory.delete_service_account(
            _tenant(), request.service_account_id, request.etag, allow_missing=request.allow_missing
        )
        return pb.DeleteServiceAccountResponse()

    @backend_boundary
    async def RotateServiceAccountSecret(
        self, request: pb.RotateServiceAccountSecretRequest, context: Any
    ) -> pb.RotateServiceAccountSecretResponse:
        """Issues a new client secret, keeping the old one for the grace period."""
        tenant = _tenant()
        row, secret = await self._directory.rotate_secret(
            tenant,
            request.service_account_id,
            grace_s=request.previous_secret_grace_period.ToNanoseconds() / 1e9,
            secret_ttl_s=request.secret_ttl.ToNanoseconds() / 1e9,
        )
        return pb.RotateServiceAccountSecretResponse(
            service_account=await self._account(tenant, row), client_secret=secret
        )

    @backend_boundary
    async def CreateRole(
        self, request: pb.CreateRoleRequest, context: Any
    ) -> pb.CreateRoleResponse:
        """Creates a role."""
        role = request.role
        row = await self._directory.create_role(
            _tenant(), role.name, role.description, list(role.scopes)
        )
        return pb.CreateRoleResponse(role=convert.role_message(row))

    @backend_boundary
    async def GetRole(self, request: pb.GetRoleRequest, context: Any) -> pb.GetRoleResponse:
        """Returns one role."""
        row = await self._directory.get_role(_tenant(), role_id=request.role_id, name=request.name)
        return pb.GetRoleResponse(role=convert.role_message(row))

    @backend_boundary
    async def ListRoles(self, request: pb.ListRolesRequest, context: Any) -> pb.ListRolesResponse:
        """Lists roles by name."""
        page = page_of(request.page_size, request.page_token, request.scope)
        rows, more = await self._directory.list_roles(_tenant(), request.scope, page)
        return pb.ListRolesResponse(
            roles=[convert.role_message(row) for row in rows],
            next_page_token=page.next_token(len(rows), more),
        )

    @backend_boundary
    async def UpdateRole(
        self, request: pb.UpdateRoleRequest, context: Any
    ) -> pb.UpdateRoleResponse:
        """Changes the masked fields of a role."""
        paths = _mask(request.update_mask.paths, ROLE_MASK)
        role = request.role
        changes = {
            path: (list(role.scopes) if path == "scopes" else getattr(role, path)) for path in paths
        }
        row = await self._directory.update_role(_tenant(), role.id, role.etag, changes)
        return pb.UpdateRoleResponse(role=convert.role_message(row))

    @backend_boundary
    async def DeleteRole(
        self, request: pb.DeleteRoleRequest, context: Any
    ) -> pb.DeleteRoleResponse:
        """Deletes a role."""
        await self._directory.delete_role(
            _tenant(),
            request.role_id,
            request.etag,
            force=request.force,
            allow_missing=request.allow_missing,
        )
        return pb.DeleteRoleResponse()

    @backend_boundary
    async def AssignRole(
        self, request: pb.AssignRoleRequest, context: Any
    ) -> pb.AssignRoleResponse:
        """Assigns a role to a principal (idempotent)."""
        role_ids, scopes = await self._directory.assign(
            _tenant(),
            [request.role_id],
            convert.KIND_NAMES[request.principal.kind],
            request.principal.id,
        )
        return pb.AssignRoleResponse(role_ids=role_ids, scopes=scopes)

    @backend_boundary
    async def UnassignRole(
        self, request: pb.UnassignRoleRequest, context: Any
    ) -> pb.UnassignRoleResponse:
        """Removes a role from a principal (idempotent)."""
        role_ids, scopes = await self._directory.unassign(
            _tenant(),
            request.role_id,
            convert.KIND_NAMES[request.principal.kind],
            request.principal.id,
        )
        return pb.UnassignRoleResponse(role_ids=role_ids, scopes=scopes)
