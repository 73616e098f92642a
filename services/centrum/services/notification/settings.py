"""Settings of the notification service (the `notification` table of Centrum's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["NotificationSettings"]


class NotificationSettings(BaseModel):
    """Settings of the notification service; `CENTRUM_NOTIFICATION__<FIELD>` in the environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)
