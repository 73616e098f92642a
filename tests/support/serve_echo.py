"""`centrum serve` with the test-only EchoService registered (for subprocess tests).

Usage: python serve_echo.py --listen HOST:PORT --data-dir DIR [--jwks FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from centrum.interceptors.credentials import StaticKeySource
from centrum.interceptors.logging import configure_logging
from centrum.server import CentrumApp, ExtraService, Settings
from centrum.server.runner import serve_until_signalled
from support import echo


def main() -> None:
    """Parses the arguments and serves until SIGTERM."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--jwks", type=Path)
    args = parser.parse_args()
    settings = Settings(listen=args.listen, data_dir=args.data_dir)
    configure_logging(settings.log_level, settings.log_format)
    os.umask(0o077)
    jwks = json.loads(args.jwks.read_text()) if args.jwks else []
    app = CentrumApp(
        settings,
        extra_services=[ExtraService(echo.descriptor(), echo.EchoServicer())],
        key_source=StaticKeySource(jwks),
    )
    asyncio.run(serve_until_signalled(app))


if __name__ == "__main__":
    main()
