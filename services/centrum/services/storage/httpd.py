"""The local HTTP endpoint serving signed GET/PUT URLs and public-read objects.

Deliberately tiny: HTTP/1.1 with one request per connection, `Content-Length` bodies only (no
chunked uploads), bounded request heads, and every upload through the same validated, scanned,
encrypted path as the gRPC Upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import structlog

from centrum.interceptors.context import Principal
from centrum.interceptors.errors import CentrumError
from centrum.services.storage.objects import Objects, UploadSpec
from centrum.services.storage.signing import SignatureError, UrlSigner

__all__ = ["ObjectHttpEndpoint"]

_log = structlog.get_logger("centrum.storage.http")
_MAX_HEAD = 16 * 1024
_READ_TIMEOUT_S = 30.0
_BODY_CHUNK = 1024 * 1024
_STATUS_OF = {
    "INVALID_ARGUMENT": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "FAILED_PRECONDITION": 412,
    "OUT_OF_RANGE": 416,
    "RESOURCE_EXHAUSTED": 413,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
}
_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    416: "Range Not Satisfiable",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ObjectHttpEndpoint:
    """Serves `/v1/objects` (signed) and `/v1/public` (public-read) on one address."""

    def __init__(self, objects: Objects, signer: UrlSigner, listen: str) -> None:
        self._objects = objects
        self._signer = signer
        host, _, port = listen.rpartition(":")
        self._host = host.strip("[]") or "127.0.0.1"
        self._port = int(port)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        """Starts listening; returns the bound port."""
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=_MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stops listening and closes open connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                self._server.close_clients()  # type: ignore[attr-defined]
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except _HttpError as exc:
            await _respond(writer, exc.status, {"error": exc.message})
        except CentrumError as exc:
            status = _STATUS_OF.get(exc.code.name, 500)
            await _respond(writer, status, {"error": exc.message, "reason": exc.reason or ""})
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except Exception:
            _log.exception("signed url request failed")
            with contextlib.suppress(Exception):
                await _respond(writer, 500, {"error": "internal error"})
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT_S)
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise _HttpError(431, "request head too large") from exc
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _HttpError(400, "malformed request line")
        method, target, _ = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _HttpError(400, "malformed header")
            headers[name.lower()] = value.strip()
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if url.path == "/v1/public" and method == "GET":
            record, body = await self._objects.open_public(
                query.get("t", ""), query.get("b", ""), query.get("k", ""), require_public=True
            )
            await _stream(writer, record.values, body)
            return
        if url.path != "/v1/objects":
            raise _HttpError(404, "no such endpoint")
        if method not in ("GET", "PUT"):
            raise _HttpError(405, "only GET and PUT")
        try:
            grant = self._signer.verify(query, method)
        except SignatureError as exc:
            raise _HttpError(403, str(exc)) from exc
        if method == "GET":
            record, body = await self._objects.open_public(
                grant.tenant, grant.bucket, grant.key, require_public=False
            )
            await _stream(writer, record.values, body)
            return
        if "transfer-encoding" in headers or "content-length" not in headers:
            raise _HttpError(411, "a Content-Length body is required")
        try:
            length = int(headers["content-length"])
        except ValueError as exc:
            raise _HttpError(400, "bad Content-Length") from exc
        if headers.get("content-type", "").lower() != grant.content_type:
            raise _HttpError(403, "Content-Type differs from the signed one")
        if grant.size is not None and length != grant.size:
            raise _HttpError(403, "Content-Length differs from the signed size")
        owner = Principal(
            subject=grant.subject, tenant=grant.tenant, scopes=frozenset({"storage.write"})
        )
        stored = await self._objects.upload(
            owner,
            UploadSpec(
                bucket=grant.bucket,
                key=grant.key,
                content_type=grant.content_type,
                size_bytes=length,
            ),
            _body(reader, length),
        )
        await _respond(
            writer, 201, {"etag": stored.etag, "sha256": stored.sha256}, etag=stored.etag
        )


async def _body(reader: asyncio.StreamReader, length: int) -> AsyncIterator[bytes]:
    remaining = length
    while remaining > 0:
        data = await asyncio.wait_for(reader.read(min(_BODY_CHUNK, remaining)), _READ_TIMEOUT_S)
        if not data:
            return
        remaining -= len(data)
        yield data


async def _respond(
    writer: asyncio.StreamWriter, status: int, payload: dict[str, str], etag: str = ""
) -> None:
    body = json.dumps(payload).encode()
    head = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        "X-Content-Type-Options: nosniff",
    ]
    if etag:
        head.append(f'ETag: "{etag}"')
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


def _header_safe(value: object) -> str:
    return str(value).replace("\r", " ").replace("\n", " ")


async def _stream(
    writer: asyncio.StreamWriter, values: dict[str, Any], body: AsyncIterator[bytes]
) -> None:
    head = [
        "HTTP/1.1 200 OK",
        f"Content-Type: {_header_safe(values['content_type'])}",
        f"Content-Length: {values['size_bytes']}",
        f'ETag: "{values["etag"]}"',
        "Connection: close",
        "X-Content-Type-Options: nosniff",
    ]
    if values.get("cache_control"):
        head.append(f"Cache-Control: {_header_safe(values['cache_control'])}")
    if values.get("content_disposition"):
        head.append(f"Content-Disposition: {_header_safe(values['content_disposition'])}")
    first = await anext(body, b"")  # errors before the first byte still get a status
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + first)
    await writer.drain()
    async for chunk in body:
        writer.write(chunk)
        await writer.drain()
