"""A local cache of config values kept current by Watch: reads never go to the network.

    async with centrum.sdk.aio.connect(target, token=token) as client:
        async with ConfigCache(client.config, "production", prefix="payments/") as config:
            timeout = config.get("payments/http/timeout", 5.0)

`start()` lists the values once (every page at one revision), then watches from the next
revision. Each change updates the cache in revision order; a broken stream is resumed from the
last revision seen, so nothing is missed or applied twice. When the server's history no longer
reaches back that far (compacted: OUT_OF_RANGE), the cache lists everything again. Depends only
on grpcio and protobuf.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import grpc
import grpc.aio
from google.protobuf import json_format, struct_pb2

from centrum.config.v1 import config_service_pb2 as pb

__all__ = ["ConfigCache"]

_FATAL = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
    }
)


class ConfigCache:
    """The values of one environment (optionally under a prefix), mirrored in memory."""

    def __init__(
        self,
        stub: Any,
        environment: str,
        *,
        prefix: str = "",
        metadata: Sequence[tuple[str, str]] = (),
        reconnect_delay_s: float = 0.5,
    ) -> None:
        """`stub` is an asyncio ConfigService stub (`centrum.sdk.aio.connect(...).config`).

        `metadata` is added to every call (for example the bearer token, when the channel's
        interceptors do not add it to streaming calls).
        """
        self._stub = stub
        self._environment = environment
        self._prefix = prefix
        self._metadata = tuple(metadata)
        self._reconnect_delay_s = reconnect_delay_s
        self._values: dict[str, struct_pb2.Value] = {}
        self._revision = 0
        self._advanced = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self.error: grpc.aio.AioRpcError | None = None
        """The error that stopped the watch for good (bad credential or request), if any."""

    @property
    def revision(self) -> int:
        """The revision up to which the cache reflects every change."""
        return self._revision

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key` as a Python object (number, str, bool, None, list, dict)."""
        value = self._values.get(key)
        return default if value is None else json_format.MessageToDict(value)

    def value(self, key: str) -> struct_pb2.Value | None:
        """The value of `key` as a protobuf Value, or None when absent."""
        return self._values.get(key)

    def snapshot(self) -> Mapping[str, Any]:
        """Every cached key with its value as a Python object."""
        return {key: json_format.MessageToDict(v) for key, v in self._values.items()}

    async def start(self) -> None:
        """Loads every value, then keeps them current in the background."""
        await self._load()
        self._task = asyncio.create_task(self._follow(), name="centrum-config-cache")

    async def _load(self) -> None:
        """Lists every value at one revision and replaces the cache with them."""
        token, revision = "", 0
        values: dict[str, struct_pb2.Value] = {}
        while True:
            page = await self._stub.ListValues(
                pb.ListValuesRequest(
                    environment=self._environment,
                    prefix=self._prefix,
                    revision=revision,
                    page_size=1000,
                    page_token=token,
                ),
                metadata=self._metadata,
            )
            revision = page.revision
            values.update({v.key: v.value for v in page.values})
            token = page.next_page_token
            if not token:
                break
        self._values = values
        async with self._advanced:
            self._revision = revision
            self._advanced.notify_all()

    async def wait_for_revision(self, revision: int, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Returns once the cache reflects `revision` (e.g. the revision of one's own write)."""
        async with asyncio.timeout(timeout):
            async with self._advanced:
                await self._advanced.wait_for(lambda: self._revision >= revision)

    async def close(self) -> None:
        """Stops following changes."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> ConfigCache:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _follow(self) -> None:
        while True:
            request = pb.WatchRequest(
                environment=self._environment, start_revision=self._revision + 1
            )
            if self._prefix:
                request.prefix = self._prefix
            call = self._stub.Watch(request, metadata=self._metadata)
            try:
                async for message in call:
                    await self._apply(message)
            except grpc.aio.AioRpcError as error:
                if error.code() in _FATAL:
                    self.error = error
                    return
                if error.code() == grpc.StatusCode.OUT_OF_RANGE:
                    # The history after our revision was compacted (or the server's is older
                    # than ours): what changed is unknown, so list everything again.
                    call.cancel()
                    with contextlib.suppress(grpc.RpcError):
                        await self._load()
                        continue
            finally:
                call.cancel()
            await asyncio.sleep(self._reconnect_delay_s)

    async def _apply(self, message: pb.WatchResponse) -> None:
        if message.HasField("change"):
            change = message.change
            if change.revision <= self._revision:
                return
            if change.type == pb.CONFIG_CHANGE_TYPE_DELETE:
                self._values.pop(change.key, None)
            else:
                self._values[change.key] = change.value
            revision = change.revision
        else:
            revision = message.progress.revision
        if revision > self._revision:
            async with self._advanced:
                self._revision = revision
                self._advanced.notify_all()
