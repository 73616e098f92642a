"""Test-only code: the echo service used to exercise the chain."""
