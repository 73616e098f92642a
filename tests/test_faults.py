"""Fault injection under load: two `centrum serve` replicas sharing PostgreSQL, Redis, OpenBao,
S3 (moto_server) and SMTP take a steady stream of acknowledged writes while one backend fails.

Every test injects one fault while the load runs, holds it while the load keeps writing, heals
it, and then pins what README's "When a backend fails" table promises: each write that was
acknowledged is there afterwards, each write that failed was UNAVAILABLE with RetryInfo (never
INTERNAL or a hang), both replicas serve again without a restart, and the audit log verifies.

OpenBao (dev mode), moto_server and the SMTP capture keep everything in memory, so their outage
is a cut of the network path (`harness.backends.FaultProxy`): callers are refused exactly as by
a stopped server, and the writes acknowledged before the outage can still be read back.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf import struct_pb2

from centrum.audit.v1 import audit_pb2, audit_service_pb2
from centrum.config.v1 import config_service_pb2, secret_service_pb2
from centrum.notification.v1 import notification_service_pb2
from centrum.sdk import CentrumError, Client, connect
from centrum.services.audit.verify import VerifyReport
from centrum.storage.v1 import storage_service_pb2 as storage
from harness.backends import (
    BackendError,
    FaultProxy,
    MessageCapture,
    OpenBaoTarget,
    PrivateRedis,
    S3Target,
    SmtpServer,
    allow_connections,
    drop_sibling_database,
    sibling_database,
    wait_for,
)
from harness.centrum import ServeProcess, serving
from harness.cluster import audit_log_state, bootstrap_token, cluster_env, start_replicas

KINDS = ("config", "secret", "audit", "storage", "notification")
PACE_S = 0.05
"""Pause of each writer between two writes: a steady load that stays far below capacity."""
ATTEMPTS_DURING_FAULT = 10
"""Writes of every kind to each replica while the fault lasts: the fault window."""
FAULT_WINDOW_MAX_S = 8.0
CALL_TIMEOUT_S = 30.0
"""Deadline of each write: a write still unanswered then hangs, which the test counts as failed
(it must be UNAVAILABLE). Generous, because these machines are small and shared."""
RECOVERY_TIMEOUT_S = 30.0
_RAISED = {
    f"CENTRUM_RATE_LIMITS__{bucket}__{field}": value
    for bucket in (
        "CONFIG.WRITE",
        "CONFIG.READ",
        "SECRETS.WRITE",
        "SECRETS.READ",
        "AUDIT.APPEND",
        "STORAGE.UPLOAD",
        "STORAGE.DOWNLOAD",
        "NOTIFY.SEND",
    )
    for field, value in (("PER_MINUTE", "600000"), ("BURST", "10000"))
}
"""The load and its read-back stay within the rate limits, which still run through Redis."""


@dataclass
class FaultCluster:
    """Two replicas whose every shared backend can be made to fail."""

    replicas: list[ServeProcess]
    clients: list[Client]
    database_url: str
    redis: PrivateRedis
    vault: FaultProxy
    s3: FaultProxy
    smtp: FaultProxy
    capture: MessageCapture


@pytest.fixture(scope="module")
def cluster(
    serve_process_module: Callable[..., ServeProcess],
    tmp_path_factory: pytest.TempPathFactory,
    postgres_url: str,
    openbao: OpenBaoTarget,
    s3_endpoint: S3Target,
    smtp_server: SmtpServer,
) -> Iterator[FaultCluster]:
    """The replicas, each backend behind a fault point, one client per replica."""
    workdir = tmp_path_factory.mktemp("faults")
    with contextlib.ExitStack() as cleanup:
        database = sibling_database(postgres_url, f"{postgres_url.rsplit('/', 1)[1]}_faults")
        cleanup.callback(drop_sibling_database, database)
        redis = PrivateRedis(workdir / "redis")
        cleanup.callback(redis.stop)
        redis.start()
        vault, s3, smtp = (
            FaultProxy("127.0.0.1", int(openbao.addr.rsplit(":", 1)[1])),
            FaultProxy("127.0.0.1", int(s3_endpoint.endpoint_url.rsplit(":", 1)[1])),
            FaultProxy(smtp_server.host, smtp_server.port),
        )
        for proxy in (vault, s3, smtp):
            cleanup.callback(proxy.stop)
            proxy.start()
        env = cluster_env(
            database_url=database,
            redis_url=redis.url,
            openbao=OpenBaoTarget(addr=f"http://{vault.address}", token=openbao.token),
            s3=S3Target(endpoint_url=f"http://{s3.address}"),
            smtp=smtp.address,
            bucket_prefix=f"faults-{secrets.token_hex(4)}-",
            master_key_file=workdir / "shared-master.key",
            extra={
                **_RAISED,
                "CENTRUM_HEALTH_INTERVAL_S": "0.2",
                "CENTRUM_NOTIFICATION__BACKOFF_BASE_S": "0.2",
                "CENTRUM_NOTIFICATION__BACKOFF_MAX_S": "1",
                "CENTRUM_NOTIFICATION__MAX_ATTEMPTS": "100",
                "CENTRUM_NOTIFICATION__PROVIDER_TIMEOUT_S": "3",
                "CENTRUM_NOTIFICATION__POLL_INTERVAL_S": "0.2",
            },
        )
        replicas = start_replicas(serve_process_module, env, workdir)
        for replica in replicas:  # before the backends they use go away
            cleanup.callback(replica.process.stop)
        token = bootstrap_token(workdir / "a", replicas[0].target)
        # No client-side retries and no contract deadlines (only CALL_TIMEOUT_S): the test
        # judges the answers the servers give, not how fast a shared machine gives them.
        clients = [connect(r.target, token=token, retries=False, services=()) for r in replicas]
        for client in clients:
            cleanup.callback(client.close)
        clients[0].storage.CreateBucket(storage.CreateBucketRequest(name="faults"))
        smtp_server.capture.clear()
        yield FaultCluster(replicas, clients, database, redis, vault, s3, smtp, smtp_server.capture)


# --- the load ----------------------------------------------------------------------------------


def _write(client: Client, kind: str, key: str) -> None:
    """One acknowledged-or-failed write of `kind`, identified by `key`."""
    timeout = CALL_TIMEOUT_S
    if kind == "config":
        client.config.SetValue(
            config_service_pb2.SetValueRequest(
                environment="prod", key=f"faults/{key}", value=struct_pb2.Value(string_value=key)
            ),
            timeout=timeout,
        )
    elif kind == "secret":
        client.secrets.PutSecret(
            secret_service_pb2.PutSecretRequest(path=f"faults/{key}", data={"v": key}),
            timeout=timeout,
        )
    elif kind == "audit":
        event = audit_pb2.AuditEvent(
            event_id=key, category="test", action="append", outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS
        )
        client.audit.Append(audit_service_pb2.AppendRequest(event=event), timeout=timeout)
    elif kind == "storage":
        payload = key.encode() * 16
        header = storage.UploadHeader(
            bucket="faults", key=key, content_type="text/plain", size_bytes=len(payload)
        )
        client.storage.Upload(
            iter([storage.UploadRequest(header=header), storage.UploadRequest(chunk=payload)]),
            timeout=timeout,
        )
    else:
        request = notification_service_pb2.SendRequest()
        request.recipient.email.to.add(address="faults@example.com")
        request.content.subject = key
        request.content.text = "load"
        client.notifications.Send(request, timeout=timeout)


def _present(client: Client, kind: str, key: str) -> bool:
    """Whether the acknowledged write `key` of `kind` reads back (audit and mail: see callers)."""
    if kind == "config":
        response = client.config.GetValue(
            config_service_pb2.GetValueRequest(environment="prod", key=f"faults/{key}"),
            timeout=CALL_TIMEOUT_S,
        )
        return bool(response.value.value.string_value == key)
    if kind == "secret":
        secret = client.secrets.GetSecret(
            secret_service_pb2.GetSecretRequest(path=f"faults/{key}"), timeout=CALL_TIMEOUT_S
        )
        return dict(secret.data) == {"v": key}
    received = b"".join(
        m.chunk
        for m in client.storage.Download(
            storage.DownloadRequest(bucket="faults", key=key), timeout=CALL_TIMEOUT_S
        )
    )
    return received == key.encode() * 16


@dataclass(frozen=True)
class Outcome:
    """How one write ended."""

    kind: str
    key: str
    replica: int
    code: grpc.StatusCode
    retry_after: float | None
    message: str
    finished: float


@dataclass
class Load:
    """One writer thread per kind, alternating between the replicas, until stopped."""

    clients: list[Client]
    tag: str
    outcomes: list[Outcome] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Starts the writers."""
        for kind in KINDS:
            thread = threading.Thread(target=self._writer, args=(kind,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stops the writers and waits for their last writes to end."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CALL_TIMEOUT_S * 2)

    def _writer(self, kind: str) -> None:
        n = 0
        while not self._stop.is_set():
            replica = n % len(self.clients)
            key = f"{self.tag}-{kind}-{n}"
            code, retry_after, message = grpc.StatusCode.OK, None, ""
            try:
                _write(self.clients[replica], kind, key)
            except CentrumError as error:
                code, retry_after, message = error.code(), error.retry_after, error.message
            with self._lock:
                self.outcomes.append(
                    Outcome(kind, key, replica, code, retry_after, message, time.monotonic())
                )
            n += 1
            self._stop.wait(PACE_S)

    def hold(self, since: float) -> None:
        """Returns once every writer made ATTEMPTS_DURING_FAULT writes to each replica after
        `since`, or FAULT_WINDOW_MAX_S after it (a writer stuck in a hanging call)."""
        deadline = since + FAULT_WINDOW_MAX_S
        while time.monotonic() < deadline:
            if min(self.count(since=since).values()) >= ATTEMPTS_DURING_FAULT:
                return
            self._stop.wait(PACE_S)

    def snapshot(self) -> list[Outcome]:
        """The outcomes so far."""
        with self._lock:
            return list(self.outcomes)

    def count(self, *, since: float = 0.0, ok: bool | None = None) -> dict[tuple[str, int], int]:
        """Writes finished after `since` per (kind, replica), only OK or only failed if asked."""
        counts = {(kind, replica): 0 for kind in KINDS for replica in range(len(self.clients))}
        for outcome in self.snapshot():
            if outcome.finished >= since and (
                ok is None or (outcome.code == grpc.StatusCode.OK) == ok
            ):
                counts[outcome.kind, outcome.replica] += 1
        return counts


def _run_fault(
    cluster: FaultCluster, tag: str, inject: Callable[[], None], heal: Callable[[], None]
) -> Load:
    """Runs the load, injects the fault, holds it for a window of writes, heals it, and returns
    once both replicas acknowledged a write of every kind again."""
    load = Load(cluster.clients, tag)
    pids = [replica.process.pid for replica in cluster.replicas]
    load.start()
    try:
        wait_for(
            lambda: min(load.count(ok=True).values()) >= 2,
            RECOVERY_TIMEOUT_S,
            "every kind of write acknowledged by both replicas before the fault",
        )
        faulted_at = time.monotonic()
        inject()
        try:
            load.hold(faulted_at)
        finally:
            heal()
        healed_at = time.monotonic()
        wait_for(
            lambda: min(load.count(since=healed_at, ok=True).values()) >= 1,
            RECOVERY_TIMEOUT_S,
            "every kind of write acknowledged by both replicas after the fault",
        )
    finally:
        load.stop()
    for replica, pid in zip(cluster.replicas, pids, strict=True):
        assert replica.process.running() and replica.process.pid == pid, "a replica restarted"
    wait_for(
        lambda: all(serving(replica.port) for replica in cluster.replicas),
        RECOVERY_TIMEOUT_S,
        "both replicas SERVING",
    )
    return load


def _assert_failures_were_unavailable_with_retry_info(load: Load) -> None:
    bad = [
        o
        for o in load.snapshot()
        if o.code != grpc.StatusCode.OK
        and (o.code != grpc.StatusCode.UNAVAILABLE or o.retry_after is None)
    ]
    assert not bad, "writes failed other than UNAVAILABLE with RetryInfo:\n" + "\n".join(
        f"{o.kind} {o.key} on {o.replica}: {o.code.name} retry_after={o.retry_after} {o.message}"
        for o in bad[:20]
    )


def _assert_acknowledged_writes_are_present(cluster: FaultCluster, load: Load) -> None:
    acknowledged = [o for o in load.snapshot() if o.code == grpc.StatusCode.OK]
    missing = [
        f"{o.kind} {o.key}"
        for i, o in enumerate(acknowledged)
        if o.kind in ("config", "secret", "storage")
        and not _present(cluster.clients[i % 2], o.kind, o.key)
    ]
    assert not missing, f"acknowledged writes lost: {missing[:20]}"

    # The read-back above is audited too, and those events may still be on their way from
    # the spools to the log; verification needs a log nobody appends to, so it is retried.
    events = {o.key for o in acknowledged if o.kind == "audit"}
    state: list[tuple[VerifyReport, set[str]]] = []

    def audit_complete_and_verified() -> bool:
        state[:] = [audit_log_state(cluster.database_url)]
        report, ids = state[0]
        return events <= ids and report.ok

    try:
        wait_for(audit_complete_and_verified, RECOVERY_TIMEOUT_S, "a complete, verified audit log")
    except BackendError:
        report, ids = state[0]
        assert events <= ids, f"acknowledged audit events lost: {sorted(events - ids)[:20]}"
        raise AssertionError(f"the audit log does not verify: {report.problems}") from None

    subjects = {o.key for o in acknowledged if o.kind == "notification"}

    def delivered() -> set[str]:
        return {
            m.content.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].strip().decode()
            for m in cluster.capture.messages()
            if b"Subject: " in m.content
        }

    try:
        wait_for(lambda: subjects <= delivered(), RECOVERY_TIMEOUT_S, "notifications delivered")
    except BackendError:
        missing = sorted(subjects - delivered())
        raise AssertionError(f"acknowledged notifications never delivered: {missing}") from None


def _failed(load: Load, kind: str) -> int:
    return sum(1 for o in load.snapshot() if o.kind == kind and o.code != grpc.StatusCode.OK)


# --- the faults --------------------------------------------------------------------------------


def test_postgres_refusing_connections_under_load(cluster: FaultCluster) -> None:
    """PostgreSQL refusing connections: writes needing it fail UNAVAILABLE with RetryInfo, audit
    appends are still acknowledged (spooled) and reach the log; all recovers, nothing is lost."""
    load = _run_fault(
        cluster,
        "pg",
        lambda: allow_connections(cluster.database_url, False),
        lambda: allow_connections(cluster.database_url, True),
    )
    _assert_failures_were_unavailable_with_retry_info(load)
    assert _failed(load, "config") > 0, "the fault never reached the config writes"
    _assert_acknowledged_writes_are_present(cluster, load)


def test_redis_stopped_under_load(cluster: FaultCluster) -> None:
    """Redis stopped: rate limits fail open, so no write fails; it all recovers and nothing is
    lost."""
    load = _run_fault(cluster, "redis", cluster.redis.stop, cluster.redis.start)
    _assert_failures_were_unavailable_with_retry_info(load)
    assert sum(_failed(load, kind) for kind in KINDS) == 0
    _assert_acknowledged_writes_are_present(cluster, load)


def test_openbao_down_under_load(cluster: FaultCluster) -> None:
    """OpenBao unreachable: secret writes fail UNAVAILABLE with RetryInfo; the others go on; the
    secrets written before and after are all there."""
    load = _run_fault(cluster, "bao", cluster.vault.cut, cluster.vault.restore)
    _assert_failures_were_unavailable_with_retry_info(load)
    assert _failed(load, "secret") > 0, "the fault never reached the secret writes"
    _assert_acknowledged_writes_are_present(cluster, load)


def test_s3_down_under_load(cluster: FaultCluster) -> None:
    """moto_server unreachable: uploads fail UNAVAILABLE with RetryInfo; every acknowledged
    object downloads intact afterwards."""
    load = _run_fault(cluster, "s3", cluster.s3.cut, cluster.s3.restore)
    _assert_failures_were_unavailable_with_retry_info(load)
    assert _failed(load, "storage") > 0, "the fault never reached the uploads"
    _assert_acknowledged_writes_are_present(cluster, load)


def test_smtp_down_under_load(cluster: FaultCluster) -> None:
    """SMTP unreachable: Send is still acknowledged (the outbox holds it) and every acknowledged
    notification is delivered once SMTP is back."""
    load = _run_fault(cluster, "smtp", cluster.smtp.cut, cluster.smtp.restore)
    _assert_failures_were_unavailable_with_retry_info(load)
    assert _failed(load, "notification") == 0
    _assert_acknowledged_writes_are_present(cluster, load)
