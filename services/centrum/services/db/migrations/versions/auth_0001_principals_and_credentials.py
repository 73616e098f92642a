"""Auth service: key ring, principals, roles, API keys, sessions and issued tokens.

Revision ID: auth_0001
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0001"
down_revision = "0001"
branch_labels = ("auth",)
depends_on = None


def _time() -> sa.Float:  # type: ignore[type-arg]
    return sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "auth_keyring_secrets",
        sa.Column("keyring", sa.String(128), primary_key=True),
        sa.Column("encrypted_pepper", sa.LargeBinary, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
    )

    op.create_table(
        "auth_signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("keyring", sa.String(128), nullable=False, index=True),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("storage", sa.String(16), nullable=False),
        sa.Column("transit_key", sa.String(128), nullable=True),
        sa.Column("encrypted_private_key", sa.LargeBinary, nullable=True),
        sa.Column("public_jwk", sa.Text, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("activate_at", _time(), nullable=False),
        sa.Column("withdrawn_at", _time(), nullable=True),
    )

    op.create_table(
        "auth_users",
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
        sa.Column("password_updated_at", _time(), nullable=True),
        sa.Column("last_login_at", _time(), nullable=True),
        sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
        sa.Column("locked_until", _time(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        sa.UniqueConstraint("tenant", "username_key"),
        sa.UniqueConstraint("tenant", "email_key"),
    )

    op.create_table(
        "auth_service_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False, index=True),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False, default=""),
        sa.Column("disabled", sa.Boolean, nullable=False, default=False),
        sa.Column("allowed_audiences", sa.Text, nullable=False, default="[]"),
        sa.Column("access_token_ttl_s", _time(), nullable=False, default=0.0),
        sa.Column("labels", sa.Text, nullable=False, default="{}"),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("secret_created_at", _time(), nullable=False),
        sa.Column("secret_expires_at", _time(), nullable=True),
        sa.Column("previous_secret_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("previous_secret_expires_at", _time(), nullable=True),
        sa.Column("last_token_at", _time(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, default=1),
    )

    op.create_table(
        "auth_roles",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text, nullable=False, default=""),
        sa.Column("scopes", sa.Text, nullable=False, default="[]"),
        sa.Column("builtin", sa.Boolean, nullable=False, default=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        sa.UniqueConstraint("tenant", "name"),
    )

    op.create_table(
        "auth_role_assignments",
        sa.Column("role_id", sa.String(64), primary_key=True),
        sa.Column("principal_kind", sa.String(16), primary_key=True),
        sa.Column("principal_id", sa.String(64), primary_key=True, index=True),
        sa.Column("tenant", sa.String(128), nullable=False),
    )

    op.create_table(
        "auth_api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False, index=True),
        sa.Column("prefix", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text, nullable=False, default=""),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False, index=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("expires_at", _time(), nullable=True),
        sa.Column("last_used_at", _time(), nullable=True),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.Column("revoke_reason", sa.Integer, nullable=False, default=0),
    )

    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False, index=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("ip_address", sa.String(128), nullable=False, default=""),
        sa.Column("user_agent", sa.String(512), nullable=False, default=""),
        sa.Column("last_ip_address", sa.String(128), nullable=False, default=""),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("last_refresh_at", _time(), nullable=True),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.Column("revoke_reason", sa.Integer, nullable=False, default=0),
    )

    op.create_table(
        "auth_refresh_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("session_id", sa.String(64), nullable=False, index=True),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("used_at", _time(), nullable=True),
    )

    op.create_table(
        "auth_access_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("principal_kind", sa.String(16), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False, index=True),
        sa.Column("session_id", sa.String(64), nullable=True, index=True),
        sa.Column("expires_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("auth_access_tokens")
    op.drop_table("auth_refresh_tokens")
    op.drop_table("auth_sessions")
    op.drop_table("auth_api_keys")
    op.drop_table("auth_role_assignments")
    op.drop_table("auth_roles")
    op.drop_table("auth_service_accounts")
    op.drop_table("auth_users")
    op.drop_table("auth_signing_keys")
    op.drop_table("auth_keyring_secrets")
