"""Shared helpers of the auth service tests (this module holds no tests itself)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import grpc
from google.rpc import error_details_pb2, status_pb2

from centrum.auth.v1 import (
    auth_admin_service_pb2 as admin_pb,
)
from centrum.auth.v1 import auth_admin_service_pb2_grpc, auth_service_pb2_grpc, principal_pb2
from centrum.auth.v1 import (
    auth_service_pb2 as auth_pb,
)
from centrum.server import CentrumApp
from harness.centrum import StartCentrum
from harness.centrum import bootstrap_credentials as read_bootstrap_credentials

__all__ = [
    "Admin",
    "Client",
    "auth_settings",
    "bootstrap_credentials",
    "error_info",
    "has_detail",
    "running_admin",
    "start_auth",
]

FAST_ARGON2 = {"argon2_memory_kib": 8192, "argon2_time_cost": 1, "argon2_parallelism": 1}
OPEN_LIMITS = {
    bucket: {"per_minute": 1_000_000, "burst": 100_000}
    for bucket in (
        "auth.login",
        "auth.refresh",
        "auth.token",
        "auth.introspect",
        "auth.revoke",
        "auth.read",
        "auth.api_key.create",
        "auth.keys",
        "auth.admin.write",
        "auth.admin.read",
        "auth.admin.password",
    )
}


def auth_settings(tenant: str | None = None, **auth: Any) -> dict[str, Any]:
    """start_centrum overrides for auth tests: real verification, fast hashes, open limits."""
    values: dict[str, Any] = {
        "operator_tenant": tenant or "t-" + secrets.token_hex(6),
        "bootstrap_announce": False,
        **FAST_ARGON2,
        **auth,
    }
    return {"trust_test_keys": False, "auth": values, "rate_limits": OPEN_LIMITS}


def bootstrap_credentials(app: CentrumApp) -> dict[str, str]:
    """The credentials the first start wrote to data_dir/bootstrap-credentials."""
    return read_bootstrap_credentials(app.settings.data_dir)


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo detail of a failed call (empty when absent)."""
    for key, value in cast(Any, error.trailing_metadata()) or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info
    return error_details_pb2.ErrorInfo()


def has_detail(error: grpc.aio.AioRpcError, kind: type[Any]) -> bool:
    """Tells whether the failed call carries a detail of `kind`."""
    for key, value in cast(Any, error.trailing_metadata()) or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            return any(d.Is(kind.DESCRIPTOR) for d in status.details)
    return False


class _Metadata(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Adds the credential's metadata to every unary call."""

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self._pairs = pairs

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *self._pairs)
        return await continuation(
            grpc.aio.ClientCallDetails(
                details.method,
                details.timeout,
                metadata,
                details.credentials,
                details.wait_for_ready,
            ),
            request,
        )


class Client:
    """Generated auth stubs over one channel, presenting a credential (raw gRPC errors)."""

    def __init__(self, target: str, *, token: str | None = None, api_key: str | None = None):
        pairs: list[tuple[str, str]] = []
        if token:
            pairs.append(("authorization", f"Bearer {token}"))
        if api_key:
            pairs.append(("x-api-key", api_key))
        self.channel = grpc.aio.insecure_channel(
            target, interceptors=[cast(Any, _Metadata(tuple(pairs)))]
        )
        self.auth = auth_service_pb2_grpc.AuthServiceStub(self.channel)
        self.auth_admin = auth_admin_service_pb2_grpc.AuthAdminServiceStub(self.channel)

    async def close(self) -> None:
        """Closes the channel."""
        await self.channel.close(grace=None)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Admin:
    """A connected bootstrap admin of one test server."""

    def __init__(self, app: CentrumApp, token: str, tenant: str) -> None:
        self.app = app
        self.token = token
        self.tenant = tenant
        self.client = Client(self.target, token=token)

    @property
    def target(self) -> str:
        """host:port of the server."""
        return f"127.0.0.1:{self.app.port}"

    def connect(self, *, token: str | None = None, api_key: str | None = None) -> Client:
        """Another client of the same server."""
        return Client(self.target, token=token, api_key=api_key)

    async def role(self, *scopes: str) -> str:
        """Creates a role granting `scopes`; returns its id."""
        response = await self.client.auth_admin.CreateRole(
            admin_pb.CreateRoleRequest(
                role=principal_pb2.Role(name="r-" + secrets.token_hex(4), scopes=list(scopes))
            )
        )
        return str(response.role.id)

    async def service_account(
        self, *scopes: str, **fields: Any
    ) -> admin_pb.CreateServiceAccountResponse:
        """Creates a service account holding a role with `scopes`."""
        role_ids = [await self.role(*scopes)] if scopes else []
        return await self.client.auth_admin.CreateServiceAccount(
            admin_pb.CreateServiceAccountRequest(
                service_account=principal_pb2.ServiceAccount(
                    display_name=fields.pop("display_name", "svc-" + secrets.token_hex(3)),
                    **fields,
                ),
                role_ids=role_ids,
            )
        )

    async def token_for(
        self, client_id: str, secret: str, scopes: Sequence[str] = ()
    ) -> auth_pb.TokenResponse:
        """Client credentials grant."""
        return await self.client.auth.Token(
            auth_pb.TokenRequest(client_id=client_id, client_secret=secret, scopes=list(scopes))
        )

    async def user(self, username: str, password: str, *scopes: str) -> admin_pb.CreateUserResponse:
        """Creates a user holding a role with `scopes`."""
        role_ids = [await self.role(*scopes)] if scopes else []
        return await self.client.auth_admin.CreateUser(
            admin_pb.CreateUserRequest(
                user=principal_pb2.User(username=username), password=password, role_ids=role_ids
            )
        )

    async def login(self, username: str, password: str) -> auth_pb.LoginResponse:
        """Password login in the admin's tenant."""
        return await self.client.auth.Login(
            auth_pb.LoginRequest(tenant=self.tenant, username=username, password=password)
        )

    async def close(self) -> None:
        """Closes the admin's channel."""
        await self.client.close()


async def start_auth(start_centrum: StartCentrum, **overrides: Any) -> Admin:
    """Starts a server with the auth service verifying its own tokens; returns its admin."""
    settings = auth_settings(**overrides.pop("auth", {}))
    settings.update(overrides)
    app = await start_centrum(**settings)
    credentials = bootstrap_credentials(app)
    async with Client(f"127.0.0.1:{app.port}") as client:
        response = await client.auth.Token(
            auth_pb.TokenRequest(
                client_id=credentials["client_id"], client_secret=credentials["client_secret"]
            )
        )
    return Admin(app, response.tokens.access_token, credentials["tenant"])


@asynccontextmanager
async def running_admin(start_centrum: StartCentrum, **overrides: Any) -> AsyncIterator[Admin]:
    """`start_auth` for a fixture: the admin, its channel closed afterwards."""
    admin = await start_auth(start_centrum, **overrides)
    try:
        yield admin
    finally:
        await admin.close()
