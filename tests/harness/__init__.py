"""Test harness for Centrum: real backends (Redis, PostgreSQL, OpenBao, S3, SMTP) for pytest.

Load the fixtures with ``pytest_plugins = ["harness.backends"]`` in ``tests/conftest.py``
(or ``pytest -p harness.backends``). See ``harness.backends`` for the fixture list.
"""
