"""Settings of the audit service (the `audit` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["AuditSettings"]


class AuditSettings(BaseModel):
    """Settings of the audit service; `CENTRUM_AUDIT__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
