"""ConfigService.Watch: replay then live, in order, exactly once; across restarts and replicas."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from google.protobuf import duration_pb2
from test_config_values import CONFIG_SCOPES, connect, number

from centrum.config.v1 import config_service_pb2 as pb
from centrum.sdk.config import ConfigCache
from centrum.server import CentrumApp
from centrum.services.config.fanout import LocalAnnouncer
from centrum.services.config.values import Change, KeyFilter, ValueStore
from centrum.services.config.watch import ChangeHub, Progress, watch
from centrum.services.db import create_engine, migrate
from harness.backends import RedisTarget, async_wait_for
from harness.centrum import StartCentrum
from harness.tokens import TokenMint


class Watcher:
    """A Watch stream read in the background into `messages`."""

    def __init__(self, app: CentrumApp, token: str, request: pb.WatchRequest) -> None:
        self.messages: list[pb.WatchResponse] = []
        self._client = connect(app, token)
        self._call = self._client.config.Watch(request)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(grpc.RpcError, asyncio.CancelledError):
            async for message in self._call:
                self.messages.append(message)

    @property
    def changes(self) -> list[pb.ConfigChange]:
        """The change events received so far."""
        return [m.change for m in self.messages if m.WhichOneof("event") == "change"]

    async def wait_changes(self, count: int, what: str = "changes") -> list[pb.ConfigChange]:
        """Polls until `count` changes arrived (deadline 15 s) and returns them."""
        await async_wait_for(lambda: len(self.changes) >= count, 15, f"{count} {what}")
        return self.changes

    async def close(self) -> None:
        """Cancels the stream."""
        self._call.cancel()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._client.close()


@contextlib.asynccontextmanager
async def watching(app: CentrumApp, token: str, request: pb.WatchRequest) -> AsyncIterator[Watcher]:
    """A running Watcher, closed on exit."""
    watcher = Watcher(app, token, request)
    try:
        await async_wait_for(lambda: bool(watcher.messages), 15, "the first progress event")
        yield watcher
    finally:
        await watcher.close()


async def _put(app: CentrumApp, token: str, key: str, value: float, env: str = "e") -> int:
    async with connect(app, token) as client:
        response = await client.config.SetValue(
            pb.SetValueRequest(environment=env, key=key, value=number(value))
        )
    return int(response.value.revision)


async def test_watch_replays_from_a_revision_then_streams_live(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A progress event first, then the stored changes from start_revision, then live ones."""
    app = await start_centrum()
    token = token_mint.token(scopes=CONFIG_SCOPES)
    revisions = [await _put(app, token, "k", i) for i in range(3)]
    request = pb.WatchRequest(environment="e", key="k", start_revision=revisions[1])
    async with watching(app, token, request) as watcher:
        assert watcher.messages[0].progress.revision == revisions[1] - 1
        revisions.append(await _put(app, token, "k", 3))
        async with connect(app, token) as client:
            deleted = await client.config.DeleteValue(
                pb.DeleteValueRequest(environment="e", key="k")
            )
        changes = await watcher.wait_changes(4)
    assert [c.revision for c in changes] == [*revisions[1:], deleted.revision]
    assert [c.value.number_value for c in changes[:3]] == [1, 2, 3]
    assert changes[-1].type == pb.CONFIG_CHANGE_TYPE_DELETE


async def test_watch_filters_by_prefix_and_tenant(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A prefix watch sees only its keys of its tenant and environment."""
    app = await start_centrum()
    token = token_mint.token(scopes=CONFIG_SCOPES)
    other = token_mint.token(tenant="other", scopes=CONFIG_SCOPES)
    request = pb.WatchRequest(environment="e", prefix="pay/")
    async with watching(app, token, request) as watcher:
        await _put(app, token, "ship/x", 1)
        await _put(app, other, "pay/x", 1)
        await _put(app, token, "pay/x", 1, env="staging")
        wanted = await _put(app, token, "pay/y", 1)
        changes = await watcher.wait_changes(1)
    assert [c.revision for c in changes] == [wanted]


async def test_watch_sends_progress_while_idle(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """An idle watch reports progress at the requested interval, up to the latest revision."""
    app = await start_centrum()
    token = token_mint.token(scopes=CONFIG_SCOPES)
    unrelated = await _put(app, token, "elsewhere", 1)
    request = pb.WatchRequest(
        environment="e", key="quiet", progress_interval=duration_pb2.Duration(seconds=1)
    )
    async with watching(app, token, request) as watcher:
        await async_wait_for(lambda: len(watcher.messages) >= 2, 15, "a second progress event")
    assert all(m.WhichOneof("event") == "progress" for m in watcher.messages)
    assert watcher.messages[-1].progress.revision >= unrelated


async def test_watch_resumes_across_a_server_restart(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str, tmp_path: Path
) -> None:
    """Resuming at last revision + 1 on a new server misses nothing and repeats nothing."""
    token = token_mint.token(tenant="restart", scopes=CONFIG_SCOPES)
    first = await start_centrum(database_url=postgres_url, data_dir=tmp_path / "a")
    written = [await _put(first, token, "svc/k", i) for i in range(3)]
    request = pb.WatchRequest(environment="e", prefix="svc/", start_revision=written[0])
    async with watching(first, token, request) as watcher:
        seen = [c.revision for c in await watcher.wait_changes(3)]
    await first.stop(grace_s=0)

    second = await start_centrum(database_url=postgres_url, data_dir=tmp_path / "b")
    written += [await _put(second, token, "svc/k", i) for i in range(3, 5)]
    resume = pb.WatchRequest(environment="e", prefix="svc/", start_revision=seen[-1] + 1)
    async with watching(second, token, resume) as watcher:
        written.append(await _put(second, token, "svc/other", 5))
        seen += [c.revision for c in await watcher.wait_changes(3)]
    assert seen == written


async def test_a_write_on_one_replica_reaches_a_watcher_on_another(
    start_centrum: StartCentrum,
    token_mint: TokenMint,
    postgres_url: str,
    redis_url: RedisTarget,
    tmp_path: Path,
) -> None:
    """Replica B (polling only every 60 s) learns of A's write through Redis pub/sub."""
    shared = {"database_url": postgres_url, "redis_url": redis_url.url}
    replica_a = await start_centrum(**shared, data_dir=tmp_path / "a")
    replica_b = await start_centrum(
        **shared, data_dir=tmp_path / "b", config={"watch_poll_interval_s": 60}
    )
    token = token_mint.token(tenant="replicas", scopes=CONFIG_SCOPES)
    async with watching(replica_b, token, pb.WatchRequest(environment="e")) as watcher:
        revision = await _put(replica_a, token, "from/a", 7)
        changes = await watcher.wait_changes(1)
    assert [(c.key, c.revision) for c in changes] == [("from/a", revision)]


async def test_a_lagging_watcher_catches_up_from_the_database(tmp_path: Path) -> None:
    """A watcher whose buffer overflows gets every change once, in order, from the database."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    store = ValueStore(engine)
    hub = ChangeHub(store, LocalAnnouncer(), poll_interval_s=0.05, capacity=2)
    await hub.start()
    where = KeyFilter("t", "e", prefix="")
    try:
        stream = watch(hub, store, where, 0, 60)
        assert isinstance(await anext(stream), Progress)
        written = []
        for i in range(10):
            result = await store.put(KeyFilter("t", "e", f"k{i}"), b"", actor="a")
            written.append(result.change.revision)
        await async_wait_for(lambda: hub.position == written[-1], 15, "the hub to read")
        received: list[int] = []
        while len(received) < len(written):
            item = await anext(stream)
            assert isinstance(item, Change)
            received.append(item.revision)
        await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await hub.stop()
        await engine.dispose()
    assert received == written


async def test_sdk_cache_serves_reads_locally_and_follows_changes(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """The SDK cache loads every value, then applies puts and deletes from Watch."""
    app = await start_centrum()
    token = token_mint.token(scopes=CONFIG_SCOPES)
    await _put(app, token, "app/a", 1)
    await _put(app, token, "other", 1)
    async with (
        connect(app, token) as client,
        ConfigCache(client.config, "e", prefix="app/") as cache,
    ):
        assert cache.snapshot() == {"app/a": 1}
        revision = await _put(app, token, "app/b", 2)
        await cache.wait_for_revision(revision, timeout=15)
        assert cache.get("app/b") == 2
        deleted = await client.config.DeleteValue(
            pb.DeleteValueRequest(environment="e", key="app/a")
        )
        await cache.wait_for_revision(deleted.revision, timeout=15)
        assert cache.get("app/a", "gone") == "gone" and cache.error is None
