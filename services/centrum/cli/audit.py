"""`centrum audit`: tail, query, checkpoint and export over gRPC; verify the local store.

`verify` reads the database named by the settings directly (like `centrum migrate`), recomputes
the whole tree and names the first index that differs; every other command talks to a server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from google.protobuf import json_format
from rich.console import Console
from rich.table import Table

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.cli._common import (
    DEFAULT_TARGET,
    AsJson,
    Target,
    Token,
    client,
    connection,
    fail,
    progress,
    rpc_errors,
)

__all__ = ["app"]

app = typer.Typer(
    help="The audit log: tail, query, verify, checkpoint and export.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_out = Console()
_err = Console(stderr=True)


def _filter(
    action: str | None, actor: str | None, correlation_id: str | None, category: str | None
) -> audit_pb2.AuditFilter:
    return audit_pb2.AuditFilter(
        action=action or "",
        actor_principal_id=actor or "",
        correlation_id=correlation_id or "",
        category=category or "",
    )


def _entry_row(entry: audit_pb2.AuditEntry) -> list[str]:
    event = entry.event
    return [
        str(entry.index),
        entry.integrated_time.ToJsonString(),
        event.category,
        event.action,
        audit_pb2.AuditOutcome.Name(event.outcome).removeprefix("AUDIT_OUTCOME_"),
        event.actor.principal_id,
        "pruned" if entry.payload_pruned else event.event_id,
    ]


def _as_dict(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message)


@app.command()
def tail(
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    start: Annotated[int, typer.Option(help="First index to stream.")] = 0,
    from_end: Annotated[bool, typer.Option(help="Only entries appended from now on.")] = False,
    limit: Annotated[int, typer.Option(help="Stop after this many entries (0: follow).")] = 0,
    as_json: AsJson = False,
) -> None:
    """Streams entries as they are appended (resume with --start <next index>)."""
    with client(target, token) as centrum:
        seen = 0
        stream = centrum.audit.Tail(
            audit_service_pb2.TailRequest(start_index=start, from_end=from_end)
        )
        for item in stream:
            if not item.HasField("entry"):
                continue
            if as_json:
                print(json.dumps(_as_dict(item.entry)), flush=True)
            else:
                _out.print(" ".join(_entry_row(item.entry)))
            seen += 1
            if limit and seen >= limit:
                stream.cancel()
                break


@app.command()
def query(
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    action: Annotated[str | None, typer.Option(help="Exact action.")] = None,
    actor: Annotated[str | None, typer.Option(help="Actor principal id.")] = None,
    category: Annotated[str | None, typer.Option(help="Category or its prefix.")] = None,
    correlation_id: Annotated[str | None, typer.Option(help="Correlation id.")] = None,
    page_size: Annotated[int, typer.Option(help="Entries per page.")] = 100,
    page_token: Annotated[str, typer.Option(help="next_page_token of a previous page.")] = "",
    as_json: AsJson = False,
) -> None:
    """Lists one page of the tenant's entries, newest first."""
    with client(target, token) as centrum:
        response = centrum.audit.Query(
            audit_service_pb2.QueryRequest(
                filter=_filter(action, actor, correlation_id, category),
                page_size=page_size,
                page_token=page_token,
            )
        )
    if as_json:
        print(json.dumps(_as_dict(response)))
        return
    table = Table("index", "integrated", "category", "action", "outcome", "actor", "event id")
    for entry in response.entries:
        table.add_row(*_entry_row(entry))
    _out.print(table)
    if response.next_page_token:
        _out.print(f"next page: --page-token {response.next_page_token}")


@app.command()
def checkpoint(
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    state_file: Annotated[
        Path | None,
        typer.Option(help="Keeps the last verified checkpoint; detects rollback and forks."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Fetches the latest checkpoint and verifies it (and its consistency, with --state-file)."""
    from centrum.sdk.audit import LogVerifier, VerificationError

    used = connection(target, token)

    async def run() -> audit_pb2.Checkpoint:
        async with used.connect_aio() as centrum:
            info = await centrum.audit.GetLogInfo(audit_service_pb2.GetLogInfoRequest())
            verifier = LogVerifier(
                info.origin, [k.verifier_key for k in info.public_keys], state_file=state_file
            )
            await verifier.refresh(centrum.audit)
            response = await centrum.audit.GetCheckpoint(audit_service_pb2.GetCheckpointRequest())
            latest: audit_pb2.Checkpoint = response.checkpoint
            return latest

    try:
        with rpc_errors(used):
            found = asyncio.run(run())
    except VerificationError as exc:
        raise fail(f"checkpoint does not verify: {exc}", code=1) from None
    if as_json:
        print(json.dumps(_as_dict(found)))
        return
    _out.print(f"origin     {found.origin}")
    _out.print(f"tree size  {found.tree_size}")
    _out.print(f"root hash  {base64.b64encode(found.root_hash).decode()}")
    _out.print(f"signed at  {found.timestamp.ToJsonString()}  (signature verified)")


@app.command()
def export(
    target: Target = DEFAULT_TARGET,
    token: Token = None,
    start: Annotated[int, typer.Option(help="First index.")] = 0,
    end: Annotated[int, typer.Option(help="One past the last index (0: latest checkpoint).")] = 0,
    server_path: Annotated[
        str | None, typer.Option(help="Write on the server, under its export directory.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Local file (default: stdout).")
    ] = None,
    s3_url: Annotated[
        str | None,
        typer.Option("--s3", help="Write to s3://bucket/key through the server's S3 settings."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing server file or S3 object.")
    ] = False,
    gzip: Annotated[bool, typer.Option(help="Compress the export with gzip.")] = False,
) -> None:
    """Exports a range with its checkpoint and proofs as JSON Lines."""
    request = audit_service_pb2.ExportRequest(start_index=start, end_index=end, gzip=gzip)
    if server_path and s3_url:
        raise fail("--server-path and --s3 are two destinations: choose one")
    if server_path:
        request.destination.file.path = server_path
        request.destination.file.overwrite = overwrite
    if s3_url:
        bucket, _, key = s3_url.removeprefix("s3://").partition("/")
        if not s3_url.startswith("s3://") or not bucket or not key:
            raise fail(f"--s3 takes s3://bucket/key, not {s3_url!r}")
        request.destination.s3.bucket, request.destination.s3.key = bucket, key
        request.destination.s3.overwrite = overwrite
    summary = audit_service_pb2.ExportSummary()
    with progress() as bar, client(target, token) as centrum:
        task = bar.add_task("export", total=None)
        sink = output.open("wb") if output is not None else sys.stdout.buffer
        try:
            for item in centrum.audit.Export(request):
                if item.HasField("chunk"):
                    sink.write(item.chunk)
                    bar.advance(task, len(item.chunk))
                elif item.HasField("summary"):
                    summary = item.summary
        finally:
            if output is not None:
                sink.close()
    _err.print(
        f"exported {summary.entry_count} entries ({summary.pruned_count} pruned) "
        f"{summary.uri or (str(output) if output else 'to stdout')}"
    )


@app.command()
def verify(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file.", exists=True)
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Recomputes the tree from the store, checks the checkpoints, names the first bad index."""
    from centrum.cli.main import load_settings
    from centrum.services.audit.log import SqlAuditLog
    from centrum.services.audit.verify import VerifyReport, verify_log
    from centrum.services.db import create_engine

    settings = load_settings(config)

    async def run() -> VerifyReport:
        engine = create_engine(settings.sqlalchemy_url)
        try:
            return await verify_log(SqlAuditLog(engine))
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except Exception as exc:
        raise fail(
            f"cannot read the audit store: {exc.__class__.__name__}",
            "check database_url / data_dir of the settings (--config)",
        ) from None
    if as_json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "tree_size": report.tree_size,
                    "root_hash": base64.b64encode(report.root_hash).decode(),
                    "checkpoint_size": report.checkpoint_size,
                    "checkpoints_checked": report.checkpoints_checked,
                    "pruned": report.pruned,
                    "first_bad_index": report.first_bad_index,
                    "problems": report.problems,
                }
            )
        )
    elif report.ok:
        _out.print(
            f"ok: {report.tree_size} entries ({report.pruned} pruned), "
            f"{report.checkpoints_checked} checkpoints verified, "
            f"root {base64.b64encode(report.root_hash).decode()}"
        )
    else:
        _err.print(f"[bold red]TAMPERED:[/] first differing index {report.first_bad_index}")
        for problem in report.problems:
            _err.print(f"  {problem}")
    if not report.ok:
        raise typer.Exit(code=1)
