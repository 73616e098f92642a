"""The base of every step of the chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from centrum.interceptors.chain import Call

__all__ = ["Step"]


class Step:
    """One concern of the chain: override `before`, `after` or both.

    The chain calls only the hooks a step overrides, so a step pays nothing for the hook it
    does not need.
    """

    async def before(self, call: Call) -> None:
        """Runs before the handler; raising a CentrumError ends the call with its status."""

    async def after(self, call: Call) -> None:
        """Runs after the handler or after a failure, for every step of the method."""
