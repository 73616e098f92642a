"""Centrum's composition root: settings, wiring and the gRPC server."""

from centrum.server.app import CentrumApp, ExtraService
from centrum.server.settings import Settings, UnsafeSettingsError

__all__ = ["CentrumApp", "ExtraService", "Settings", "UnsafeSettingsError"]
