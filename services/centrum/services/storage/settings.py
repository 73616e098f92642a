"""Settings of the storage service (the `storage` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StorageSettings"]


class StorageSettings(BaseModel):
    """Settings of the storage service; `CENTRUM_STORAGE__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
