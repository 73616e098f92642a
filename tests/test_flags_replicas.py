"""Two replicas sharing PostgreSQL and Redis: a flag written on A reaches watchers on B."""

from __future__ import annotations

import asyncio

from test_flags_evaluation import bool_flag
from test_flags_service import SCOPES

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk import aio
from centrum.sdk.flags import EvaluationContext, FlagClient
from harness.backends import RedisTarget
from harness.centrum import StartCentrum, bearer
from harness.tokens import TokenMint

ENV = "replicated"


async def test_watch_on_replica_b_sees_a_write_on_replica_a(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str, redis_url: RedisTarget
) -> None:
    """WatchFlags and an SDK FlagClient on B receive a SetFlag made on A, in order."""
    shared = {"database_url": postgres_url, "redis_url": redis_url.url}
    replica_a = await start_centrum(**shared)
    replica_b = await start_centrum(**shared)
    token = token_mint.token(tenant="replicas", scopes=SCOPES)
    async with (
        aio.connect(f"127.0.0.1:{replica_a.port}", token=token) as on_a,
        aio.connect(f"127.0.0.1:{replica_b.port}", token=token) as on_b,
    ):
        request = pb.WatchFlagsRequest(environment=ENV)
        request.progress_interval.FromSeconds(300)  # only pub/sub can wake this watcher in time
        stream = on_b.flags.WatchFlags(request, metadata=bearer(token))
        assert (await asyncio.wait_for(stream.read(), 10)).snapshot.revision == 0
        async with FlagClient(on_b.flags, ENV, metadata=bearer(token)) as local:
            await local.wait_ready(within_s=10)
            written = (
                await on_a.flags.SetFlag(
                    pb.SetFlagRequest(environment=ENV, key="shared", flag=bool_flag("shared"))
                )
            ).flag
            change = (await asyncio.wait_for(stream.read(), 10)).change
            assert (change.key, change.revision, change.flag.version) == ("shared", 1, 1)
            await local.wait_for_revision(written.revision, within_s=10)
            assert local.evaluate("shared", EvaluationContext("u")).reason == (
                pb.EVALUATION_REASON_STATIC
            )
        stream.cancel()
