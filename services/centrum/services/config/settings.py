"""Settings of the config service (the `config` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ConfigSettings"]


class ConfigSettings(BaseModel):
    """Settings of the config service; `CENTRUM_CONFIG__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
