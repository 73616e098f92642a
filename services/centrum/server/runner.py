"""Running a Centrum process until it is told to stop."""

from __future__ import annotations

import asyncio
import signal

from centrum.server.app import CentrumApp

__all__ = ["serve_until_signalled"]


async def serve_until_signalled(app: CentrumApp) -> None:
    """Starts `app`, waits for SIGTERM or SIGINT, then drains and stops it gracefully."""
    await app.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await app.stop()
