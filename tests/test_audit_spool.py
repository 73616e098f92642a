"""Tests for the audit spool: framing, ordering, commit, rotation and crash recovery."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import pytest

from centrum.interceptors.audit import SpoolCorruptError
from centrum.interceptors.audit._spool import Spool

_HEADER = struct.Struct(">II")


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("segment-*.log"))


def _read_all(spool: Spool) -> list[bytes]:
    batch = spool.read(1_000_000)
    return [] if batch is None else batch.records


def _frame_offsets(path: Path) -> list[int]:
    """Byte offsets of the frames in a segment (trusting the length fields)."""
    data = path.read_bytes()
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        length, _ = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size + length
    return offsets


def _spool_with(directory: Path, records: list[bytes], **kwargs: int) -> None:
    spool = Spool.open(directory, **kwargs)
    spool.append(records)
    spool.close()


def test_append_then_read_returns_records_in_order_without_consuming(tmp_path: Path) -> None:
    """read() returns the oldest uncommitted records with their seqs, and again until committed."""
    spool = Spool.open(tmp_path)
    spool.append([b"a", b"b", b"c"])
    spool.append([b"d"])
    assert spool.pending() == 4

    batch = spool.read(10)
    assert batch is not None
    assert (batch.first_seq, batch.last_seq, batch.records) == (1, 4, [b"a", b"b", b"c", b"d"])
    again = spool.read(10)
    assert again is not None and again.records == batch.records
    assert spool.pending() == 4
    spool.close()


def test_read_is_bounded_and_commit_advances_in_order(tmp_path: Path) -> None:
    """read(n) returns at most n records; commit() moves past them; out-of-order commit fails."""
    spool = Spool.open(tmp_path)
    spool.append([b"r%d" % i for i in range(5)])
    first = spool.read(2)
    assert first is not None and first.records == [b"r0", b"r1"]
    spool.commit(first)
    assert spool.pending() == 3

    second = spool.read(2)
    assert second is not None and (second.first_seq, second.records) == (3, [b"r2", b"r3"])
    with pytest.raises(ValueError, match="out of order"):
        spool.commit(first)
    spool.commit(second)
    last = spool.read(2)
    assert last is not None and last.records == [b"r4"]
    spool.commit(last)
    assert spool.pending() == 0
    assert spool.read(2) is None
    spool.close()


def test_segments_rotate_and_are_deleted_only_once_committed(tmp_path: Path) -> None:
    """Segments rotate at segment_bytes, survive until every record in them is committed, and
    seqs continue across an emptied spool and a reopen."""
    spool = Spool.open(tmp_path, segment_bytes=40)
    for i in range(6):
        spool.append([b"record-%d" % i])  # 16 + 8 bytes per frame: two frames per segment
    assert len(_segments(tmp_path)) == 3

    batch = spool.read(3)
    assert batch is not None
    spool.commit(batch)
    # Segment 1 (records 1-2) is fully committed, segment 2 holds uncommitted record 4.
    assert [p.name for p in _segments(tmp_path)] == [
        "segment-00000000000000000003.log",
        "segment-00000000000000000005.log",
    ]
    rest = spool.read(10)
    assert rest is not None and rest.records == [b"record-3", b"record-4", b"record-5"]
    spool.commit(rest)
    assert _segments(tmp_path) == []

    spool.append([b"after"])
    assert [p.name for p in _segments(tmp_path)] == ["segment-00000000000000000007.log"]
    spool.close()

    reopened = Spool.open(tmp_path)
    batch = reopened.read(10)
    assert batch is not None and (batch.first_seq, batch.records) == (7, [b"after"])
    reopened.close()


def test_reopen_resumes_after_the_committed_offset(tmp_path: Path) -> None:
    """A reopened spool returns exactly the records that were not committed before."""
    spool = Spool.open(tmp_path)
    spool.append([b"a", b"b", b"c", b"d"])
    batch = spool.read(2)
    assert batch is not None
    spool.commit(batch)
    spool.close()

    reopened = Spool.open(tmp_path)
    assert reopened.pending() == 2
    rest = reopened.read(10)
    assert rest is not None and (rest.first_seq, rest.records) == (3, [b"c", b"d"])
    reopened.append([b"e"])
    assert _read_all(reopened) == [b"c", b"d", b"e"]
    reopened.close()


def test_torn_tail_partial_frame_is_truncated(tmp_path: Path) -> None:
    """A last frame cut short by a crash is dropped and the file truncated; appends continue."""
    _spool_with(tmp_path, [b"one", b"two", b"three"])
    (segment,) = _segments(tmp_path)
    size = segment.stat().st_size
    with segment.open("r+b") as file:
        file.truncate(size - 3)

    spool = Spool.open(tmp_path)
    assert _read_all(spool) == [b"one", b"two"]
    assert segment.stat().st_size == _frame_offsets(segment)[-1] + _HEADER.size + 8 + len(b"two")
    spool.append([b"four"])
    batch = spool.read(10)
    assert batch is not None and (batch.last_seq, batch.records[-1]) == (3, b"four")
    spool.close()


def test_torn_tail_bad_crc_in_last_frame_is_truncated(tmp_path: Path) -> None:
    """A complete last frame whose CRC does not match (payload not fully written) is dropped."""
    _spool_with(tmp_path, [b"one", b"two"])
    (segment,) = _segments(tmp_path)
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF
    segment.write_bytes(bytes(data))

    spool = Spool.open(tmp_path)
    assert _read_all(spool) == [b"one"]
    spool.close()


def test_zero_filled_tail_is_truncated(tmp_path: Path) -> None:
    """Zero bytes after the last good frame (blocks a file system zero-fills) are dropped."""
    _spool_with(tmp_path, [b"one", b"two"])
    (segment,) = _segments(tmp_path)
    good_size = segment.stat().st_size
    with segment.open("ab") as file:
        file.write(bytes(100))

    spool = Spool.open(tmp_path)
    assert _read_all(spool) == [b"one", b"two"]
    assert segment.stat().st_size == good_size
    spool.close()


def test_bad_crc_in_the_middle_raises(tmp_path: Path) -> None:
    """A damaged frame followed by more frames is acknowledged data: open() refuses, clearly."""
    _spool_with(tmp_path, [b"one", b"two", b"three"])
    (segment,) = _segments(tmp_path)
    data = bytearray(segment.read_bytes())
    second = _frame_offsets(segment)[1]
    data[second + _HEADER.size + 8] ^= 0xFF  # first byte of record "two"
    segment.write_bytes(bytes(data))

    with pytest.raises(SpoolCorruptError, match=rf"{segment.name} at offset {second}: CRC"):
        Spool.open(tmp_path)


def test_damaged_length_in_the_middle_is_not_mistaken_for_a_torn_tail(tmp_path: Path) -> None:
    """A middle frame whose length field now points past the end of the file still raises,
    because a valid frame for the next seq follows it."""
    _spool_with(tmp_path, [b"one", b"two", b"three"])
    (segment,) = _segments(tmp_path)
    data = bytearray(segment.read_bytes())
    second = _frame_offsets(segment)[1]
    _, crc = _HEADER.unpack_from(data, second)
    _HEADER.pack_into(data, second, 10_000, crc)
    segment.write_bytes(bytes(data))

    with pytest.raises(SpoolCorruptError, match="partial frame"):
        Spool.open(tmp_path)


def test_missing_segment_raises(tmp_path: Path) -> None:
    """Uncommitted records whose segment disappeared are reported, not silently skipped."""
    _spool_with(tmp_path, [b"a", b"b"], segment_bytes=1)
    _spool_with(tmp_path, [b"c"], segment_bytes=1)
    first = _segments(tmp_path)[0]
    first.unlink()

    with pytest.raises(SpoolCorruptError, match="missing"):
        Spool.open(tmp_path)


def test_crash_between_offset_write_and_segment_deletion_is_cleaned_up(tmp_path: Path) -> None:
    """Segments left behind after their records were committed are deleted on open, not resent."""
    spool = Spool.open(tmp_path)
    spool.append([b"a", b"b"])
    (segment,) = _segments(tmp_path)
    saved = segment.read_bytes()
    batch = spool.read(10)
    assert batch is not None
    spool.commit(batch)
    spool.close()
    assert not segment.exists()
    segment.write_bytes(saved)  # as if the process died right after writing the offset
    (tmp_path / "committed.tmp").write_bytes(b"garbage")

    reopened = Spool.open(tmp_path)
    assert reopened.pending() == 0
    assert reopened.read(10) is None
    assert _segments(tmp_path) == []
    assert not (tmp_path / "committed.tmp").exists()
    reopened.append([b"c"])
    batch = reopened.read(10)
    assert batch is not None and batch.first_seq == 3
    reopened.close()


def test_failed_append_leaves_no_partial_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append that fails half-way is cut back, so the next append does not follow garbage."""
    spool = Spool.open(tmp_path)
    spool.append([b"kept"])
    real_write = os.write

    def write_half_then_fail(fd: int, data: bytes | memoryview) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", write_half_then_fail)
    with pytest.raises(OSError, match="No space"):
        spool.append([b"lost-1", b"lost-2"])
    monkeypatch.undo()

    spool.append([b"next"])
    spool.close()
    reopened = Spool.open(tmp_path)
    batch = reopened.read(10)
    assert batch is not None and (batch.records, batch.last_seq) == ([b"kept", b"next"], 2)
    reopened.close()


def test_spool_files_are_private(tmp_path: Path) -> None:
    """The spool directory is 0700 and its segment and offset files 0600."""
    directory = tmp_path / "spool"
    spool = Spool.open(directory)
    spool.append([b"secret-bearing event"])
    batch = spool.read(1)
    assert batch is not None
    spool.append([b"another"])
    spool.commit(batch)
    spool.close()

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = [*_segments(directory), directory / "committed"]
    assert len(files) == 2
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
