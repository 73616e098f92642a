"""The in-process flag client: WatchFlags keeps a local flag set current, reads never leave memory.

    async with centrum.sdk.aio.connect(target, token=token) as conn:
        async with FlagClient(conn.flags, "production") as flags:
            await flags.wait_ready(within_s=5)
            if flags.get_bool("checkout.new-flow", False, EvaluationContext("user-42")):
                ...

Evaluation is synchronous and runs the same module as the server's EvaluateFlag. The watch
reconnects on its own, resuming from the revision held, so a restart of the server or a network
blip costs no flag change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import grpc
import grpc.aio

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags.evaluation import (
    EMPTY_CONTEXT,
    Evaluation,
    EvaluationContext,
    FlagSet,
)

__all__ = ["FlagClient"]

_FATAL = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


class FlagClient:
    """Evaluates the flags of one environment locally, kept current by a WatchFlags stream."""

    def __init__(
        self,
        stub: Any,
        environment: str,
        *,
        metadata: Sequence[tuple[str, str]] = (),
        retry_initial_s: float = 0.1,
        retry_max_s: float = 5.0,
    ) -> None:
        """`stub` is a `FlagServiceStub` on a grpc.aio channel (`AsyncClient.flags`)."""
        self.environment = environment
        self._stub = stub
        self._metadata = tuple(metadata)
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._flags = FlagSet(environment)
        self._loaded = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[int], None]] = []
        self.last_error: grpc.aio.AioRpcError | None = None
        """The last error of the watch stream, if any (cleared by the next message)."""
        self._not_ready = Evaluation(
            flag_key="",
            value=None,
            variant="",
            variant_type=pb.VARIANT_TYPE_UNSPECIFIED,
            reason=pb.EVALUATION_REASON_ERROR,
            error_code=pb.EVALUATION_ERROR_CODE_GENERAL,
            error_message="the flag set has not been received yet",
        )

    @property
    def ready(self) -> bool:
        """Whether a flag set has been received."""
        return self._loaded

    @property
    def revision(self) -> int:
        """The flag-store revision of the flag set held."""
        return self._flags.revision

    @property
    def flag_set(self) -> FlagSet:
        """The flag set held (read it, do not change it)."""
        return self._flags

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Calls `listener(revision)` after each snapshot or change is applied."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Starts the watch in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name=f"flags-watch-{self.environment}")

    async def wait_ready(self, within_s: float | None = None) -> None:
        """Waits until the first flag set arrived; TimeoutError after `within_s` seconds."""
        await asyncio.wait_for(self._ready.wait(), within_s)

    async def wait_for_revision(self, revision: int, within_s: float | None = None) -> None:
        """Waits until the flag set held has reached `revision`; TimeoutError after `within_s`."""
        changed = asyncio.Event()

        def listener(_revision: int) -> None:
            changed.set()

        async def reached() -> None:
            while True:
                changed.clear()
                if self._loaded and self._flags.revision >= revision:
                    return
                await changed.wait()

        self._listeners.append(listener)
        try:
            await asyncio.wait_for(reached(), within_s)
        finally:
            self._listeners.remove(listener)

    async def close(self) -> None:
        """Stops the watch."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> FlagClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def evaluate(
        self,
        flag_key: str,
        context: EvaluationContext | None = None,
        expected_type: int = pb.VARIANT_TYPE_UNSPECIFIED,
    ) -> Evaluation:
        """Evaluates a flag locally; before the first flag set arrives the reason is ERROR."""
        if not self._loaded:
            return self._not_ready
        return self._flags.evaluate(flag_key, context or EMPTY_CONTEXT, expected_type)

    def _value(
        self, flag_key: str, default: Any, context: EvaluationContext | None, expected: int
    ) -> Any:
        value = self.evaluate(flag_key, context, expected).value
        return default if value is None else value

    def get_bool(
        self, flag_key: str, default: bool, context: EvaluationContext | None = None
    ) -> bool:
        """The flag's bool value, or `default` when none is served."""
        return bool(self._value(flag_key, default, context, pb.VARIANT_TYPE_BOOL))

    def get_string(
        self, flag_key: str, default: str, context: EvaluationContext | None = None
    ) -> str:
        """The flag's string value, or `default` when none is served."""
        return str(self._value(flag_key, default, context, pb.VARIANT_TYPE_STRING))

    def get_number(
        self, flag_key: str, default: float, context: EvaluationContext | None = None
    ) -> float:
        """The flag's number value, or `default` when none is served."""
        return float(self._value(flag_key, default, context, pb.VARIANT_TYPE_NUMBER))

    def get_object(
        self, flag_key: str, default: Any, context: EvaluationContext | None = None
    ) -> Any:
        """The flag's JSON value (dict or list), or `default` when none is served."""
        return self._value(flag_key, default, context, pb.VARIANT_TYPE_OBJECT)

    async def _watch(self) -> None:
        delay = self._retry_initial_s
        while True:
            request = pb.WatchFlagsRequest(
                environment=self.environment,
                resume_revision=self._flags.revision if self._loaded else 0,
            )
            try:
                async for message in self._stub.WatchFlags(request, metadata=self._metadata):
                    delay = self._retry_initial_s
                    self.last_error = None
                    self._receive(message)
            except grpc.aio.AioRpcError as exc:
                self.last_error = exc
                if exc.code() in _FATAL:
                    delay = self._retry_max_s
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)

    def _receive(self, message: pb.WatchFlagsResponse) -> None:
        which = message.WhichOneof("event")
        if which == "snapshot":
            self._flags.replace(message.snapshot)
            self._loaded = True
            self._ready.set()
        elif which == "change":
            self._flags.apply(message.change)
        else:
            return
        for listener in list(self._listeners):
            listener(self._flags.revision)
