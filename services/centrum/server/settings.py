"""Centrum's settings: one typed object, filled from `CENTRUM_*` variables or a TOML file.

Precedence, highest first: constructor arguments, environment variables, the TOML file named by
`CENTRUM_CONFIG_FILE`, defaults. Nested values use `__` in variable names
(`CENTRUM_RATE_LIMITS__AUTH.LOGIN__PER_MINUTE=5`) or tables in TOML (`[rate_limits."auth.login"]`).
With no settings at all, Centrum runs every service on embedded backends in a data directory.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from centrum.services.audit.settings import RELAY_SCOPE, AuditSettings
from centrum.services.auth.settings import AuthSettings
from centrum.services.config.settings import ConfigSettings
from centrum.services.flags.settings import FlagSettings
from centrum.services.notification.settings import NotificationSettings
from centrum.services.storage.settings import StorageSettings

__all__ = [
    "ALL_SERVICES",
    "RateLimitSetting",
    "RemoteSettings",
    "ServiceName",
    "Settings",
    "UnsafeSettingsError",
]

ServiceName = Literal["auth", "config", "notification", "storage", "audit"]
ALL_SERVICES: tuple[ServiceName, ...] = ("auth", "config", "notification", "storage", "audit")
AuditLevelName = Literal["none", "metadata", "full"]


class UnsafeSettingsError(ValueError):
    """The settings would run Centrum unsafely; it refuses to start."""


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/centrum`, else `~/.local/share/centrum`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "centrum"


class RateLimitSetting(BaseModel):
    """An operator's override of one rate-limit bucket from the contract."""

    per_minute: int | None = Field(default=None, ge=1)
    burst: int | None = Field(default=None, ge=1)
    shadow: bool | None = None
    """Count and report calls over the limit without rejecting them."""
    disabled: bool = False


class RemoteSettings(BaseModel):
    """How this process reaches the services its `services` setting leaves out."""

    # host:port of a Centrum process running Auth; tokens are verified with its public keys.
    auth: str | None = None
    # host:port of a Centrum process running Audit; the chain's audit events are sent there.
    audit: str | None = None
    # CA certificate (PEM) that verifies the remote's TLS certificate; unset means plaintext,
    # which is refused for a non-loopback remote unless allow_plaintext_remote is set.
    tls_ca_file: str | None = None
    # Client certificate and key (PEM) presented to a remote that requires mutual TLS.
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    # Service account this process relays audit events with: one of the remote's operator
    # tenant holding the `audit.write` and `audit.relay` scopes. Its tokens are requested from
    # remote.auth when set, else from the remote.audit address.
    client_id: str | None = None
    client_secret: SecretStr | None = None

    def problems(self) -> list[str]:
        """What makes these settings unusable, as sentences (empty when they are fine)."""
        found = []
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            found.append("remote.tls_cert_file and remote.tls_key_file must be set together")
        if self.audit and not (self.client_id and self.client_secret):
            found.append(
                "remote.audit needs remote.client_id and remote.client_secret: a service "
                f"account with the 'audit.write' and {RELAY_SCOPE!r} scopes relays the events"
            )
        return found

    def targets(self) -> list[str]:
        """The remote addresses configured."""
        return [target for target in (self.auth, self.audit) if target]


class Settings(BaseSettings):
    """Every setting of a Centrum process."""

    model_config = SettingsConfigDict(
        env_prefix="CENTRUM_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    # Where the embedded backends keep their files (SQLite, objects, keys, spool, outbox).
    data_dir: Path = Field(default_factory=default_data_dir)
    # Address the gRPC server listens on; port 0 picks a free port.
    listen: str = "127.0.0.1:50051"
    # Services this process runs; the others are reached remotely.
    services: tuple[ServiceName, ...] = ALL_SERVICES
    # Seconds in-flight calls may take to finish after SIGTERM before they are cancelled.
    grace_period_s: float = Field(default=10.0, ge=0)
    # Log level and format: "auto" is readable in a terminal and JSON lines otherwise.
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "console", "json"] = "auto"
    # Address of the Prometheus /metrics endpoint; unset disables it.
    metrics_listen: str | None = None
    # OTLP/gRPC endpoint for traces; unset exports none.
    otlp_endpoint: str | None = None
    # Seconds between backend health probes.
    health_interval_s: float = Field(default=2.0, gt=0)

    # Relational state: SQLAlchemy URL (postgresql://...); unset uses SQLite in data_dir.
    database_url: SecretStr | None = None
    # Rate limits, revocations and change fan-out across replicas; unset keeps them in-process.
    redis_url: SecretStr | None = None
    # Vault/OpenBao for secrets, key wrapping and signing; unset uses local files.
    vault_addr: str | None = None
    vault_token: SecretStr | None = None
    vault_transit_mount: str = "transit"
    vault_kv_mount: str = "secret"
    # S3 or any S3-compatible store for objects; unset uses the local filesystem.
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket_prefix: str = "centrum-"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # SMTP relay (smtp://user:pass@host:587?starttls=true); unset writes to a local maildir.
    smtp_url: SecretStr | None = None

    # Issuer and audience of the access tokens the Auth service signs and the chain accepts.
    jwt_issuer: str = "centrum"
    jwt_audience: str = "centrum"
    # Per-bucket overrides of the contract's rate limits.
    rate_limits: dict[str, RateLimitSetting] = Field(default_factory=dict)
    # When Redis is unreachable: true admits by the in-process limiter, false rejects.
    rate_limit_fail_open: bool = True
    # Unary calls and uploads this process works on at once; more are refused at once with
    # RESOURCE_EXHAUSTED and RetryInfo instead of slowing every call down (0: no bound). A
    # process saturates its core at a few dozen calls; past that, calls only wait, for database
    # connections first (BENCHMARKS.md, "Overload"). Raise it where calls mostly wait on slow
    # backends.
    max_calls_in_progress: int = Field(default=32, ge=0)
    # Audit events go to a local write-ahead spool first and reach the audit store in the
    # background (true), or to the store directly with the spool as fallback (false).
    audit_write_ahead: bool = True
    # fsync the spool per group commit; false survives a killed process but not an OS crash.
    audit_fsync: bool = True
    # Per-method overrides of the contract's audit level, keyed "package.Service.Method".
    audit_levels: dict[str, AuditLevelName] = Field(default_factory=dict)

    # TLS: server certificate and key; a client CA turns on mutual TLS.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    # The local key-encryption key (32 random bytes, created 0600 on first start); unset
    # keeps it at data_dir/master.key. Back it up: without it local secrets cannot be read.
    master_key_file: Path | None = None
    # Allows listening on a non-loopback address without TLS (never in production).
    allow_plaintext_remote: bool = False

    # Services of other Centrum processes that this one, without them, relies on.
    remote: RemoteSettings = Field(default_factory=RemoteSettings)

    # Settings of each service.
    auth: AuthSettings = Field(default_factory=AuthSettings)
    config: ConfigSettings = Field(default_factory=ConfigSettings)
    flags: FlagSettings = Field(default_factory=FlagSettings)
    notification: NotificationSettings = Field(default_factory=NotificationSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Adds the TOML file named by CENTRUM_CONFIG_FILE below the environment."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("CENTRUM_CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        host = self.listen_host
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise UnsafeSettingsError("tls_cert_file and tls_key_file must be set together")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise UnsafeSettingsError(
                "tls_client_ca_file (mTLS) needs tls_cert_file and tls_key_file"
            )
        if (
            not _is_loopback(host)
            and self.tls_cert_file is None
            and not self.allow_plaintext_remote
        ):
            raise UnsafeSettingsError(
                f"refusing to listen on {host} without TLS: set tls_cert_file and tls_key_file, "
                "or CENTRUM_ALLOW_PLAINTEXT_REMOTE=true behind a TLS-terminating proxy"
            )
        if self.vault_addr and self.vault_token is None:
            raise UnsafeSettingsError("vault_addr is set but vault_token is not")
        self._refuse_unsafe_remotes()
        return self

    def _refuse_unsafe_remotes(self) -> None:
        remote = self.remote
        problems = remote.problems()
        for name, target in (("auth", remote.auth), ("audit", remote.audit)):
            if not target:
                continue
            if name in self.services:
                problems.append(f"remote.{name} is set but this process runs {name} itself")
            plaintext = not remote.tls_ca_file and not self.allow_plaintext_remote
            if plaintext and not _is_loopback(target.rpartition(":")[0].strip("[]")):
                problems.append(
                    f"refusing plaintext to remote.{name} at {target}: set "
                    "remote.tls_ca_file, or allow_plaintext_remote inside a trusted network"
                )
        if problems:
            raise UnsafeSettingsError("; ".join(problems))

    @property
    def listen_host(self) -> str:
        """The host part of `listen`."""
        host, _, _ = self.listen.rpartition(":")
        return host.strip("[]")

    @property
    def master_key_path(self) -> Path:
        """Where the local master key lives."""
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's async form."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{self.data_dir / 'centrum.db'}"
        url = self.database_url.get_secret_value()
        for plain in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain) :]
        return url


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
