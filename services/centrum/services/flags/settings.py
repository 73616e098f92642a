"""Settings of the flag service (the `flags` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FlagSettings"]


class FlagSettings(BaseModel):
    """Settings of the flag service; `CENTRUM_FLAGS__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    watch_progress_interval_s: float = Field(default=10.0, gt=0)
    """Default seconds between WatchFlags progress events while nothing changes."""
    retained_changes: int = Field(default=10_000, ge=1)
    """Changes kept per environment for WatchFlags resumption; older resumes get a snapshot."""
    evaluation_cache_size: int = Field(default=1024, ge=0)
    """Compiled flag sets kept in memory for EvaluateFlag(s), by tenant and environment."""
    redis_channel_prefix: str = "centrum:flags:"
    """Redis pub/sub channel prefix (followed by the tenant) that wakes watchers on replicas."""
    max_flags_per_environment: int = Field(default=5_000, ge=1)
    """Flags one environment may hold; SetFlag beyond it is FAILED_PRECONDITION."""
