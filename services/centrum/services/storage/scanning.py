"""Malware scanning of uploads while they stream: a Scanner opens one session per object.

`EicarScanner` (the embedded default) finds the EICAR test signature; `ClamdScanner` streams the
bytes to a ClamAV daemon with INSTREAM over TCP or a unix socket; `NoScanner` marks objects as not
scanned when an operator turned scanning off.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass
from typing import Protocol

from centrum.storage.v1 import object_pb2

__all__ = [
    "EICAR",
    "ClamdScanner",
    "EicarScanner",
    "NoScanner",
    "ScanSession",
    "ScanVerdict",
    "Scanner",
]

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
"""The EICAR anti-virus test string."""

_CLAMD_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ScanVerdict:
    """The outcome of one scan: a ScanState value and the matched signature or error."""

    state: int
    signature: str = ""


class ScanSession(Protocol):
    """The scan of one object: fed its bytes in order, then finished exactly once."""

    async def feed(self, chunk: bytes) -> None:
        """Scans the next bytes."""
        ...

    async def finish(self) -> ScanVerdict:
        """Returns the verdict after the last byte."""
        ...

    async def abort(self) -> None:
        """Drops the scan (the upload failed)."""
        ...


class Scanner(Protocol):
    """Opens scan sessions."""

    async def open(self) -> ScanSession:
        """Starts scanning one object."""
        ...


class _SkippedSession:
    async def feed(self, chunk: bytes) -> None:
        return None

    async def finish(self) -> ScanVerdict:
        return ScanVerdict(object_pb2.SCAN_STATE_SKIPPED)

    async def abort(self) -> None:
        return None


class NoScanner:
    """Scanning disabled: every object is SCAN_STATE_SKIPPED."""

    async def open(self) -> ScanSession:
        """A session that skips the scan."""
        return _SkippedSession()


class _EicarSession:
    def __init__(self) -> None:
        self._tail = b""
        self._found = False

    async def feed(self, chunk: bytes) -> None:
        if self._found:
            return
        head = self._tail + chunk[: len(EICAR) - 1]
        self._found = EICAR in head or EICAR in chunk
        self._tail = (self._tail + chunk[-(len(EICAR) - 1) :])[-(len(EICAR) - 1) :]

    async def finish(self) -> ScanVerdict:
        if self._found:
            return ScanVerdict(object_pb2.SCAN_STATE_INFECTED, "Eicar-Test-Signature")
        return ScanVerdict(object_pb2.SCAN_STATE_CLEAN)

    async def abort(self) -> None:
        return None


class EicarScanner:
    """The built-in scanner: finds the EICAR test signature anywhere in the bytes."""

    async def open(self) -> ScanSession:
        """A session looking for EICAR."""
        return _EicarSession()


class _ClamdSession:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout_s: float
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._timeout = timeout_s
        self._broken: str | None = None

    async def feed(self, chunk: bytes) -> None:
        if self._broken is not None:
            return
        try:
            for start in range(0, len(chunk), _CLAMD_CHUNK):
                piece = chunk[start : start + _CLAMD_CHUNK]
                self._writer.write(struct.pack(">I", len(piece)) + piece)
                await self._writer.drain()
        except OSError as exc:  # clamd closes the stream on errors such as its size limit
            self._broken = f"clamd closed the stream: {exc.__class__.__name__}"

    async def finish(self) -> ScanVerdict:
        try:
            if self._broken is None:
                self._writer.write(b"\x00\x00\x00\x00")
                await self._writer.drain()
            reply = await asyncio.wait_for(self._reader.readuntil(b"\x00"), self._timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            return ScanVerdict(
                object_pb2.SCAN_STATE_FAILED, self._broken or f"clamd: {exc.__class__.__name__}"
            )
        finally:
            await self.abort()
        return _parse_clamd(reply.rstrip(b"\x00").decode(errors="replace"))

    async def abort(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


def _parse_clamd(reply: str) -> ScanVerdict:
    """Reads an INSTREAM reply: `stream: OK`, `stream: <sig> FOUND` or `<error> ERROR`."""
    body = reply.removeprefix("stream:").strip()
    if body == "OK":
        return ScanVerdict(object_pb2.SCAN_STATE_CLEAN)
    if body.endswith(" FOUND"):
        return ScanVerdict(object_pb2.SCAN_STATE_INFECTED, body.removesuffix(" FOUND")[:255])
    return ScanVerdict(object_pb2.SCAN_STATE_FAILED, body[:255])


class ClamdScanner:
    """Scans with a ClamAV daemon (INSTREAM) at "host:port" or "unix:/path"."""

    def __init__(self, address: str, timeout_s: float = 30.0) -> None:
        self._address = address
        self._timeout = timeout_s

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._address.startswith("unix:"):
            return await asyncio.open_unix_connection(self._address.removeprefix("unix:"))
        host, _, port = self._address.rpartition(":")
        return await asyncio.open_connection(host.strip("[]"), int(port))

    async def open(self) -> ScanSession:
        """Connects and starts an INSTREAM scan; raises OSError when clamd is unreachable."""
        reader, writer = await asyncio.wait_for(self._connect(), self._timeout)
        writer.write(b"zINSTREAM\x00")
        await writer.drain()
        return _ClamdSession(reader, writer, self._timeout)

    async def ping(self) -> bool:
        """Whether clamd answers PING with PONG."""
        try:
            reader, writer = await asyncio.wait_for(self._connect(), 2.0)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"zPING\x00")
            await writer.drain()
            return await asyncio.wait_for(reader.readuntil(b"\x00"), 2.0) == b"PONG\x00"
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            return False
        finally:
            writer.close()
