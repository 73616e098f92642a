"""Service accounts bound to TLS client certificate identities (mTLS without tokens)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from test_auth_kit import auth_settings, bootstrap_credentials, error_info, has_detail

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_admin_service_pb2_grpc, auth_service_pb2_grpc, principal_pb2
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.sdk import tls_from_files
from harness.centrum import StartCentrum
from harness.echo_client import EchoClient
from harness.pki import CertificateAuthority, Issued

BILLING = "spiffe://centrum.test/ns/prod/sa/billing"
OPERATOR = "spiffe://centrum.test/ops/console"


@dataclass
class MtlsDeployment:
    """A server requiring client certificates, its admin token, and certificates to call with."""

    port: int
    tenant: str
    admin_token: str
    ca: CertificateAuthority
    operator: Issued
    billing: Issued

    def channel(self, client: Issued) -> grpc.aio.Channel:
        """A TLS channel presenting `client`."""
        credentials = tls_from_files(
            str(self.ca.cert_file), str(client.cert_file), str(client.key_file)
        )
        return grpc.aio.secure_channel(f"127.0.0.1:{self.port}", credentials)

    @property
    def admin(self) -> tuple[tuple[str, str]]:
        """Metadata of the admin's bearer token."""
        return (("authorization", f"Bearer {self.admin_token}"),)


@pytest.fixture
async def mtls(start_centrum: StartCentrum, tmp_path: Path) -> AsyncIterator[MtlsDeployment]:
    """The auth service behind mutual TLS; the operator's certificate is bound to nothing."""
    ca = CertificateAuthority(tmp_path / "pki", "centrum")
    server = ca.issue("server", server=True)
    app = await start_centrum(
        tls_cert_file=server.cert_file,
        tls_key_file=server.key_file,
        tls_client_ca_file=ca.cert_file,
        **auth_settings(),
    )
    credentials = bootstrap_credentials(app)
    deployment = MtlsDeployment(
        port=app.port,
        tenant=credentials["tenant"],
        admin_token="",
        ca=ca,
        operator=ca.issue("operator", server=False, san_uri=OPERATOR),
        billing=ca.issue("billing", server=False, san_uri=BILLING),
    )
    async with deployment.channel(deployment.operator) as channel:
        issued = await auth_service_pb2_grpc.AuthServiceStub(channel).Token(
            auth_pb.TokenRequest(
                client_id=credentials["client_id"], client_secret=credentials["client_secret"]
            )
        )
    deployment.admin_token = issued.tokens.access_token
    yield deployment


async def _bound_account(mtls: MtlsDeployment, *identities: str) -> principal_pb2.ServiceAccount:
    async with mtls.channel(mtls.operator) as channel:
        admin = auth_admin_service_pb2_grpc.AuthAdminServiceStub(channel)
        role = await admin.CreateRole(
            admin_pb.CreateRoleRequest(
                role=principal_pb2.Role(name="echoer", scopes=["echo.read"])
            ),
            metadata=mtls.admin,
        )
        created = await admin.CreateServiceAccount(
            admin_pb.CreateServiceAccountRequest(
                service_account=principal_pb2.ServiceAccount(
                    display_name="billing", certificate_identities=list(identities)
                ),
                role_ids=[role.role.id],
            ),
            metadata=mtls.admin,
        )
    return created.service_account


async def _update(
    mtls: MtlsDeployment, account: principal_pb2.ServiceAccount, *paths: str
) -> principal_pb2.ServiceAccount:
    async with mtls.channel(mtls.operator) as channel:
        updated = await auth_admin_service_pb2_grpc.AuthAdminServiceStub(
            channel
        ).UpdateServiceAccount(
            admin_pb.UpdateServiceAccountRequest(
                service_account=account, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
            ),
            metadata=mtls.admin,
        )
    return updated.service_account


async def _echo_as_billing(mtls: MtlsDeployment) -> tuple[str, str]:
    async with mtls.channel(mtls.billing) as channel:
        response = await EchoClient(channel).unary(message="no token")
    return str(response.subject), str(response.tenant)


async def test_bound_certificate_calls_as_its_service_account(mtls: MtlsDeployment) -> None:
    """A certificate whose SPIFFE ID is bound to a service account calls with no token, as that
    account in its tenant with its roles' scopes; the binding is part of the account."""
    account = await _bound_account(mtls, BILLING)
    assert list(account.certificate_identities) == [BILLING]
    assert await _echo_as_billing(mtls) == (account.id, mtls.tenant)
    async with mtls.channel(mtls.operator) as channel:
        fetched = await auth_admin_service_pb2_grpc.AuthAdminServiceStub(channel).GetServiceAccount(
            admin_pb.GetServiceAccountRequest(service_account_id=account.id), metadata=mtls.admin
        )
    assert list(fetched.service_account.certificate_identities) == [BILLING]


async def test_unbinding_and_disabling_refuse_the_certificate_at_once(
    mtls: MtlsDeployment,
) -> None:
    """Removing the identity, or disabling the account, refuses the next mTLS call (the cache
    of identity lookups is invalidated by the change); binding it again lets it back in."""
    account = await _bound_account(mtls, BILLING)
    await _echo_as_billing(mtls)
    account.ClearField("certificate_identities")
    account = await _update(mtls, account, "certificate_identities")
    with pytest.raises(grpc.aio.AioRpcError) as unbound:
        await _echo_as_billing(mtls)
    assert unbound.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(unbound.value).reason == "CERTIFICATE_UNKNOWN"

    account.certificate_identities.append(BILLING)
    account = await _update(mtls, account, "certificate_identities")
    assert (await _echo_as_billing(mtls))[0] == account.id
    account.disabled = True
    await _update(mtls, account, "disabled")
    with pytest.raises(grpc.aio.AioRpcError) as disabled:
        await _echo_as_billing(mtls)
    assert disabled.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_identity_binds_one_account_and_must_be_well_formed(mtls: MtlsDeployment) -> None:
    """An identity bound already answers ALREADY_EXISTS (and creates nothing); a malformed one
    is a field violation."""
    await _bound_account(mtls, BILLING)
    async with mtls.channel(mtls.operator) as channel:
        admin = auth_admin_service_pb2_grpc.AuthAdminServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as taken:
            await admin.CreateServiceAccount(
                admin_pb.CreateServiceAccountRequest(
                    service_account=principal_pb2.ServiceAccount(
                        display_name="impostor", certificate_identities=[BILLING]
                    )
                ),
                metadata=mtls.admin,
            )
        assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert error_info(taken.value).reason == "CERTIFICATE_IDENTITY_TAKEN"
        listed = await admin.ListServiceAccounts(
            admin_pb.ListServiceAccountsRequest(query="impostor"), metadata=mtls.admin
        )
        assert not listed.service_accounts
        with pytest.raises(grpc.aio.AioRpcError) as malformed:
            await admin.CreateServiceAccount(
                admin_pb.CreateServiceAccountRequest(
                    service_account=principal_pb2.ServiceAccount(
                        display_name="bad", certificate_identities=["spiffe://", " padded "]
                    )
                ),
                metadata=mtls.admin,
            )
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert has_detail(malformed.value, error_details_pb2.BadRequest)


async def test_deleting_the_account_frees_its_identity(mtls: MtlsDeployment) -> None:
    """Deleting a bound account refuses its certificate, and the identity can be bound anew."""
    account = await _bound_account(mtls, BILLING)
    async with mtls.channel(mtls.operator) as channel:
        admin = auth_admin_service_pb2_grpc.AuthAdminServiceStub(channel)
        await admin.DeleteServiceAccount(
            admin_pb.DeleteServiceAccountRequest(service_account_id=account.id),
            metadata=mtls.admin,
        )
        with pytest.raises(grpc.aio.AioRpcError) as deleted:
            await _echo_as_billing(mtls)
        assert deleted.value.code() == grpc.StatusCode.UNAUTHENTICATED
        again = await admin.CreateServiceAccount(
            admin_pb.CreateServiceAccountRequest(
                service_account=principal_pb2.ServiceAccount(
                    display_name="billing-2", certificate_identities=[BILLING]
                )
            ),
            metadata=mtls.admin,
        )
    assert list(again.service_account.certificate_identities) == [BILLING]


async def test_the_spiffe_id_names_a_certificate_that_also_lists_dns_names(
    mtls: MtlsDeployment,
) -> None:
    """A certificate listing a DNS name before its SPIFFE ID is authenticated by the SPIFFE ID,
    not by the host name it shares with other workloads."""
    account = await _bound_account(mtls, BILLING)
    mtls.billing = mtls.ca.issue(
        "billing-on-host", server=False, san_uri=BILLING, dns_names=["worker-7.internal"]
    )
    assert await _echo_as_billing(mtls) == (account.id, mtls.tenant)
