"""Settings of the auth service (the `auth` table of Centrum's settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AuthSettings"]

SigningAlgorithmName = Literal["EdDSA", "ES256", "RS256"]


class AuthSettings(BaseModel):
    """Settings of the auth service; `CENTRUM_AUTH__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Tenant of the deployment's operators: bootstrap creates its admin there, and only its
    # principals may rotate signing keys. Also the tenant of a Login that names none.
    operator_tenant: str = "default"
    # Algorithm of new signing keys.
    algorithm: SigningAlgorithmName = "EdDSA"
    # Where private signing keys live: "auto" uses Vault/OpenBao transit when vault_addr is set,
    # else the database encrypted under the master key.
    signing_backend: Literal["auto", "local", "transit"] = "auto"
    # Prefix of the transit key names that hold signing keys (one transit key per kid).
    transit_key_prefix: str = "centrum-jwt-"
    # Lifetime of access tokens, and the cap of a service account's own lifetime.
    access_token_ttl_s: float = Field(default=900.0, gt=0)
    max_access_token_ttl_s: float = Field(default=3600.0, gt=0)
    # Lifetime of a login session (its refresh token family), from login.
    session_ttl_s: float = Field(default=30 * 86400.0, gt=0)
    # Lifetime of an API key created without an expiry; 0 keeps it valid until revoked.
    api_key_default_ttl_s: float = Field(default=90 * 86400.0, ge=0)
    # How long verifiers may cache the JWKS; a new key is published at least this long before it
    # signs.
    jwks_max_age_s: float = Field(default=300.0, ge=0)
    # How often each replica re-reads the key ring (to follow rotations made elsewhere).
    key_refresh_s: float = Field(default=5.0, gt=0)
    # How long a replica may reuse a read of a principal on the hot paths (a client's row and
    # scopes at Token, a user's active flag at introspection, a certificate identity's account);
    # changes reach every replica at once through the revocation feed, this bounds staleness
    # only if that feed is down. 0 reads the database on every call.
    principal_cache_ttl_s: float = Field(default=2.0, ge=0)
    # Failed logins before the account locks, and the back-off: base * 2^(excess), capped.
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_base_s: float = Field(default=30.0, gt=0)
    lockout_max_s: float = Field(default=3600.0, gt=0)
    # Password policy: minimum length (the username is always refused inside a password).
    password_min_length: int = Field(default=12, ge=8)
    # argon2id cost parameters (RFC 9106 second recommended profile by default).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_parallelism: int = Field(default=2, ge=1)
    # On first start, create an admin service account (scope "*") in the operator tenant.
    bootstrap: bool = True
    # Print the bootstrap credentials once to stderr (never to the structured log).
    bootstrap_announce: bool = True
    # Also write them to data_dir/bootstrap-credentials (0600) for local use; delete it after.
    bootstrap_credentials_file: bool = True
