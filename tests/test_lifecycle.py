"""`cancel_and_wait` stops a background task even when the task swallows a cancellation."""

from __future__ import annotations

import asyncio

from centrum.interceptors.lifecycle import cancel_and_wait


async def test_a_task_that_swallows_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    """Like a loop whose `asyncio.wait_for` lost the cancel (Python 3.11), the task carries on
    after the first cancel; `cancel_and_wait` cancels again and returns once it has ended."""
    swallowed = 0
    started = asyncio.Event()

    async def stubborn_loop() -> None:
        nonlocal swallowed
        while True:
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # the lost cancellation: the loop goes on

    task = asyncio.create_task(stubborn_loop())
    await started.wait()
    async with asyncio.timeout(60):  # a regression fails here instead of hanging the suite
        await cancel_and_wait(task, retry_s=0.01)
    assert task.cancelled() and swallowed == 1


async def test_an_ended_or_missing_task_returns_at_once_and_its_error_is_not_raised() -> None:
    """A task that already failed is collected quietly, and None is nothing to stop."""

    async def failing() -> None:
        raise RuntimeError("background failure")

    task = asyncio.create_task(failing())
    await asyncio.wait({task})
    await cancel_and_wait(task)
    await cancel_and_wait(None)
    assert isinstance(task.exception(), RuntimeError)
