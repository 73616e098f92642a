"""Settings of the audit service (the `audit` table of Centrum's settings)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RELAY_SCOPE", "AuditSettings"]

# Scope with which Centrum processes that do not run Audit ship their chain's events to it
# (held by a principal of the operator tenant).
RELAY_SCOPE = "audit.relay"


class AuditSettings(BaseModel):
    """Settings of the audit service; `CENTRUM_AUDIT__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The log's origin: first line of every checkpoint and name of its signing key. Replicas of
    # one log share it; it must be unique among the logs a client verifies.
    origin: str = Field(default="centrum.local/audit", pattern=r"^[^\s+]{1,256}$")
    # Most events one AppendBatch call takes.
    max_batch_size: int = Field(default=1000, ge=1, le=10_000)
    # Seconds between checks for appends no checkpoint covers yet (the chain's own events).
    checkpoint_interval_s: float = Field(default=1.0, gt=0)
    # Seconds a Tail stream waits before looking for entries other replicas appended.
    tail_poll_interval_s: float = Field(default=0.25, gt=0)
    # Directory file exports are written under; unset is data_dir/audit-exports.
    export_dir: Path | None = None
    # Days after which event payloads are pruned (leaf hashes stay); unset keeps them forever.
    retention_days: float | None = Field(default=None, gt=0)
