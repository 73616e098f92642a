"""Re-export of the free-port helper for tests that need one."""

from ._util import free_port

__all__ = ["free_port"]
