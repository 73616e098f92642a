"""`centrum storage put/get/ls/rm/url`: objects from the shell, with progress bars.

The bars go to stderr and only to a terminal; `--json` turns them off.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from google.protobuf import duration_pb2
from rich.console import Console
from rich.table import Table

from centrum.cli._common import (
    DEFAULT_TARGET,
    ApiKey,
    AsJson,
    Target,
    Token,
    client,
    fail,
    print_json,
    progress,
)
from centrum.storage.v1 import object_pb2
from centrum.storage.v1 import storage_service_pb2 as pb

app = typer.Typer(
    help="Objects: put, get, ls, rm, url.", no_args_is_help=True, pretty_exceptions_enable=False
)
_out = Console()
_CHUNK = 1024 * 1024

Bucket = Annotated[str, typer.Argument(help="Bucket name.")]
Key = Annotated[str, typer.Argument(help="Object key, e.g. invoices/2026/42.pdf.")]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@app.command()
def put(
    bucket: Bucket,
    key: Key,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="File to upload.")],
    content_type: Annotated[str | None, typer.Option(help="Media type; guessed if unset.")] = None,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Uploads a file; the object appears only once complete and verified (SHA-256)."""
    size = file.stat().st_size
    header = pb.UploadHeader(
        bucket=bucket,
        key=key,
        content_type=content_type
        or mimetypes.guess_type(file.name)[0]
        or "application/octet-stream",
        size_bytes=size,
        sha256=_sha256(file),
    )
    with progress(as_json) as bar, client(target, token, api_key) as centrum:
        task = bar.add_task(f"put {key}", total=size)

        def requests() -> Iterator[pb.UploadRequest]:
            yield pb.UploadRequest(header=header)
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(_CHUNK), b""):
                    bar.advance(task, len(block))
                    yield pb.UploadRequest(chunk=block)

        response = centrum.storage.Upload(requests())
    if as_json:
        print_json(response.object)
    else:
        stored = response.object
        _out.print(f"stored {bucket}/{key} ({stored.size_bytes} bytes, etag {stored.etag})")


@app.command()
def get(
    bucket: Bucket,
    key: Key,
    output: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the object.")],
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Downloads an object to a file (written to a temporary name, then renamed)."""
    partial = output.with_name(output.name + ".partial")
    stored = object_pb2.Object()
    try:
        with progress(as_json) as bar, client(target, token, api_key) as centrum:
            task = bar.add_task(f"get {key}", total=None)
            with partial.open("wb") as handle:
                request = pb.DownloadRequest(bucket=bucket, key=key)
                for message in centrum.storage.Download(request):
                    if message.HasField("object"):
                        stored = message.object
                        bar.update(task, total=message.object.size_bytes)
                    else:
                        handle.write(message.chunk)
                        bar.advance(task, len(message.chunk))
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    if as_json:
        print_json(stored)
    else:
        _out.print(f"wrote {output}", highlight=False)


@app.command("ls")
def list_objects(
    bucket: Bucket,
    prefix: Annotated[str, typer.Option(help="Only keys starting with this.")] = "",
    delimiter: Annotated[str, typer.Option(help="Group keys by this separator.")] = "",
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Lists objects (all pages)."""
    objects: list[object_pb2.Object] = []
    prefixes: list[str] = []
    with client(target, token, api_key) as centrum:
        page_token = ""
        while True:
            page = centrum.storage.ListObjects(
                pb.ListObjectsRequest(
                    bucket=bucket,
                    prefix=prefix,
                    delimiter=delimiter,
                    page_size=1000,
                    page_token=page_token,
                )
            )
            objects.extend(page.objects)
            prefixes.extend(page.common_prefixes)
            page_token = page.next_page_token
            if not page_token:
                break
    if as_json:
        print_json(pb.ListObjectsResponse(objects=objects, common_prefixes=prefixes))
        return
    table = Table("key", "size", "type", "updated")
    for name in prefixes:
        table.add_row(name, "", "(prefix)", "")
    for item in objects:
        table.add_row(
            item.key, str(item.size_bytes), item.content_type, item.update_time.ToJsonString()
        )
    _out.print(table)


@app.command("rm")
def remove(
    bucket: Bucket,
    key: Key,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
) -> None:
    """Deletes an object (deleting a missing object is not an error)."""
    with client(target, token, api_key) as centrum:
        centrum.storage.DeleteObject(pb.DeleteObjectRequest(bucket=bucket, key=key))
    _out.print(f"deleted {bucket}/{key}")


@app.command()
def url(
    bucket: Bucket,
    key: Key,
    method: Annotated[str, typer.Option(help="GET or PUT.")] = "GET",
    ttl: Annotated[int, typer.Option(min=1, help="Seconds the URL stays valid.")] = 900,
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Prints a time-limited signed URL for an object."""
    methods = {"GET": pb.SIGNED_URL_METHOD_GET, "PUT": pb.SIGNED_URL_METHOD_PUT}
    if method.upper() not in methods:
        raise fail("--method must be GET or PUT")
    with client(target, token, api_key) as centrum:
        signed = centrum.storage.CreateSignedUrl(
            pb.CreateSignedUrlRequest(
                bucket=bucket,
                key=key,
                method=methods[method.upper()],
                ttl=duration_pb2.Duration(seconds=ttl),
            )
        )
    if as_json:
        print_json(signed)
    else:
        typer.echo(signed.url)
