"""Two `centrum serve` replicas and a `centrum worker` sharing PostgreSQL, Redis, OpenBao, S3
(moto_server) and SMTP: one system, whichever replica a caller reaches."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
from google.protobuf import struct_pb2

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.auth.v1 import auth_service_pb2
from centrum.config.v1 import config_service_pb2
from centrum.sdk import CentrumError, Client, connect
from centrum.storage.v1 import storage_service_pb2 as storage
from harness.backends import (
    ManagedProcess,
    MessageCapture,
    OpenBaoTarget,
    RedisTarget,
    S3Target,
    SmtpServer,
    sibling_database,
)
from harness.centrum import ServeProcess
from harness.cluster import audit_log_state, bootstrap_token, cluster_env, start_replicas


def test_two_replicas_and_a_worker_behave_as_one_system(
    serve_process: Callable[..., ServeProcess],
    postgres_url: str,
    redis_url: RedisTarget,
    openbao: OpenBaoTarget,
    s3_endpoint: S3Target,
    smtp_server: SmtpServer,
    smtp_capture: MessageCapture,
    tmp_path: Path,
) -> None:
    """Objects, config changes, revocations, rate limits, audit and mail cross replicas."""
    url = sibling_database(postgres_url, f"{postgres_url.rsplit('/', 1)[1]}_cluster")
    env = cluster_env(
        database_url=url,
        redis_url=redis_url.url,
        openbao=openbao,
        s3=s3_endpoint,
        smtp=f"{smtp_server.host}:{smtp_server.port}",
        bucket_prefix=f"cluster-{redis_url.prefix[-13:-1]}-",
        master_key_file=tmp_path / "shared-master.key",
    )
    a, b = start_replicas(serve_process, env, tmp_path)
    worker = ManagedProcess(
        "centrum-worker",
        [str(Path(a.process.argv[0])), "worker"],
        tmp_path / "worker.log",
        env={**os.environ, **env, "CENTRUM_DATA_DIR": str(tmp_path / "w")},
    )
    worker.start()
    token = bootstrap_token(tmp_path / "a", a.target)
    on_a, on_b = connect(a.target, token=token), connect(b.target, token=token)
    try:
        _object_crosses_replicas(on_a, on_b)
        _config_change_reaches_a_watcher_on_the_other_replica(on_a, on_b)
        _revocation_on_a_is_refused_by_b(on_a, b.target, tmp_path / "a")
        _one_rate_limit_for_both(a.target, b.target)
        _mail_is_sent_once(on_a, on_b, smtp_capture)
        _one_audit_tree(on_a, on_b, url)
    finally:
        on_a.close()
        on_b.close()
        worker.stop()


def _object_crosses_replicas(on_a: Client, on_b: Client) -> None:
    on_a.storage.CreateBucket(storage.CreateBucketRequest(name="shared"))
    payload = b"cluster object " * 10_000

    def chunks() -> Iterator[storage.UploadRequest]:
        yield storage.UploadRequest(
            header=storage.UploadHeader(
                bucket="shared", key="o.txt", content_type="text/plain", size_bytes=len(payload)
            )
        )
        yield storage.UploadRequest(chunk=payload)

    on_a.storage.Upload(chunks())
    received = b"".join(
        m.chunk
        for m in on_b.storage.Download(storage.DownloadRequest(bucket="shared", key="o.txt"))
    )
    assert received == payload


def _config_change_reaches_a_watcher_on_the_other_replica(on_a: Client, on_b: Client) -> None:
    seen: list[str] = []
    got = threading.Event()

    def watch() -> None:
        stream = on_b.config.Watch(
            config_service_pb2.WatchRequest(environment="prod", key="feature/limit"), timeout=30
        )
        try:
            for event in stream:
                if event.HasField("change"):
                    seen.append(event.change.key)
                    got.set()
                    stream.cancel()
        except grpc.RpcError as error:
            if not got.is_set():  # cancelling our own stream ends it with CANCELLED
                seen.append(f"stream failed: {error.code()}")

    watcher = threading.Thread(target=watch)
    watcher.start()
    deadline = time.monotonic() + 30
    while not got.is_set() and time.monotonic() < deadline:
        on_a.config.SetValue(
            config_service_pb2.SetValueRequest(
                environment="prod", key="feature/limit", value=struct_pb2.Value(number_value=5)
            )
        )
        got.wait(timeout=1)
    watcher.join(timeout=10)
    assert "feature/limit" in seen


def _revocation_on_a_is_refused_by_b(on_a: Client, b_target: str, a_dir: Path) -> None:
    victim = bootstrap_token(a_dir, b_target)
    with connect(b_target, token=victim) as client:
        client.auth.GetJwks(auth_service_pb2.GetJwksRequest())
        client.config.ListValues(config_service_pb2.ListValuesRequest(environment="prod"))
        on_a.auth.RevokeToken(auth_service_pb2.RevokeTokenRequest(token=victim))
        revoked_at = time.monotonic()
        while True:
            try:
                client.config.ListValues(config_service_pb2.ListValuesRequest(environment="prod"))
            except CentrumError as error:
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED
                break
            assert time.monotonic() - revoked_at < 1.0, "replica B accepted a revoked token"


def _one_rate_limit_for_both(a_target: str, b_target: str) -> None:
    """Login is limited per caller address (10/min, burst 1) across both replicas."""
    admitted = 0
    started = time.monotonic()
    with connect(a_target, retries=False) as on_a, connect(b_target, retries=False) as on_b:
        for i in range(20):
            client = on_a if i % 2 else on_b
            try:
                client.auth.Login(
                    auth_service_pb2.LoginRequest(username="nobody", password="x" * 12)
                )
            except CentrumError as error:
                if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    continue
            admitted += 1
    refills = int((time.monotonic() - started) / 6) + 1
    assert 1 <= admitted <= 1 + refills


def _mail_is_sent_once(on_a: Client, on_b: Client, capture: MessageCapture) -> None:
    from centrum.notification.v1 import notification_service_pb2

    for i in range(30):
        request = notification_service_pb2.SendRequest()
        request.recipient.email.to.add(address=f"user{i}@example.com")
        request.content.subject = f"cluster-{i}"
        request.content.text = "hello"
        (on_a if i % 2 else on_b).notifications.Send(request)
    messages = capture.wait_for_messages(30, timeout=60)
    subjects = [m.content.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].strip() for m in messages]
    assert sorted(subjects) == sorted({f"cluster-{i}".encode() for i in range(30)})


def _one_audit_tree(on_a: Client, on_b: Client, url: str) -> None:
    for i in range(20):
        event = audit_pb2.AuditEvent(
            event_id=f"cluster-{i}",
            category="test",
            action="append",
            outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS,
        )
        (on_a if i % 2 else on_b).audit.Append(audit_service_pb2.AppendRequest(event=event))

    report, ids = audit_log_state(url)
    assert report.ok and {f"cluster-{i}" for i in range(20)} <= ids
