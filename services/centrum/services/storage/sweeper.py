"""Sweeps blob store leftovers: orphan blobs and abandoned uploads.

An object's bytes become orphans when the process that replaced or deleted the object stopped
before deleting them (replaced bytes wait out `replaced_blob_grace_s` first), or when it stopped
between committing the bytes and publishing the object. An upload becomes abandoned when its
process stopped mid-stream: a temp file on the local disk, an S3 multipart upload never
completed nor aborted.

A blob is an orphan when no object row names it. The sweeper deletes one only after it has seen
it unreferenced for the grace period, measured from its own first sighting rather than from the
blob's age: a blob written long ago may have been replaced a moment ago by another process, and
downloads that began on it get the grace period. Uploads in progress in this process are never
touched; another's is removed once both its own time (last write, or start) and the sweeper's
first sighting of it are `stale_upload_s` old, since S3 emulators report made-up start times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from centrum.services.storage.blobs import BlobStore, FoundBlob
from centrum.services.storage.buckets import database
from centrum.services.storage.tables import storage_objects

__all__ = ["BlobSweeper", "SweepReport"]

_log = structlog.get_logger("centrum.storage")

_BATCH = 500


class _Sightings:
    """When each candidate was first seen; a sweep keeps those it saw again."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, ...], float] = {}
        self._next: dict[tuple[str, ...], float] = {}

    def age(self, key: tuple[str, ...], now: float) -> float:
        """Seconds since `key` was first seen, counting this sighting."""
        first = self._next[key] = self._first.get(key, now)
        return now - first

    def forget(self, key: tuple[str, ...]) -> None:
        self._next.pop(key, None)

    def end_sweep(self) -> None:
        self._first, self._next = self._next, {}


@dataclass(frozen=True)
class SweepReport:
    """What one sweep removed."""

    orphans_deleted: int = 0
    uploads_aborted: int = 0


class BlobSweeper:
    """Finds and removes orphan blobs and abandoned uploads of one blob store."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        blobs: BlobStore,
        grace_s: float,
        stale_upload_s: float,
        in_use: Callable[[], Collection[str]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`in_use` names the blobs this process is writing or still serving (never swept)."""
        self._engine = engine
        self._blobs = blobs
        self._grace_s = grace_s
        self._stale_upload_s = stale_upload_s
        self._in_use = in_use
        self._clock = clock
        self._orphans = _Sightings()
        self._uploads = _Sightings()

    async def sweep(self, now: float | None = None) -> SweepReport:
        """One pass over the store as of `now` (default: the clock); returns what it removed."""
        now = self._clock() if now is None else now
        uploads = 0
        async for upload in self._blobs.unfinished():
            if upload.blob_id in self._in_use():
                continue
            key = (upload.location, upload.blob_id, upload.upload_id)
            age = min(now - upload.time, self._uploads.age(key, now))
            if age >= self._stale_upload_s:
                await self._blobs.remove(upload)
                self._uploads.forget(key)
                uploads += 1
        self._uploads.end_sweep()
        orphans = 0
        batch: list[FoundBlob] = []

        async def settle() -> None:
            nonlocal orphans
            referenced = await self._referenced([b.blob_id for b in batch])
            busy = self._in_use()
            for found in batch:
                if found.blob_id in referenced or found.blob_id in busy:
                    continue
                key = (found.location, found.blob_id)
                if self._orphans.age(key, now) >= self._grace_s:
                    await self._blobs.remove(found)
                    self._orphans.forget(key)
                    orphans += 1
            batch.clear()

        async for found in self._blobs.committed():
            batch.append(found)
            if len(batch) >= _BATCH:
                await settle()
        await settle()
        self._orphans.end_sweep()
        report = SweepReport(orphans_deleted=orphans, uploads_aborted=uploads)
        if orphans or uploads:
            _log.info("storage swept", orphans_deleted=orphans, uploads_aborted=uploads)
        return report

    async def _referenced(self, blob_ids: list[str]) -> set[str]:
        if not blob_ids:
            return set()
        async with database(self._engine) as connection:
            rows = await connection.execute(
                sa.select(storage_objects.c.blob_id).where(storage_objects.c.blob_id.in_(blob_ids))
            )
            return {str(r[0]) for r in rows}

    async def run(self, interval_s: float) -> None:
        """Sweeps now and then every `interval_s` seconds until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # an unreachable store or database: try again next time
                _log.warning("storage sweep failed; retrying", error=repr(exc)[:500])
            await asyncio.sleep(interval_s)
