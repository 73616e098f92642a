"""The serving loop: a stop that hangs gives up at a deadline instead of hanging the process."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from types import SimpleNamespace

import pytest

from centrum.server.runner import ShutdownTimeout, serve_until_signalled


class HangingApp:
    """An app whose start works and whose stop never returns (a backend that stopped answering)."""

    def __init__(self) -> None:
        self.settings = SimpleNamespace(grace_period_s=0.0)
        self.started = asyncio.Event()

    async def start(self) -> int:
        self.started.set()
        return 0

    async def stop(self, grace_s: float | None = None) -> None:
        await asyncio.Event().wait()


async def test_a_hanging_stop_gives_up_after_the_deadline() -> None:
    """SIGTERM, then a stop that never finishes: ShutdownTimeout once the deadline passed."""
    app = HangingApp()
    serving = asyncio.create_task(serve_until_signalled(app, close_timeout_s=0.2))  # type: ignore[arg-type]
    await app.started.wait()
    loop = asyncio.get_running_loop()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(ShutdownTimeout):
            await asyncio.wait_for(serving, timeout=10)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def test_a_serving_process_freezes_its_start_up_heap() -> None:
    """Once the app serves, what start-up allocated is frozen out of the collector's walks."""
    gc.unfreeze()
    app = HangingApp()
    serving = asyncio.create_task(serve_until_signalled(app, close_timeout_s=0.2))  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    try:
        await app.started.wait()
        deadline = loop.time() + 10
        while gc.get_freeze_count() == 0:
            assert loop.time() < deadline, "the start-up heap was never frozen"
            await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(ShutdownTimeout):
            await asyncio.wait_for(serving, timeout=10)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
