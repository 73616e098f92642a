"""Settings of the config service (the `config` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConfigSettings"]


class ConfigSettings(BaseModel):
    """Settings of the config service; `CENTRUM_CONFIG__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Largest serialized value SetValue accepts, in bytes.
    max_value_bytes: int = Field(default=256 * 1024, ge=1)
    # Revisions of each key kept in its history; older ones are removed as the key is written
    # (0 keeps all). Watch, GetValue and ListValues from before a key's kept history answer
    # OUT_OF_RANGE (reason REVISION_COMPACTED): the client lists again and watches from there.
    history_revisions_per_key: int = Field(default=1000, ge=0)
    # Seconds between two reads of the change table when no notification arrives; the safety net
    # that bounds how late a change reaches watchers if a pub/sub message is lost.
    watch_poll_interval_s: float = Field(default=1.0, gt=0)
    # Default seconds between progress events of an idle watch (clamped to 1..300 per request).
    watch_progress_interval_s: float = Field(default=10.0, ge=1, le=300)
    # Changes buffered per watcher before it falls back to catching up from the database.
    watch_queue_size: int = Field(default=1024, ge=1)
    # Redis pub/sub channel on which replicas announce new revisions.
    watch_channel: str = "centrum:config:changes"
    # Seconds a secret read stays servable from the cache while its backend is unreachable.
    secret_cache_ttl_s: float = Field(default=300.0, ge=0)
    # Seconds callers are told to wait (RetryInfo) when a secret backend is unreachable.
    secret_retry_after_s: float = Field(default=5.0, gt=0)
    # Versions of a secret the local store keeps; older ones are removed on write.
    secret_max_versions: int = Field(default=20, ge=1)
    # Seconds an HTTP request to Vault/OpenBao may take before the backend counts as down.
    vault_timeout_s: float = Field(default=3.0, gt=0)
    # Path under the KV v2 mount below which each tenant's secrets live (`<root>/<tenant>/...`).
    vault_path_root: str = "centrum"
