"""Config history compaction: each key keeps its last N revisions; older reads are OUT_OF_RANGE.

Reads and watches that need a removed revision fail with OUT_OF_RANGE and an ErrorInfo
(reason REVISION_COMPACTED, action relist), like etcd's ErrCompacted; the SDK cache then lists
again. Keys whose history is whole are unaffected by another key's compaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
from test_config_values import CONFIG_SCOPES, connect, number

from centrum.config.v1 import config_service_pb2 as pb
from centrum.sdk.config import ConfigCache
from centrum.sdk.errors import CentrumError, from_rpc_error
from centrum.services.config.values import KeyFilter, ValueStore
from centrum.services.db import create_engine, migrate
from harness.backends import async_wait_for
from harness.centrum import StartCentrum
from harness.tokens import TokenMint

KEEP = 3


async def _failure(call: Any) -> CentrumError:
    """The error a unary call or a whole stream ends with, parsed by the SDK."""
    with pytest.raises(grpc.RpcError) as failure:
        await call
    error = failure.value
    return error if isinstance(error, CentrumError) else from_rpc_error(error)


def _assert_compacted(error: CentrumError) -> Mapping[str, str]:
    assert error.code() == grpc.StatusCode.OUT_OF_RANGE
    assert error.reason == "REVISION_COMPACTED" and error.domain == "centrum.dev"
    assert error.metadata["action"] == "relist"
    assert "list the values again" in error.details()
    return error.metadata


async def _writes(client: Any, key: str, count: int) -> list[int]:
    """Writes `key` (environment "e") `count` times; the revisions written."""
    return [
        (
            await client.config.SetValue(
                pb.SetValueRequest(environment="e", key=key, value=number(i))
            )
        ).value.revision
        for i in range(count)
    ]


async def _watch_all(call: Any) -> list[pb.WatchResponse]:
    return [message async for message in call]


async def _changes(call: Any, count: int) -> list[int]:
    """The revisions of the first `count` change events of a Watch call, then cancels it."""
    revisions: list[int] = []
    async for message in call:
        if message.HasField("change"):
            revisions.append(message.change.revision)
            if len(revisions) == count:
                call.cancel()
                break
    return revisions


async def test_each_key_keeps_its_last_revisions(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Writing a key more than N times leaves its N newest revisions; other keys keep theirs."""
    app = await start_centrum(config={"history_revisions_per_key": KEEP})
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        other = await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="other", value=number(0))
        )
        written = await _writes(client, "hot", KEEP + 3)
        history = await client.config.GetHistory(pb.GetHistoryRequest(environment="e", key="hot"))
        kept = await client.config.GetValue(
            pb.GetValueRequest(environment="e", key="hot", revision=written[-KEEP])
        )
        old = await _failure(
            client.config.GetValue(
                pb.GetValueRequest(environment="e", key="hot", revision=written[0])
            )
        )
        untouched = await client.config.GetHistory(
            pb.GetHistoryRequest(environment="e", key="other")
        )
        latest = await client.config.GetValue(pb.GetValueRequest(environment="e", key="hot"))
    assert [c.revision for c in history.changes] == written[::-1][:KEEP]
    assert kept.value.value.number_value == KEEP  # the value written at that revision
    assert _assert_compacted(old)["compacted_revision"] == str(written[-KEEP - 1])
    assert [c.revision for c in untouched.changes] == [other.value.revision]
    assert latest.value.version == KEEP + 3  # versions keep counting across compaction


async def test_watch_from_a_compacted_revision_is_out_of_range(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """Watch resuming below a key's kept history fails; from inside it, it replays in full."""
    app = await start_centrum(config={"history_revisions_per_key": KEEP})
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        first = await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="app/cold", value=number(0))
        )
        written = await _writes(client, "app/hot", KEEP + 2)
        for request in (
            pb.WatchRequest(environment="e", key="app/hot", start_revision=written[0]),
            pb.WatchRequest(environment="e", prefix="app/", start_revision=first.value.revision),
        ):
            error = await _failure(_watch_all(client.config.Watch(request)))
            assert int(_assert_compacted(error)["compacted_revision"]) >= written[0]
        # The cold key lost nothing: watching it from its first revision replays it.
        cold = await _changes(
            client.config.Watch(
                pb.WatchRequest(
                    environment="e", key="app/cold", start_revision=first.value.revision
                )
            ),
            1,
        )
        hot = await _changes(
            client.config.Watch(
                pb.WatchRequest(environment="e", key="app/hot", start_revision=written[-KEEP])
            ),
            KEEP,
        )
    assert cold == [first.value.revision]
    assert hot == written[-KEEP:]


async def test_list_values_at_a_compacted_revision_is_out_of_range(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """ListValues at a revision whose state compaction removed fails; at a kept one it lists."""
    app = await start_centrum(config={"history_revisions_per_key": 1})
    async with connect(app, token_mint.token(scopes=CONFIG_SCOPES)) as client:
        first = await client.config.SetValue(
            pb.SetValueRequest(environment="e", key="a", value=number(1))
        )
        await client.config.SetValue(pb.SetValueRequest(environment="e", key="a", value=number(2)))
        error = await _failure(
            client.config.ListValues(
                pb.ListValuesRequest(environment="e", revision=first.value.revision)
            )
        )
        head = await client.config.ListValues(pb.ListValuesRequest(environment="e"))
    _assert_compacted(error)
    assert [(v.key, v.value.number_value) for v in head.values] == [("a", 2)]


async def test_sdk_cache_lists_again_when_its_revision_was_compacted(
    start_centrum: StartCentrum, token_mint: TokenMint, postgres_url: str, tmp_path: Path
) -> None:
    """A replica's hub notices rows removed before it read them; the SDK cache re-lists."""
    shared: dict[str, Any] = {"database_url": postgres_url}
    # Replica A learns of B's writes only when its own hub wakes (no Redis, a slow poll).
    replica_a = await start_centrum(
        **shared,
        data_dir=tmp_path / "a",
        config={"history_revisions_per_key": 2, "watch_poll_interval_s": 60},
    )
    replica_b = await start_centrum(
        **shared, data_dir=tmp_path / "b", config={"history_revisions_per_key": 2}
    )
    token = token_mint.token(tenant="compaction", scopes=CONFIG_SCOPES)
    async with (
        connect(replica_a, token) as client_a,
        connect(replica_b, token) as client_b,
    ):
        await client_a.config.SetValue(
            pb.SetValueRequest(environment="e", key="app/k", value=number(0))
        )
        watch = asyncio.create_task(
            _failure(_watch_all(client_a.config.Watch(pb.WatchRequest(environment="e"))))
        )
        async with ConfigCache(client_a.config, "e", prefix="app/") as cache:
            for i in range(1, 6):
                await client_b.config.SetValue(
                    pb.SetValueRequest(environment="e", key="app/k", value=number(i))
                )
            woken = await client_a.config.SetValue(
                pb.SetValueRequest(environment="e", key="app/z", value=number(9))
            )
            await cache.wait_for_revision(woken.value.revision, timeout=15)
            await async_wait_for(lambda: cache.get("app/z") == 9, 15, "the re-listed cache")
            assert cache.snapshot() == {"app/k": 5, "app/z": 9} and cache.error is None
        # A plain watcher is told, instead of silently missing the removed revisions.
        _assert_compacted(await asyncio.wait_for(watch, 15))


async def test_the_global_watermark_never_goes_back(tmp_path: Path) -> None:
    """A later write cutting an older revision of another key keeps the hub's watermark up."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    store = ValueStore(engine, keep_revisions=1)
    try:
        cold = await store.put(KeyFilter("t", "e", "cold"), b"", actor="a")
        hot = [await store.put(KeyFilter("t", "e", "hot"), b"", actor="a") for _ in range(3)]
        _, after_hot = await store.changes_for_hub(0, 10)
        await store.put(KeyFilter("t", "e", "cold"), b"", actor="a")  # cuts the oldest row
        kept, after_cold = await store.changes_for_hub(0, 10)
        cut_cold = await store.compacted(KeyFilter("t", "e", "cold"))
    finally:
        await engine.dispose()
    assert after_hot == after_cold == hot[1].change.revision
    assert cut_cold == cold.change.revision
    assert [c.key for c in kept] == ["hot", "cold"]
