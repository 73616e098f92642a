"""The gRPC face of the flag service: requests in, `FlagDomain` calls, responses out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import grpc

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.config.v1 import flag_service_pb2_grpc as pb_grpc
from centrum.interceptors.context import current_principal
from centrum.interceptors.errors import InvalidArgument, Unavailable
from centrum.services.db import BackendUnavailable
from centrum.services.flags.domain import FlagDomain
from centrum.services.flags.validation import watch_violations

__all__ = ["FlagServicer"]

P = ParamSpec("P")
R = TypeVar("R")
_RETRY_AFTER_S = 1.0


def _backend_boundary(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Maps an unreachable database to UNAVAILABLE with RetryInfo."""

    @wraps(handler)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await handler(*args, **kwargs)
        except BackendUnavailable as exc:
            raise Unavailable(
                str(exc), reason="BACKEND_UNAVAILABLE", retry_after_s=_RETRY_AFTER_S
            ) from None

    return guarded


class FlagServicer(pb_grpc.FlagServiceServicer):
    """centrum.config.v1.FlagService over a `FlagDomain`; the tenant comes from the credential."""

    def __init__(self, domain: FlagDomain) -> None:
        self._domain = domain

    @_backend_boundary
    async def GetFlag(self, request: pb.GetFlagRequest, context: Any) -> pb.GetFlagResponse:
        """Returns one flag."""
        flag = await self._domain.get_flag(current_principal(), request.environment, request.key)
        return pb.GetFlagResponse(flag=flag)

    @_backend_boundary
    async def ListFlags(self, request: pb.ListFlagsRequest, context: Any) -> pb.ListFlagsResponse:
        """Lists flags in key order."""
        return await self._domain.list_flags(current_principal(), request)

    @_backend_boundary
    async def SetFlag(self, request: pb.SetFlagRequest, context: Any) -> pb.SetFlagResponse:
        """Creates or replaces a flag with compare-and-set."""
        return pb.SetFlagResponse(flag=await self._domain.set_flag(current_principal(), request))

    @_backend_boundary
    async def DeleteFlag(
        self, request: pb.DeleteFlagRequest, context: Any
    ) -> pb.DeleteFlagResponse:
        """Deletes a flag with compare-and-set."""
        revision = await self._domain.delete_flag(current_principal(), request)
        return pb.DeleteFlagResponse(revision=revision)

    @_backend_boundary
    async def EvaluateFlag(
        self, request: pb.EvaluateFlagRequest, context: Any
    ) -> pb.EvaluateFlagResponse:
        """Evaluates one flag."""
        result = await self._domain.evaluate(current_principal(), request)
        return pb.EvaluateFlagResponse(result=result)

    @_backend_boundary
    async def EvaluateFlags(
        self, request: pb.EvaluateFlagsRequest, context: Any
    ) -> pb.EvaluateFlagsResponse:
        """Evaluates several flags against one revision."""
        return await self._domain.evaluate_many(current_principal(), request)

    async def WatchFlags(
        self, request: pb.WatchFlagsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.WatchFlagsResponse]:
        """Streams the flag set, then its changes."""
        violations = watch_violations(request)
        if violations:
            raise InvalidArgument(
                "the request is invalid: "
                + "; ".join(f"{v.field}: {v.description}" for v in violations),
                reason="INVALID_REQUEST",
                field_violations=violations,
            )
        try:
            async for message in self._domain.watch(current_principal(), request):
                yield message
        except BackendUnavailable as exc:
            raise Unavailable(
                str(exc), reason="BACKEND_UNAVAILABLE", retry_after_s=_RETRY_AFTER_S
            ) from None

    @_backend_boundary
    async def SetSegment(
        self, request: pb.SetSegmentRequest, context: Any
    ) -> pb.SetSegmentResponse:
        """Creates or replaces a segment with compare-and-set."""
        segment = await self._domain.set_segment(current_principal(), request)
        return pb.SetSegmentResponse(segment=segment)

    @_backend_boundary
    async def GetSegment(
        self, request: pb.GetSegmentRequest, context: Any
    ) -> pb.GetSegmentResponse:
        """Returns one segment."""
        segment = await self._domain.get_segment(
            current_principal(), request.environment, request.key
        )
        return pb.GetSegmentResponse(segment=segment)

    @_backend_boundary
    async def ListSegments(
        self, request: pb.ListSegmentsRequest, context: Any
    ) -> pb.ListSegmentsResponse:
        """Lists segments in key order."""
        return await self._domain.list_segments(current_principal(), request)

    @_backend_boundary
    async def DeleteSegment(
        self, request: pb.DeleteSegmentRequest, context: Any
    ) -> pb.DeleteSegmentResponse:
        """Deletes an unreferenced segment with compare-and-set."""
        revision = await self._domain.delete_segment(current_principal(), request)
        return pb.DeleteSegmentResponse(revision=revision)
