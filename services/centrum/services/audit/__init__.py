"""The Audit service: an append-only log of audit events."""
