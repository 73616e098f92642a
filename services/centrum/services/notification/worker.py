"""`centrum worker`: a process that only dispatches notifications from the shared database.

Run as many as needed beside (or instead of) the dispatchers inside `centrum serve`; they share
the outbox through leases. `python -m centrum.services.notification.worker` runs one with the
settings from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import TYPE_CHECKING

import structlog

from centrum.services.db import create_engine, migrate
from centrum.services.keys import MasterKey
from centrum.services.notification.delivery import build_dispatcher

if TYPE_CHECKING:
    from centrum.server.settings import Settings

__all__ = ["run_worker"]

_log = structlog.get_logger("centrum.notification.worker")


async def run_worker(settings: Settings) -> None:
    """Dispatches notifications until SIGTERM or SIGINT, then lets the sends in flight finish.

    Needs the master key the servers use (webhook secrets are sealed with it): the same
    `master_key_file`, or the same `data_dir`.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    await asyncio.to_thread(migrate, settings.sqlalchemy_url)
    engine = create_engine(settings.sqlalchemy_url)
    dispatcher = build_dispatcher(
        settings, engine, MasterKey.load_or_create(settings.master_key_path)
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    dispatcher.start()
    _log.info("notification worker started", worker=dispatcher.worker)
    try:
        await stopping.wait()
    finally:
        await dispatcher.stop()
        await engine.dispose()
        _log.info("notification worker stopped", worker=dispatcher.worker)


def main() -> None:
    """Runs one worker with the settings from the environment (CENTRUM_*)."""
    from centrum.interceptors.logging import configure_logging
    from centrum.server.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    os.umask(0o077)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
