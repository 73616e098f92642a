"""Credentials a call presents: a bearer token or an API key, as call metadata."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

__all__ = ["CallCredentials", "tls_from_files"]


@dataclass(frozen=True, slots=True)
class CallCredentials:
    """A static bearer token or API key attached to every call."""

    token: str | None = None
    api_key: str | None = None

    def __post_init__(self) -> None:
        if self.token and self.api_key:
            raise ValueError("pass either a token or an API key, not both")

    def __repr__(self) -> str:
        kind = "token" if self.token else "api_key" if self.api_key else "none"
        return f"CallCredentials({kind}=<redacted>)"

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The metadata pairs that carry the credential."""
        if self.token:
            return (("authorization", f"Bearer {self.token}"),)
        if self.api_key:
            return (("x-api-key", self.api_key),)
        return ()


def tls_from_files(
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> grpc.ChannelCredentials:
    """Channel credentials from PEM files: the server's CA, and a client certificate for mTLS.

    Without `ca_file` the system roots verify the server. `cert_file` and `key_file` go together.
    """
    if (cert_file is None) != (key_file is None):
        raise ValueError("cert_file and key_file must be given together")

    def read(path: str | None) -> bytes | None:
        if path is None:
            return None
        with open(path, "rb") as handle:
            return handle.read()

    return grpc.ssl_channel_credentials(
        root_certificates=read(ca_file),
        private_key=read(key_file),
        certificate_chain=read(cert_file),
    )
