"""Audit: make one serialized audit event per audited call durable, in batches.

:class:`AuditPipeline` group-commits events to an :class:`AuditStore`; while the store is down it
spools them to local disk (fsync'd, CRC-framed) and replays them in order when the store returns,
so a call that returned OK never loses its audit event, also across a crash of the process.
"""

from centrum.interceptors.audit._pipeline import AuditPipeline, AuditStore, QueueFull
from centrum.interceptors.audit._spool import SpoolCorruptError, SpoolError
from centrum.interceptors.audit._step import AuditRecorder, AuditStep, build_event

__all__ = [
    "AuditPipeline",
    "AuditRecorder",
    "AuditStep",
    "AuditStore",
    "QueueFull",
    "SpoolCorruptError",
    "SpoolError",
    "build_event",
]
