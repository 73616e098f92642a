"""Settings: environment, TOML file, defaults, and unsafe combinations refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from centrum.server.settings import Settings


def test_defaults_need_no_external_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no settings: loopback listener, SQLite in the data dir, no Redis, Vault, S3 or SMTP."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings()
    assert settings.listen == "127.0.0.1:50051"
    assert settings.data_dir == tmp_path / "centrum"
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path / 'centrum' / 'centrum.db'}"
    assert (
        settings.redis_url,
        settings.vault_addr,
        settings.s3_endpoint_url,
        settings.smtp_url,
    ) == (
        None,
        None,
        None,
        None,
    )


def test_environment_overrides_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The TOML file named by CENTRUM_CONFIG_FILE fills settings; the environment wins over it."""
    config = tmp_path / "centrum.toml"
    config.write_text(
        'listen = "127.0.0.1:6000"\n'
        'log_level = "warning"\n'
        '[rate_limits."auth.login"]\nper_minute = 3\n'
        '[audit_levels]\n"centrum.config.v1.ConfigService.GetValue" = "full"\n'
    )
    monkeypatch.setenv("CENTRUM_CONFIG_FILE", str(config))
    monkeypatch.setenv("CENTRUM_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.listen == "127.0.0.1:6000"
    assert settings.log_level == "debug"
    assert settings.rate_limits["auth.login"].per_minute == 3
    assert settings.audit_levels["centrum.config.v1.ConfigService.GetValue"] == "full"


def test_postgres_urls_get_the_async_driver() -> None:
    """A plain postgresql:// URL is run through psycopg's async driver."""
    settings = Settings.model_validate({"database_url": "postgresql://u:p@db:5432/centrum"})
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db:5432/centrum"


def test_secrets_never_show_in_the_repr() -> None:
    """Credentials in settings are SecretStr: printing the settings does not reveal them."""
    settings = Settings.model_validate(
        {
            "database_url": "postgresql://u:hunter2hunter2@db/c",
            "vault_addr": "http://v:8200",
            "vault_token": "s.topsecretvaulttoken",
        }
    )
    assert "hunter2hunter2" not in repr(settings)
    assert "topsecretvaulttoken" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"listen": "0.0.0.0:50051"}, "without TLS"),
        ({"listen": "10.1.2.3:50051"}, "without TLS"),
        ({"tls_cert_file": "/x/cert.pem"}, "set together"),
        ({"tls_client_ca_file": "/x/ca.pem"}, "mTLS"),
        ({"vault_addr": "http://127.0.0.1:8200"}, "vault_token"),
        ({"rate_limits": {"auth.login": {"per_minute": 0}}}, "greater than or equal to 1"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_unsafe_or_unknown_settings_are_refused(
    overrides: dict[str, object], complaint: str
) -> None:
    """Settings that would run unsafely, or that Centrum does not know, fail loudly."""
    with pytest.raises((ValidationError, ValueError)) as failure:
        Settings(**overrides)  # type: ignore[arg-type]
    assert complaint in str(failure.value)


def test_plaintext_remote_listener_needs_an_explicit_opt_in() -> None:
    """Listening on a public address without TLS is allowed only behind an explicit setting."""
    settings = Settings(listen="0.0.0.0:50051", allow_plaintext_remote=True)
    assert settings.listen_host == "0.0.0.0"
