"""Stopping background tasks for sure.

`task.cancel()` followed by `await task` hangs when the task swallows its cancellation, which
Python 3.11's `asyncio.wait_for` does when the awaited call finishes in the same loop turn as
the cancel arrives: the task then carries on with its next loop iteration and the stop waits
forever. `cancel_and_wait` cancels again until the task has really ended.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(task: asyncio.Task[Any] | None, *, retry_s: float = 0.5) -> None:
    """Cancels `task` and returns once it has ended, cancelling again while it carries on.

    Whatever the task raised on its way out (its cancellation included) is not re-raised: the
    caller asked it to stop. A cancellation of the caller itself still propagates.
    """
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=retry_s)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved
