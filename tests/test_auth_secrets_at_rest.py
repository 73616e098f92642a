"""No password, client secret, API key, refresh token or private key in plaintext anywhere."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from google.protobuf import duration_pb2
from test_auth_kit import bootstrap_credentials, start_auth

from centrum.auth.v1 import auth_admin_service_pb2 as admin_pb
from centrum.auth.v1 import auth_service_pb2 as auth_pb
from centrum.services.auth.tables import signing_keys
from centrum.services.db import create_engine
from centrum.services.keys import MasterKey
from harness.centrum import StartCentrum

PASSWORD = "plaintext-canary-password-1"
NEW_PASSWORD = "plaintext-canary-password-2"


def _forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


async def _private_keys(settings: Any) -> list[bytes]:
    engine = create_engine(settings.sqlalchemy_url)
    master = MasterKey.load_or_create(settings.master_key_path)
    found = []
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(signing_keys))).all()
    await engine.dispose()
    for row in rows:
        der = master.decrypt(
            row.encrypted_private_key, b"centrum.auth.signing-key:" + row.kid.encode()
        )
        key = serialization.load_der_private_key(der, password=None)
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        found += [der, raw]
    return found


async def _database_bytes(settings: Any) -> bytes:
    if settings.database_url is None:
        data_dir: Path = settings.data_dir
        return b"".join(
            path.read_bytes()
            for path in sorted(data_dir.rglob("*"))
            if path.is_file() and path.name not in {"master.key", "bootstrap-credentials"}
        )
    engine = create_engine(settings.sqlalchemy_url)
    chunks: list[bytes] = []
    async with engine.connect() as connection:
        names = (
            await connection.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ).scalars()
        for name in list(names):
            query = sa.text(f'SELECT * FROM "{name}"')  # noqa: S608 - names from pg_tables
            for row in await connection.execute(query):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    await engine.dispose()
    return b"\x00".join(chunks)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_no_secret_in_plaintext_in_the_database_or_the_logs(
    start_centrum: StartCentrum,
    capfd: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    backend: str,
) -> None:
    """Every secret the service handled is absent from the database and from all log output."""
    database = (
        {"database_url": request.getfixturevalue("postgres_url")} if backend == "postgres" else {}
    )
    admin = await start_auth(start_centrum, **database)
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, bootstrap_credentials(admin.app)["client_secret"]]
    user = await admin.user("bird", PASSWORD, "auth.read", "auth.write")
    login = await admin.login("bird", PASSWORD)
    refreshed = await admin.client.auth.Refresh(
        auth_pb.RefreshRequest(refresh_token=login.tokens.refresh_token)
    )
    await admin.client.auth_admin.SetUserPassword(
        admin_pb.SetUserPasswordRequest(user_id=user.user.id, password=NEW_PASSWORD)
    )
    created = await admin.service_account("auth.read")
    rotated = await admin.client.auth_admin.RotateServiceAccountSecret(
        admin_pb.RotateServiceAccountSecretRequest(
            service_account_id=created.service_account.id,
            previous_secret_grace_period=duration_pb2.Duration(seconds=60),
        )
    )
    issued = await admin.token_for(created.service_account.client_id, rotated.client_secret)
    key = await admin.client.auth.CreateApiKey(
        auth_pb.CreateApiKeyRequest(name="canary", scopes=["auth.read"])
    )
    async with admin.connect(api_key=key.secret) as client:
        await client.auth.ListApiKeys(auth_pb.ListApiKeysRequest())
    await admin.client.auth.IntrospectToken(auth_pb.IntrospectTokenRequest(token=key.secret))
    await admin.client.auth.RevokeToken(auth_pb.RevokeTokenRequest(token=key.secret))
    secrets += [created.client_secret, rotated.client_secret, key.secret]
    secrets += [key.secret.split(".", 1)[1]]
    secrets += [
        t.split(".", 1)[1] for t in (login.tokens.refresh_token, refreshed.tokens.refresh_token)
    ]
    await admin.app.audit_pipeline.drain()

    stored = await _database_bytes(admin.app.settings)
    for secret in secrets:
        assert secret.encode() not in stored, f"plaintext secret at rest: {secret[:6]}..."
    if backend == "sqlite":
        for private in await _private_keys(admin.app.settings):
            for form in _forms(private):
                assert form not in stored, "private key material at rest"
    await admin.close()
    captured = capfd.readouterr()
    logs = captured.out + captured.err
    assert "rpc" in logs, "the logs were not captured"
    for secret in [*secrets, issued.tokens.access_token, login.tokens.access_token]:
        assert secret not in logs, f"secret in the logs: {secret[:6]}..."
