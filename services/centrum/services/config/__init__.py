"""The config service."""
