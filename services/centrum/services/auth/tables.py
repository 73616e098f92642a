"""Tables of the auth service (created by migrations auth_0001 and auth_0002).

Times are Unix seconds (double precision). Secrets never appear here in plaintext: passwords are
argon2id hashes, client secrets, refresh tokens and API keys HMAC-SHA256 under the server pepper,
private signing keys AES-GCM blobs under the master key (or absent, kept in transit).
"""

import sqlalchemy as sa

from centrum.services.db.schema import metadata

__all__ = [
    "access_tokens",
    "api_keys",
    "certificate_identities",
    "keyring_secrets",
    "refresh_tokens",
    "role_assignments",
    "roles",
    "service_accounts",
    "sessions",
    "signing_keys",
    "users",
]

_TIME = sa.Float(precision=53)

keyring_secrets = sa.Table(
    "auth_keyring_secrets",
    metadata,
    sa.Column("keyring", sa.String(128), primary_key=True),
    sa.Column("encrypted_pepper", sa.LargeBinary, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
)

signing_keys = sa.Table(
    "auth_signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("keyring", sa.String(128), nullable=False, index=True),
    sa.Column("algorithm", sa.String(16), nullable=False),
    sa.Column("storage", sa.String(16), nullable=False),
    sa.Column("transit_key", sa.String(128), nullable=True),
    sa.Column("encrypted_private_key", sa.LargeBinary, nullable=True),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("activate_at", _TIME, nullable=False),
    sa.Column("withdrawn_at", _TIME, nullable=True),
)

users = sa.Table(
    "auth_users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("username_key", sa.String(255), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_key", sa.String(320), nullable=True),
    sa.Column("display_name", sa.String(255), nullable=False, default=""),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("labels", sa.Text, nullable=False, default="{}"),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("password_updated_at", _TIME, nullable=True),
    sa.Column("last_login_at", _TIME, nullable=True),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", _TIME, nullable=True),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.UniqueConstraint("tenant", "username_key"),
    sa.UniqueConstraint("tenant", "email_key"),
)

service_accounts = sa.Table(
    "auth_service_accounts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False, index=True),
    sa.Column("client_id", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("allowed_audiences", sa.Text, nullable=False, default="[]"),
    sa.Column("access_token_ttl_s", _TIME, nullable=False, default=0.0),
    sa.Column("labels", sa.Text, nullable=False, default="{}"),
    sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("secret_created_at", _TIME, nullable=False),
    sa.Column("secret_expires_at", _TIME, nullable=True),
    sa.Column("previous_secret_hash", sa.LargeBinary(32), nullable=True),
    sa.Column("previous_secret_expires_at", _TIME, nullable=True),
    sa.Column("last_token_at", _TIME, nullable=True),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
)

# TLS client certificate identities (SPIFFE URI SAN or subject CN) bound to service accounts; the
# identity is the key, so one identity names at most one service account in every tenant.
certificate_identities = sa.Table(
    "auth_certificate_identities",
    metadata,
    sa.Column("identity", sa.String(512), primary_key=True),
    sa.Column("service_account_id", sa.String(64), nullable=False, index=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
)

roles = sa.Table(
    "auth_roles",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("scopes", sa.Text, nullable=False, default="[]"),
    sa.Column("builtin", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.UniqueConstraint("tenant", "name"),
)

role_assignments = sa.Table(
    "auth_role_assignments",
    metadata,
    sa.Column("role_id", sa.String(64), primary_key=True),
    sa.Column("principal_kind", sa.String(16), primary_key=True),
    sa.Column("principal_id", sa.String(64), primary_key=True, index=True),
    sa.Column("tenant", sa.String(128), nullable=False),
)

api_keys = sa.Table(
    "auth_api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False, index=True),
    sa.Column("prefix", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("owner_kind", sa.String(16), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False, index=True),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("expires_at", _TIME, nullable=True),
    sa.Column("last_used_at", _TIME, nullable=True),
    sa.Column("revoked_at", _TIME, nullable=True),
    sa.Column("revoke_reason", sa.Integer, nullable=False, default=0),
)

sessions = sa.Table(
    "auth_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False, index=True),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("audience", sa.Text, nullable=False),
    sa.Column("ip_address", sa.String(128), nullable=False, default=""),
    sa.Column("user_agent", sa.String(512), nullable=False, default=""),
    sa.Column("last_ip_address", sa.String(128), nullable=False, default=""),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("last_refresh_at", _TIME, nullable=True),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Column("revoked_at", _TIME, nullable=True),
    sa.Column("revoke_reason", sa.Integer, nullable=False, default=0),
)

refresh_tokens = sa.Table(
    "auth_refresh_tokens",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("used_at", _TIME, nullable=True),
)

access_tokens = sa.Table(
    "auth_access_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(128), nullable=False),
    sa.Column("principal_kind", sa.String(16), nullable=False),
    sa.Column("principal_id", sa.String(64), nullable=False, index=True),
    sa.Column("session_id", sa.String(64), nullable=True, index=True),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Column("revoked_at", _TIME, nullable=True),
)
