"""The `centrum` command: one entry point for operators."""

from centrum.cli.main import app, main

__all__ = ["app", "main"]
