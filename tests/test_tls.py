"""TLS and mutual TLS: the server from certificate files, the SDK from certificate files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from centrum.interceptors.context import CredentialKind, Principal
from centrum.sdk import tls_from_files
from harness.centrum import StartCentrum, bearer
from harness.echo_client import EchoClient
from harness.pki import CertificateAuthority, Issued
from harness.tokens import TokenMint

ORDERS = "spiffe://centrum/svc/orders"


class Registry:
    """Certificate identities registered as principals (the Auth service's job in production)."""

    async def principal_for_identity(self, identity: str) -> Principal | None:
        if identity != ORDERS:
            return None
        return Principal(
            subject="svc-orders",
            tenant="acme",
            scopes=frozenset({"echo.read"}),
            kind=CredentialKind.MTLS,
            credential_id=identity,
        )


@dataclass(frozen=True)
class Pki:
    """The trusted CA with its server and client certificates, and a forged client certificate."""

    ca: CertificateAuthority
    server: Issued
    orders: Issued
    stranger: Issued
    rogue: Issued

    def channel(self, port: int, client: Issued | None = None) -> grpc.aio.Channel:
        """A TLS channel trusting the CA, presenting `client` when given."""
        credentials = tls_from_files(
            str(self.ca.cert_file),
            str(client.cert_file) if client else None,
            str(client.key_file) if client else None,
        )
        return grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca = CertificateAuthority(tmp_path / "pki", "centrum")
    rogue = CertificateAuthority(tmp_path / "rogue", "rogue")
    return Pki(
        ca=ca,
        server=ca.issue("server", server=True),
        orders=ca.issue("orders", server=False, san_uri=ORDERS),
        stranger=ca.issue("stranger", server=False, san_uri="spiffe://centrum/svc/stranger"),
        rogue=rogue.issue("orders-forged", server=False, san_uri=ORDERS),
    )


async def _mtls_server(start_centrum: StartCentrum, pki: Pki) -> int:
    app = await start_centrum(
        tls_cert_file=pki.server.cert_file,
        tls_key_file=pki.server.key_file,
        tls_client_ca_file=pki.ca.cert_file,
        identity_lookup=Registry(),
    )
    return app.port


async def test_client_certificate_authenticates_as_its_identity(
    start_centrum: StartCentrum, pki: Pki
) -> None:
    """A certificate from the trusted CA, registered as a principal, calls without any token."""
    port = await _mtls_server(start_centrum, pki)
    async with pki.channel(port, pki.orders) as ch:
        response = await EchoClient(ch).unary(message="over mtls")
    assert (response.subject, response.tenant) == ("svc-orders", "acme")


async def test_unregistered_certificate_is_unauthenticated(
    start_centrum: StartCentrum, pki: Pki
) -> None:
    """A valid certificate whose identity no principal holds is refused by the auth step."""
    port = await _mtls_server(start_centrum, pki)
    async with pki.channel(port, pki.stranger) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).unary(message="x")
    assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("forged", [False, True])
async def test_missing_or_foreign_certificate_is_refused(
    start_centrum: StartCentrum, pki: Pki, forged: bool
) -> None:
    """Without a client certificate, or with one from another CA, the handshake fails."""
    port = await _mtls_server(start_centrum, pki)
    async with pki.channel(port, pki.rogue if forged else None) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await EchoClient(ch).unary(message="x")
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_server_tls_with_bearer_tokens(
    start_centrum: StartCentrum, pki: Pki, token_mint: TokenMint
) -> None:
    """TLS without client certificates: the SDK verifies the server and sends a bearer token."""
    app = await start_centrum(tls_cert_file=pki.server.cert_file, tls_key_file=pki.server.key_file)
    async with pki.channel(app.port) as ch:
        response = await EchoClient(ch).unary(bearer(token_mint.token(subject="tls")), message="x")
    assert response.subject == "tls"
