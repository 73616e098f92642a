"""Centrum replicas sharing PostgreSQL, Redis, OpenBao, S3 and SMTP, as the cluster and fault
tests run them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path

from centrum.auth.v1 import auth_service_pb2
from centrum.sdk import connect
from centrum.services.audit.log import SqlAuditLog
from centrum.services.audit.verify import VerifyReport, verify_log
from centrum.services.db import create_engine

from ._openbao import OpenBaoTarget
from ._s3 import S3Target
from .centrum import ServeProcess, bootstrap_credentials

__all__ = ["audit_log_state", "bootstrap_token", "cluster_env", "start_replicas"]


def cluster_env(
    *,
    database_url: str,
    redis_url: str,
    openbao: OpenBaoTarget,
    s3: S3Target,
    smtp: str,
    bucket_prefix: str,
    master_key_file: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of replicas sharing these backends (`smtp` is host:port)."""
    return {
        "CENTRUM_DATABASE_URL": database_url,
        "CENTRUM_REDIS_URL": redis_url,
        "CENTRUM_VAULT_ADDR": openbao.addr,
        "CENTRUM_VAULT_TOKEN": openbao.token,
        "CENTRUM_S3_ENDPOINT_URL": s3.endpoint_url,
        "CENTRUM_S3_ACCESS_KEY_ID": s3.access_key,
        "CENTRUM_S3_SECRET_ACCESS_KEY": s3.secret_key,
        "CENTRUM_S3_REGION": s3.region,
        "CENTRUM_S3_BUCKET_PREFIX": bucket_prefix,
        "CENTRUM_SMTP_URL": f"smtp://{smtp}",
        "CENTRUM_MASTER_KEY_FILE": str(master_key_file),
        **(extra or {}),
    }


def start_replicas(
    serve_process: Callable[..., ServeProcess],
    env: Mapping[str, str],
    workdir: Path,
    count: int = 2,
) -> list[ServeProcess]:
    """Starts `count` `centrum serve` replicas one after the other (the first bootstraps the
    admin account), with data directories `workdir/a`, `workdir/b`, ..."""
    return [
        serve_process(env=dict(env), data_dir=workdir / chr(ord("a") + i)) for i in range(count)
    ]


def bootstrap_token(data_dir: Path, target: str) -> str:
    """An access token of the admin account the replica in `data_dir` bootstrapped."""
    fields = bootstrap_credentials(data_dir)
    with connect(target) as client:
        response = client.auth.Token(
            auth_service_pb2.TokenRequest(
                client_id=fields["client_id"], client_secret=fields["client_secret"]
            )
        )
    return str(response.tokens.access_token)


def audit_log_state(database_url: str) -> tuple[VerifyReport, set[str]]:
    """The verification of the shared audit log, end to end, and the event ids it holds.

    Verification reads the log in several steps, so run it while nothing appends.
    """

    async def read() -> tuple[VerifyReport, set[str]]:
        engine = create_engine(database_url)
        try:
            log = SqlAuditLog(engine)
            report = await verify_log(log)
            ids = {event.event_id for event in await log.events(0, limit=1_000_000)}
        finally:
            await engine.dispose()
        return report, ids

    return asyncio.run(read())
