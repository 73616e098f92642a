"""Test configuration: the real-backend harness and Centrum's own fixtures."""

pytest_plugins = ["harness.backends", "harness.centrum"]
