"""AuditService.Export to S3 (moto_server): one object an auditor verifies offline, overwrite
protection, multipart uploads that appear only when complete, S3 down -> UNAVAILABLE with
RetryInfo, bad destinations -> INVALID_ARGUMENT with field violations, and no S3 configured."""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from test_audit_service import client, event, stream_auth

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.interceptors.errors import Unavailable
from centrum.sdk import audit as sdk_audit
from centrum.server import CentrumApp
from centrum.services.audit.export import S3Exporter, S3Settings
from harness._util import free_port
from harness.backends import S3Target
from harness.centrum import StartCentrum
from harness.echo_client import detail
from harness.tokens import TokenMint


def _settings(endpoint_url: str, target: S3Target | None = None) -> dict[str, Any]:
    """Server settings with S3 at `endpoint_url` and exports not rate limited."""
    return {
        "s3_endpoint_url": endpoint_url,
        "s3_access_key_id": target.access_key if target else "testing",
        "s3_secret_access_key": target.secret_key if target else "testing",
        "s3_bucket_prefix": f"ct-aud-{secrets.token_hex(3)}-",
        "rate_limits": {"audit.export": {"disabled": True}},
    }


def _bucket(target: S3Target) -> str:
    """A new, empty bucket in the emulator."""
    name = f"audit-exports-{secrets.token_hex(4)}"
    target.client().create_bucket(Bucket=name)
    return name


def _s3_request(bucket: str, key: str, **options: Any) -> audit_service_pb2.ExportRequest:
    gzip_on = options.pop("gzip", False)
    return audit_service_pb2.ExportRequest(
        destination=audit_service_pb2.ExportDestination(
            s3=audit_service_pb2.S3Destination(bucket=bucket, key=key, **options)
        ),
        gzip=gzip_on,
    )


async def _export(
    app: CentrumApp, mint: TokenMint, tenant: str, request: audit_service_pb2.ExportRequest
) -> list[audit_service_pb2.ExportResponse]:
    async with client(app, mint, tenant) as c:
        return [i async for i in c.audit.Export(request, metadata=stream_auth(mint, tenant))]


async def _failure(
    app: CentrumApp, mint: TokenMint, tenant: str, request: audit_service_pb2.ExportRequest
) -> Any:
    with pytest.raises(grpc.RpcError) as failure:
        await _export(app, mint, tenant, request)
    return failure.value


async def test_export_to_s3_is_one_object_an_auditor_verifies_offline(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """The object holds header (keys, checkpoint), entries with proofs and trailer; it matches
    the summary's digest, every proof verifies with the header's keys alone, and those keys
    are the log's own."""
    app = await start_centrum(**_settings(s3_endpoint.endpoint_url, s3_endpoint))
    bucket = _bucket(s3_endpoint)
    async with client(app, token_mint, "exp-s3") as c:
        await c.audit.AppendBatch(
            audit_service_pb2.AppendBatchRequest(events=[event(f"s3-{i}") for i in range(5)])
        )
        info = await c.audit.GetLogInfo(audit_service_pb2.GetLogInfoRequest())
    pinned = {k.verifier_key for k in info.public_keys}
    items = await _export(
        app, token_mint, "exp-s3", _s3_request(bucket, "2026/11/exp.jsonl.gz", gzip=True)
    )
    summary = items[-1].summary
    assert summary.uri == f"s3://{bucket}/2026/11/exp.jsonl.gz"
    assert summary.entry_count == 5 and any(i.HasField("progress") for i in items)
    stored = s3_endpoint.client().get_object(Bucket=bucket, Key="2026/11/exp.jsonl.gz")
    body = stored["Body"].read()
    assert hashlib.sha256(body).digest() == summary.sha256
    assert len(body) == summary.bytes_written
    records = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    header, trailer = records[0]["header"], records[-1]["trailer"]
    assert trailer["entryCount"] == "5"
    keys = [k["verifierKey"] for k in header["publicKeys"]]
    assert set(keys) <= pinned
    verifier = sdk_audit.LogVerifier(header["origin"], keys)
    checkpoint = verifier.advance(header["checkpoint"]["note"], [])
    exported = [json_format.ParseDict(r["entry"], audit_pb2.ExportedEntry()) for r in records[1:-1]]
    assert [e.entry.event.event_id for e in exported] == [f"s3-{i}" for i in range(5)]
    for item in exported:
        assert item.inclusion_proof.tree_size == checkpoint.tree_size
        verifier.verify_entry(item.entry, item.inclusion_proof)


async def test_an_existing_object_is_replaced_only_with_overwrite(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """A second export to the same key is ALREADY_EXISTS and leaves the object; overwrite
    replaces it."""
    app = await start_centrum(**_settings(s3_endpoint.endpoint_url, s3_endpoint))
    bucket = _bucket(s3_endpoint)
    async with client(app, token_mint, "exp-again") as c:
        await c.audit.Append(audit_service_pb2.AppendRequest(event=event("again-0")))
    first = (await _export(app, token_mint, "exp-again", _s3_request(bucket, "e.jsonl")))[-1]
    error = await _failure(app, token_mint, "exp-again", _s3_request(bucket, "e.jsonl"))
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    s3 = s3_endpoint.client()
    assert s3.get_object(Bucket=bucket, Key="e.jsonl")["Body"].read()
    replaced = await _export(
        app, token_mint, "exp-again", _s3_request(bucket, "e.jsonl", overwrite=True)
    )
    body = s3.get_object(Bucket=bucket, Key="e.jsonl")["Body"].read()
    assert hashlib.sha256(body).digest() == replaced[-1].summary.sha256 != first.summary.sha256


async def test_s3_down_is_unavailable_with_retry_info(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """With nothing listening at the S3 endpoint, Export ends UNAVAILABLE with RetryInfo."""
    app = await start_centrum(**_settings(f"http://127.0.0.1:{free_port()}"))
    error = await _failure(app, token_mint, "exp-down", _s3_request("audit-down", "x.jsonl"))
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert detail(error, error_details_pb2.RetryInfo).retry_delay.seconds >= 1


async def test_bad_s3_destinations_are_invalid_argument_with_field_violations(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """Malformed bucket names and keys are named field by field; nothing reaches S3."""
    app = await start_centrum(**_settings(s3_endpoint.endpoint_url, s3_endpoint))
    for bucket, key, fields in (
        ("Bad_Bucket", "ok.jsonl", {"destination.s3.bucket"}),
        ("ok-bucket", "", {"destination.s3.key"}),
        ("a", "../up.jsonl", {"destination.s3.bucket", "destination.s3.key"}),
        ("192.168.1.1", "/abs.jsonl", {"destination.s3.bucket", "destination.s3.key"}),
    ):
        error = await _failure(app, token_mint, "exp-bad", _s3_request(bucket, key))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        violations = detail(error, error_details_pb2.BadRequest).field_violations
        assert {v.field for v in violations} == fields


async def test_missing_bucket_is_not_found_and_no_s3_is_failed_precondition(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """A bucket that does not exist is NOT_FOUND; a server without S3 refuses S3 exports."""
    app = await start_centrum(**_settings(s3_endpoint.endpoint_url, s3_endpoint))
    request = _s3_request(f"no-such-{secrets.token_hex(4)}", "x.jsonl")
    error = await _failure(app, token_mint, "exp-nb", request)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    plain = await start_centrum(rate_limits={"audit.export": {"disabled": True}})
    error = await _failure(plain, token_mint, "exp-nb", request)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_large_exports_go_up_in_parts_and_appear_only_when_complete(
    s3_endpoint: S3Target,
) -> None:
    """Past one part the sink uses a multipart upload: the object is the exact bytes once
    committed, and an aborted export leaves neither an object nor an open upload."""
    exporter = S3Exporter(
        S3Settings(
            endpoint_url=s3_endpoint.endpoint_url,
            region=s3_endpoint.region,
            access_key_id=s3_endpoint.access_key,
            secret_access_key=s3_endpoint.secret_key,
        )
    )
    bucket = _bucket(s3_endpoint)
    data = secrets.token_bytes(1 << 20) * 11  # a part of 8 MiB and a last one of 3 MiB
    sink = await exporter.open(bucket, "big.jsonl", overwrite=False, compress=False)
    for start in range(0, len(data), 1 << 20):
        await sink.write(data[start : start + (1 << 20)])
    await sink.commit()
    await sink.abort()
    s3 = s3_endpoint.client()
    assert s3.get_object(Bucket=bucket, Key="big.jsonl")["Body"].read() == data
    failed = await exporter.open(bucket, "cut.jsonl", overwrite=False, compress=False)
    await failed.write(data[: 9 << 20])
    await failed.abort()
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="cut")
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    down = S3Exporter(S3Settings(f"http://127.0.0.1:{free_port()}", "us-east-1", "k", "s"))
    with pytest.raises(Unavailable):
        await down.open(bucket, "x", overwrite=False, compress=False)


async def test_cli_exports_to_s3_and_refuses_a_malformed_url(
    start_centrum: StartCentrum, token_mint: TokenMint, s3_endpoint: S3Target
) -> None:
    """`centrum audit export --s3 s3://bucket/key` writes the object; a URL without a key is a
    usage error (exit 2, one line) before any call."""
    from test_audit_service import SCOPES

    from harness.centrum import run_cli

    app = await start_centrum(**_settings(s3_endpoint.endpoint_url, s3_endpoint))
    bucket = _bucket(s3_endpoint)
    async with client(app, token_mint) as c:
        await c.audit.Append(audit_service_pb2.AppendRequest(event=event("cli-export-1")))
    token = token_mint.token(subject="writer", tenant="acme", scopes=SCOPES)
    code, _, err = await run_cli(app, token, "audit", "export", "--s3", f"s3://{bucket}/cli.jsonl")
    assert code == 0, err
    body = s3_endpoint.client().get_object(Bucket=bucket, Key="cli.jsonl")["Body"].read()
    assert b"cli-export-1" in body
    code, _, err = await run_cli(app, token, "audit", "export", "--s3", f"s3://{bucket}")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "s3://bucket/key" in err
