"""Server reflection that also resolves method names, so `grpcurl describe Svc.Method` works.

grpcio-reflection asks the descriptor pool for the file of a symbol; the pool knows services and
messages but not methods, so a method name falls back to its service's file here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import _base, reflection_pb2_grpc

from centrum.server.catalog import generic_only

__all__ = ["SERVICE_NAME", "enable_reflection"]

SERVICE_NAME = "grpc.reflection.v1alpha.ServerReflection"


class _MethodAwareReflection(reflection_aio.ReflectionServicer):  # type: ignore[misc]
    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        pool = self._pool
        try:
            pool.FindFileContainingSymbol(fully_qualified_name)
        except KeyError:
            service_name, _, method_name = fully_qualified_name.rpartition(".")
            try:
                service = pool.FindServiceByName(service_name)
            except KeyError:
                return _base._not_found_error(request)
            if method_name not in service.methods_by_name:
                return _base._not_found_error(request)
            return _base._file_descriptor_response(service.file, request)
        return super()._file_containing_symbol(request, fully_qualified_name)


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Registers the reflection service for `service_names` (itself included)."""
    servicer = _MethodAwareReflection(
        [*service_names, SERVICE_NAME], pool=descriptor_pool.Default()
    )
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, generic_only(server))
