"""A durable, append-only spool of audit records on local disk.

The spool holds records that the audit store did not accept yet. It is a directory of segment
files plus one ``committed`` file:

- ``segment-<first seq, 20 digits>.log`` holds frames ``[u32 length][u32 crc32][payload]``
  (big-endian), where ``payload`` is ``[u64 seq][record]`` and the CRC covers the payload. Every
  record has a sequence number, one more than the record before it, across segments.
- ``committed`` holds the sequence number of the last record the store accepted, in ASCII. It is
  replaced atomically (write a temporary file, fsync, rename, fsync the directory).

Records are appended in batches with one fsync per batch, read back in order from the first
uncommitted record, and a segment is deleted only once every record in it is committed.

On :meth:`Spool.open`, a torn tail of the last segment (a partial frame, a bad CRC in its last
frame, or a run of zero bytes, as a crash during an append leaves them) is truncated: those
records were never acknowledged because the fsync that acknowledges them did not return. A bad
frame anywhere else, or one followed by a valid frame for the next seq, raises
:class:`SpoolCorruptError`, because acknowledged records would be lost.

The class is synchronous and thread-safe, so an asyncio caller can run its disk work in a worker
thread (``asyncio.to_thread``) without blocking the event loop.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_SEGMENT_BYTES",
    "MAX_RECORD_BYTES",
    "Spool",
    "SpoolBatch",
    "SpoolCorruptError",
    "SpoolError",
]

DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
"""A new segment is started once the current one has reached this size."""

_HEADER = struct.Struct(">II")
_SEQ = struct.Struct(">Q")

MAX_RECORD_BYTES = 0xFFFFFFFF - _SEQ.size
"""The largest record a frame can hold (its length field is 32 bits and includes the seq)."""

_SEGMENT_NAME = re.compile(r"^segment-(\d{20})\.log$")
_COMMITTED_NAME = "committed"
_COMMITTED_TMP_NAME = "committed.tmp"
_FILE_MODE = 0o600
_DIR_MODE = 0o700


class SpoolError(Exception):
    """The spool cannot accept or return records (a disk error left it in an unknown state)."""


class SpoolCorruptError(SpoolError):
    """Spooled data that was acknowledged as durable is damaged or missing; nothing is repaired.

    Raised for a bad frame that is not at the tail of the last segment, a break in the sequence
    numbers, or an unreadable ``committed`` file. An operator has to look at the directory.
    """


@dataclass(slots=True)
class _Segment:
    """One segment file: the seq of its first record and its valid size in bytes."""

    first_seq: int
    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class SpoolBatch:
    """Consecutive records read from the spool, to be committed once the store has them.

    ``first_seq`` and ``last_seq`` are the sequence numbers of the first and last record.
    """

    first_seq: int
    last_seq: int
    records: list[bytes]
    _end_segment: int = field(repr=False)
    _end_offset: int = field(repr=False)


def _segment_path(directory: Path, first_seq: int) -> Path:
    return directory / f"segment-{first_seq:020d}.log"


def _fsync_dir(directory: Path) -> None:
    """Make creations, renames and deletions in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode(seq: int, record: bytes) -> bytes:
    payload = _SEQ.pack(seq) + record
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _decode_at(data: bytes | memoryview, offset: int) -> tuple[int, bytes, int] | str:
    """Decode the frame at ``offset``: ``(seq, record, end offset)``, or why it is invalid."""
    if len(data) - offset < _HEADER.size:
        return "partial frame header"
    length, crc = _HEADER.unpack_from(data, offset)
    if length < _SEQ.size:
        return f"frame length {length} is shorter than a sequence number"
    start = offset + _HEADER.size
    end = start + length
    if end > len(data):
        return f"partial frame: {length} payload bytes announced, {len(data) - start} present"
    payload = bytes(data[start:end])
    if zlib.crc32(payload) != crc:
        return "CRC mismatch"
    (seq,) = _SEQ.unpack_from(payload)
    return seq, payload[_SEQ.size :], end


def _is_torn_tail(data: bytes, offset: int, seq: int) -> bool:
    """Whether the invalid frame at ``offset`` (expected to hold ``seq``) is a torn tail.

    A torn tail is what an interrupted append leaves: the frame reaches the end of the file (a
    partial frame, or a last frame whose payload was not fully written), or nothing but zero
    bytes follows it (file systems may expose zero-filled blocks after a crash). In both cases no
    valid frame for ``seq + 1`` may follow: if one does, a damaged length field made a frame in
    the middle look like the tail, and truncating would drop acknowledged records.
    """
    if _frame_follows(data, offset, seq + 1):
        return False
    if len(data) - offset < _HEADER.size:
        return True
    length, _ = _HEADER.unpack_from(data, offset)
    if offset + _HEADER.size + length >= len(data):
        return True
    return data.count(0, offset) == len(data) - offset


def _frame_follows(data: bytes, offset: int, seq: int) -> bool:
    """Whether a valid frame holding ``seq`` starts somewhere after ``offset``."""
    pattern = _SEQ.pack(seq)
    position = data.find(pattern, offset + 1 + _HEADER.size)
    while position != -1:
        decoded = _decode_at(data, position - _HEADER.size)
        if not isinstance(decoded, str) and decoded[0] == seq:
            return True
        position = data.find(pattern, position + 1)
    return False


class Spool:
    """A directory of CRC-framed, sequence-numbered records, appended and committed in order.

    Open it with :meth:`open`. :meth:`append` makes a batch durable with one fsync;
    :meth:`read` returns the oldest uncommitted records; :meth:`commit` marks a batch returned by
    :meth:`read` as accepted by the store and deletes segments that are fully committed.
    """

    def __init__(
        self,
        directory: Path,
        segments: list[_Segment],
        committed: int,
        next_seq: int,
        cursor: tuple[int, int],
        segment_bytes: int,
    ) -> None:
        """Use :meth:`open`, which recovers the directory and computes these values."""
        self._directory = directory
        self._segments = segments
        self._committed = committed
        self._next_seq = next_seq
        # (index into _segments, byte offset) of the first uncommitted record.
        self._cursor = cursor
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._broken: BaseException | None = None
        self._closed = False
        if segments:
            self._fd = os.open(segments[-1].path, os.O_WRONLY | os.O_APPEND)

    @classmethod
    def open(cls, directory: Path, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> Spool:
        """Open the spool in ``directory`` (created 0700 if missing), recovering after a crash.

        Truncates a torn tail of the last segment, deletes fully committed segments and a stale
        temporary ``committed`` file. Raises :class:`SpoolCorruptError` if acknowledged records
        are damaged or missing.
        """
        if segment_bytes <= 0:
            raise ValueError("segment_bytes must be positive")
        directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            (directory / _COMMITTED_TMP_NAME).unlink()
        committed = _read_committed(directory)

        found: list[tuple[int, Path]] = []
        for path in directory.iterdir():
            match = _SEGMENT_NAME.match(path.name)
            if match:
                found.append((int(match.group(1)), path))
        found.sort()

        segments: list[_Segment] = []
        expected_seq: int | None = None
        cursor: tuple[int, int] | None = None
        for index, (first_seq, path) in enumerate(found):
            is_last = index == len(found) - 1
            if expected_seq is not None and first_seq != expected_seq:
                raise SpoolCorruptError(
                    f"{path}: segment starts at seq {first_seq}, expected {expected_seq}"
                )
            size, last_seq, first_uncommitted_offset = _recover_segment(
                path, first_seq, committed, truncate_torn_tail=is_last
            )
            expected_seq = last_seq + 1
            if last_seq <= committed:
                # Every record is in the store: the crash came between the offset write and the
                # deletion, or the segment is empty.
                path.unlink()
                continue
            if cursor is None:
                if first_uncommitted_offset is None:  # pragma: no cover - last_seq > committed
                    raise AssertionError("uncommitted segment without an uncommitted record")
                if first_seq > committed + 1:
                    raise SpoolCorruptError(
                        f"{directory}: records {committed + 1}..{first_seq - 1} are missing "
                        f"(committed up to {committed}, first segment starts at {first_seq})"
                    )
                cursor = (len(segments), first_uncommitted_offset)
            segments.append(_Segment(first_seq, path, size))
        _fsync_dir(directory)

        next_seq = max(committed + 1, expected_seq or 1)
        return cls(directory, segments, committed, next_seq, cursor or (0, 0), segment_bytes)

    @property
    def directory(self) -> Path:
        """The directory holding the segments and the committed offset."""
        return self._directory

    def pending(self) -> int:
        """Number of records appended and not yet committed.

        Lock-free, so the event loop can call it while a worker thread holds the lock. The value
        only grows through :meth:`append` and only shrinks after the store accepted records, so a
        caller that appends from one place never sees 0 while records are still to be replayed.
        """
        return self._next_seq - 1 - self._committed

    def append(self, records: Sequence[bytes], *, sync: bool = True) -> None:
        """Append ``records`` in order and fsync once; they are durable when this returns.

        With ``sync=False`` the fsync is skipped: the records survive the death of this process
        (they are in the kernel's page cache) but not a crash of the machine.

        On failure the segment is cut back to its previous size, so a failed append leaves no
        partial frame. If even that fails (after a failed fsync the file's state is unknown), the
        spool refuses appends with :class:`SpoolError` until that segment has been read and
        committed, or the spool is reopened (which truncates the torn tail); reading continues.
        """
        if not records:
            return
        for record in records:
            if len(record) > MAX_RECORD_BYTES:
                raise ValueError(f"record of {len(record)} bytes exceeds {MAX_RECORD_BYTES}")
        with self._lock:
            self._check_open()
            if self._broken is not None:
                raise SpoolError(
                    f"spool {self._directory} failed to undo a partial append, so it takes no "
                    f"more until that segment is replayed or the spool reopened: {self._broken}"
                ) from self._broken
            if self._fd is None or self._segments[-1].size >= self._segment_bytes:
                self._start_segment()
            assert self._fd is not None
            segment = self._segments[-1]
            data = b"".join(_encode(self._next_seq + i, r) for i, r in enumerate(records))
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
                if sync:
                    os.fsync(self._fd)
            except BaseException:
                try:
                    os.ftruncate(self._fd, segment.size)
                    os.fsync(self._fd)
                except OSError as cleanup_exc:
                    self._broken = cleanup_exc
                raise
            segment.size += len(data)
            self._next_seq += len(records)

    def read(self, max_records: int) -> SpoolBatch | None:
        """Return up to ``max_records`` of the oldest uncommitted records, or None if none.

        Reading does not consume: the same records come back until :meth:`commit` is called.
        """
        if max_records <= 0:
            raise ValueError("max_records must be positive")
        with self._lock:
            self._check_open()
            seq = self._committed + 1
            if seq >= self._next_seq:
                return None
            index, offset = self._cursor
            records: list[bytes] = []
            first_seq = seq
            while len(records) < max_records and seq < self._next_seq:
                if index >= len(self._segments):
                    raise SpoolCorruptError(
                        f"{self._directory}: seq {seq} is in no segment (next seq {self._next_seq})"
                    )
                segment = self._segments[index]
                if offset >= segment.size:
                    index, offset = index + 1, 0
                    continue
                with segment.path.open("rb") as file:
                    file.seek(offset)
                    while len(records) < max_records and offset < segment.size:
                        header = file.read(_HEADER.size)
                        length = _HEADER.unpack(header)[0] if len(header) == _HEADER.size else 0
                        frame = header + file.read(length)
                        decoded = _decode_at(frame, 0)
                        if isinstance(decoded, str) or decoded[0] != seq:
                            reason = decoded if isinstance(decoded, str) else f"seq {decoded[0]}"
                            raise SpoolCorruptError(
                                f"{segment.path} at offset {offset}: {reason} (expected seq {seq})"
                            )
                        records.append(decoded[1])
                        offset += len(frame)
                        seq += 1
            return SpoolBatch(first_seq, seq - 1, records, index, offset)

    def commit(self, batch: SpoolBatch) -> None:
        """Record that the store accepted ``batch`` and delete segments that are fully committed.

        ``batch`` must be the one :meth:`read` returned last (the oldest uncommitted records).
        The offset file is replaced atomically before any segment is deleted.
        """
        with self._lock:
            self._check_open()
            if batch.first_seq != self._committed + 1:
                raise ValueError(
                    f"commit of seq {batch.first_seq}..{batch.last_seq} out of order: "
                    f"committed up to {self._committed}"
                )
            _write_committed(self._directory, batch.last_seq)
            self._committed = batch.last_seq
            index, offset = batch._end_segment, batch._end_offset
            # Drop segments before the cursor, and the cursor's own segment once it is used up.
            drop = index
            if index < len(self._segments) and offset >= self._segments[index].size:
                drop = index + 1
                offset = 0
            if drop:
                if drop >= len(self._segments) and self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
                    self._broken = None  # the segment with the undone append is gone
                for segment in self._segments[:drop]:
                    segment.path.unlink()
                del self._segments[:drop]
                _fsync_dir(self._directory)
            self._cursor = (0 if drop else index, offset)

    def close(self) -> None:
        """Close the open segment; the spool cannot be used afterwards."""
        with self._lock:
            self._closed = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolError(f"spool {self._directory} is closed")

    def _start_segment(self) -> None:
        """Close the current segment (already fsync'd) and create the next one, 0600."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        path = _segment_path(self._directory, self._next_seq)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        self._segments.append(_Segment(self._next_seq, path, 0))
        _fsync_dir(self._directory)


def _read_committed(directory: Path) -> int:
    path = directory / _COMMITTED_NAME
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as exc:
        raise SpoolCorruptError(f"{path}: unreadable committed offset: {exc}") from exc
    try:
        committed = int(text.strip())
    except ValueError:
        raise SpoolCorruptError(f"{path}: committed offset {text!r} is not a number") from None
    if committed < 0:
        raise SpoolCorruptError(f"{path}: committed offset {committed} is negative")
    return committed


def _write_committed(directory: Path, seq: int) -> None:
    """Replace the committed offset atomically: tmp file, fsync, rename, fsync directory."""
    tmp = directory / _COMMITTED_TMP_NAME
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    try:
        os.write(fd, f"{seq}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, directory / _COMMITTED_NAME)
    _fsync_dir(directory)


def _recover_segment(
    path: Path, first_seq: int, committed: int, *, truncate_torn_tail: bool
) -> tuple[int, int, int | None]:
    """Validate one segment: ``(valid size, last seq, offset of seq committed+1 or None)``.

    The last seq of an empty segment is ``first_seq - 1``.
    """
    data = path.read_bytes()
    offset = 0
    seq = first_seq
    first_uncommitted: int | None = None
    while offset < len(data):
        decoded = _decode_at(data, offset)
        if isinstance(decoded, str):
            if truncate_torn_tail and _is_torn_tail(data, offset, seq):
                with path.open("r+b") as file:
                    file.truncate(offset)
                    file.flush()
                    os.fsync(file.fileno())
                break
            raise SpoolCorruptError(f"{path} at offset {offset}: {decoded} (expected seq {seq})")
        record_seq, _, end = decoded
        if record_seq != seq:
            raise SpoolCorruptError(
                f"{path} at offset {offset}: found seq {record_seq}, expected {seq}"
            )
        if first_uncommitted is None and seq > committed:
            first_uncommitted = offset
        offset = end
        seq += 1
    return offset, seq - 1, first_uncommitted
