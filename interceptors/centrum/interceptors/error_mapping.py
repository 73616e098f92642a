"""Error mapping and recovery: every way a call can fail becomes one gRPC status.

A `CentrumError` becomes its status with its `google.rpc` details. An abort done by a handler
through `context.abort` keeps the status the handler chose. Cancellation and deadlines are
recorded as such. An exception the server's `translate` function recognises (a backend's own
"busy" or "unreachable" error that reached the chain uncaught) becomes the error it returns,
usually UNAVAILABLE with RetryInfo. Anything else is a bug: the caller gets INTERNAL with an
opaque error id in an `ErrorInfo`, and the stack trace goes only to the server log under that
id.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc
import structlog
from grpc_status import rpc_status

from centrum.interceptors.errors import CentrumError, Internal, Unimplemented

if TYPE_CHECKING:
    from centrum.interceptors.chain import Call

__all__ = ["ErrorMapper", "Translate"]

_log = structlog.get_logger("centrum.errors")


Translate = Callable[[BaseException], CentrumError | None]
"""Maps an exception to the error the caller gets, or None when it is not one it knows."""


def _unknown(_exc: BaseException) -> None:
    return None


class ErrorMapper:
    """Records the outcome of a failed call and sends its status to the caller."""

    def __init__(self, translate: Translate | None = None) -> None:
        """`translate` maps exceptions of the server's backends (see the module docstring)."""
        self._translate = translate or _unknown

    def record(self, call: Call, exc: BaseException) -> None:
        """Notes `exc` as the outcome of `call`; the first failure of a call wins."""
        if call.error is not None:
            return
        call.error = exc
        if isinstance(exc, CentrumError):
            call.code, call.message = exc.code, exc.message
        elif isinstance(exc, grpc.aio.AbortError):
            code = call.context.code()
            call.code = code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
            call.message = call.context.details() or ""
        elif isinstance(exc, NotImplementedError):
            # The generated base servicers raise it for RPCs no servicer implements yet.
            call.error = Unimplemented(
                f"{call.policy.method} is not implemented by this server", reason="UNIMPLEMENTED"
            )
            call.code, call.message = grpc.StatusCode.UNIMPLEMENTED, call.error.message
        elif isinstance(exc, asyncio.CancelledError | GeneratorExit):
            # GeneratorExit: gRPC closed a response stream whose caller went away.
            call.code, call.message = grpc.StatusCode.CANCELLED, "the call was cancelled"
        elif (translated := self._translate(exc)) is not None:
            _log.warning(
                "backend error",
                method=call.policy.method,
                request_id=call.request_id,
                error=exc.__class__.__name__,
                reason=translated.reason,
            )
            call.error = translated
            call.code, call.message = translated.code, translated.message
        else:
            error_id = secrets.token_hex(8)
            _log.error(
                "unexpected error",
                method=call.policy.method,
                request_id=call.request_id,
                error_id=error_id,
                exc_info=exc,
            )
            call.error = Internal(
                "internal error; quote the error id to the operator",
                reason="INTERNAL",
                info={"error_id": error_id},
            )
            call.code, call.message = grpc.StatusCode.INTERNAL, call.error.message

    async def conclude(self, call: Call) -> None:
        """Ends the call: sets trailing metadata on success, or aborts with the mapped status.

        Cancellation (a closed response stream too) and handler aborts are re-raised as they
        came, since gRPC already knows how the call ended.
        """
        error = call.error
        if error is None:
            if call.trailing_metadata:
                call.context.set_trailing_metadata(tuple(call.trailing_metadata))
            return
        if isinstance(error, asyncio.CancelledError | GeneratorExit | grpc.aio.AbortError):
            raise error
        assert isinstance(error, CentrumError)
        status = rpc_status.to_status(error.to_status())
        trailing = (*call.trailing_metadata, *error.trailing_metadata, *status.trailing_metadata)
        await call.context.abort(status.code, status.details, trailing_metadata=trailing)
