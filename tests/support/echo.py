"""The test-only EchoService: compiled from tests/proto at test time, served beside Centrum."""

from __future__ import annotations

import asyncio
import functools
import importlib
import pathlib
import sys
import tempfile
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import grpc
import grpc_tools
from grpc_tools import protoc
from sqlalchemy.exc import TimeoutError as PoolTimeout

from centrum.interceptors.chain import ServicerContext
from centrum.interceptors.context import current_principal
from centrum.interceptors.errors import FieldViolation, InvalidArgument, NotFound

ROOT = pathlib.Path(__file__).resolve().parents[2]


@functools.cache
def modules() -> tuple[ModuleType, ModuleType]:
    """Compiles echo_service.proto once per process; returns (pb2, pb2_grpc)."""
    out = pathlib.Path(tempfile.mkdtemp(prefix="centrum-test-proto-"))
    status = protoc.main(
        [
            "protoc",
            f"-I{ROOT / 'proto'}",
            f"-I{ROOT / 'tests' / 'proto'}",
            f"-I{pathlib.Path(grpc_tools.__file__).parent / '_proto'}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            "centrum_test/v1/echo_service.proto",
        ]
    )
    assert status == 0, "compiling tests/proto/centrum_test/v1/echo_service.proto failed"
    sys.path.insert(0, str(out))
    return (
        importlib.import_module("centrum_test.v1.echo_service_pb2"),
        importlib.import_module("centrum_test.v1.echo_service_pb2_grpc"),
    )


def descriptor() -> Any:
    """The EchoService descriptor."""
    pb2, _ = modules()
    return pb2.DESCRIPTOR.services_by_name["EchoService"]


class EchoServicer:
    """Implements every RPC shape; reads the principal from the chain's contextvar."""

    def __init__(self) -> None:
        self.pb2, _ = modules()
        self.stream_started = asyncio.Event()

    async def Echo(self, request: Any, context: ServicerContext) -> Any:
        principal = current_principal()
        return self.pb2.EchoResponse(
            message=request.message, subject=principal.subject, tenant=principal.tenant
        )

    async def PublicEcho(self, request: Any, context: ServicerContext) -> Any:
        return self.pb2.PublicEchoResponse(message=request.message)

    async def ServerStream(self, request: Any, context: ServicerContext) -> AsyncIterator[Any]:
        for index in range(request.count):
            self.stream_started.set()
            if request.delay_ms:
                await asyncio.sleep(request.delay_ms / 1000)
            yield self.pb2.ServerStreamResponse(index=index)

    async def ClientStream(self, requests: AsyncIterator[Any], context: ServicerContext) -> Any:
        parts = [request.message async for request in requests]
        return self.pb2.ClientStreamResponse(joined=" ".join(parts))

    async def BidiStream(
        self, requests: AsyncIterator[Any], context: ServicerContext
    ) -> AsyncIterator[Any]:
        async for request in requests:
            yield self.pb2.BidiStreamResponse(message=request.message.upper())

    async def Fail(self, request: Any, context: ServicerContext) -> Any:
        if request.kind == "invalid":
            raise InvalidArgument(
                "kind is bad", reason="BAD_KIND", field_violations=[FieldViolation("kind", "bad")]
            )
        if request.kind == "not_found":
            raise NotFound("no such thing", resource=("thing", "t1"))
        if request.kind == "abort":
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "aborted by handler")
        if request.kind == "pool_timeout":
            raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")
        raise RuntimeError("secret-internal-detail")
