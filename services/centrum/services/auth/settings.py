"""Settings of the auth service (the `auth` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["AuthSettings"]


class AuthSettings(BaseModel):
    """Settings of the auth service; `CENTRUM_AUTH__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
