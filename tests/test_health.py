"""Health per service follows its backends: NOT_SERVING while one is down, SERVING after."""

from __future__ import annotations

import asyncio
import time

from grpc_health.v1 import health_pb2, health_pb2_grpc

from harness.backends import PrivateRedisFactory
from harness.centrum import StartCentrum, channel

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _wait_for_status(stub: health_pb2_grpc.HealthStub, service: str, want: int) -> None:
    deadline = time.monotonic() + 15
    last = None
    while time.monotonic() < deadline:
        last = (await stub.Check(health_pb2.HealthCheckRequest(service=service))).status
        if last == want:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{service or 'overall'} stayed {last}, wanted {want}")


async def test_health_follows_redis(
    start_centrum: StartCentrum, private_redis: PrivateRedisFactory
) -> None:
    """Stopping the shared Redis flips every service to NOT_SERVING; restarting it recovers."""
    redis = private_redis()
    app = await start_centrum(redis_url=redis.url)
    async with channel(app) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        await _wait_for_status(stub, "centrum.config.v1.ConfigService", SERVING)
        redis.stop()
        await _wait_for_status(stub, "centrum.config.v1.ConfigService", NOT_SERVING)
        await _wait_for_status(stub, "", NOT_SERVING)
        redis.start()
        await _wait_for_status(stub, "centrum.config.v1.ConfigService", SERVING)
        await _wait_for_status(stub, "", SERVING)


async def test_health_follows_postgres(start_centrum: StartCentrum, postgres_url: str) -> None:
    """A database refusing connections makes services NOT_SERVING until it accepts again."""
    import psycopg

    from harness.backends import libpq_url

    app = await start_centrum(database_url=postgres_url)
    dbname = postgres_url.rsplit("/", 1)[1]
    admin = libpq_url(postgres_url).rsplit("/", 1)[0] + "/postgres"
    async with channel(app) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        await _wait_for_status(stub, "centrum.audit.v1.AuditService", SERVING)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
        try:
            await _wait_for_status(stub, "centrum.audit.v1.AuditService", NOT_SERVING)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true')
        await _wait_for_status(stub, "centrum.audit.v1.AuditService", SERVING)
