"""Which gRPC services make up each Centrum service, and how to register a servicer for one."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any

import grpc
from google.protobuf import descriptor

from centrum.audit.v1 import audit_service_pb2
from centrum.auth.v1 import auth_admin_service_pb2, auth_service_pb2
from centrum.config.v1 import config_service_pb2, flag_service_pb2, secret_service_pb2
from centrum.notification.v1 import (
    notification_service_pb2,
    preference_service_pb2,
    template_service_pb2,
)
from centrum.server.settings import ServiceName
from centrum.storage.v1 import storage_service_pb2

__all__ = [
    "SERVICES",
    "WIRING",
    "add_servicer",
    "descriptors_of",
    "generic_only",
    "unimplemented_servicer",
]

SERVICES: dict[ServiceName, tuple[descriptor.ServiceDescriptor, ...]] = {
    "auth": (
        auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"],
        auth_admin_service_pb2.DESCRIPTOR.services_by_name["AuthAdminService"],
    ),
    "config": (
        config_service_pb2.DESCRIPTOR.services_by_name["ConfigService"],
        flag_service_pb2.DESCRIPTOR.services_by_name["FlagService"],
        secret_service_pb2.DESCRIPTOR.services_by_name["SecretService"],
    ),
    "notification": (
        notification_service_pb2.DESCRIPTOR.services_by_name["NotificationService"],
        template_service_pb2.DESCRIPTOR.services_by_name["TemplateService"],
        preference_service_pb2.DESCRIPTOR.services_by_name["PreferenceService"],
    ),
    "storage": (storage_service_pb2.DESCRIPTOR.services_by_name["StorageService"],),
    "audit": (audit_service_pb2.DESCRIPTOR.services_by_name["AuditService"],),
}


WIRING: dict[ServiceName, tuple[str, ...]] = {
    "audit": ("centrum.services.audit.wiring",),
    "auth": ("centrum.services.auth.wiring",),
    "config": (
        "centrum.services.config.wiring",
        "centrum.services.flags.wiring",
    ),
    "notification": ("centrum.services.notification.wiring",),
    "storage": ("centrum.services.storage.wiring",),
}
"""Modules whose `build(context)` builds the servicers of each Centrum service."""


def descriptors_of(names: Iterable[ServiceName]) -> list[descriptor.ServiceDescriptor]:
    """The gRPC service descriptors of the named Centrum services."""
    return [d for name in names for d in SERVICES[name]]


def _grpc_module(service: descriptor.ServiceDescriptor) -> Any:
    return importlib.import_module(
        service.file.name.removesuffix(".proto").replace("/", ".") + "_pb2_grpc"
    )


def unimplemented_servicer(service: descriptor.ServiceDescriptor) -> Any:
    """The generated base servicer, which answers UNIMPLEMENTED to every RPC."""
    return getattr(_grpc_module(service), f"{service.name}Servicer")()


class _GenericOnly:
    """A server as the generated `add_*_to_server` functions see it, minus registered methods.

    grpc.aio's serving loop keeps one pending request per registered method and waits on all of
    them (`asyncio.wait`) for every call it accepts, so each call costs time in proportion to
    the number of registered methods: 20-45 us per call with Centrum's ~60 methods, a tenth of
    what a bare server spends on a call (BENCHMARKS.md). The same handlers served through the
    generic handler alone leave one pending request, whatever the number of methods.
    """

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server

    def add_generic_rpc_handlers(
        self, handlers: Sequence[grpc.GenericRpcHandler[Any, Any]]
    ) -> None:
        """Passes the generic handler (the one that serves every method) to the server."""
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, service: str, handlers: Any) -> None:
        """Ignored: the generic handler already serves these methods."""


def generic_only(server: grpc.aio.Server) -> Any:
    """`server` for a generated `add_*_to_server` function, registering no per-method handlers."""
    return _GenericOnly(server)


def add_servicer(
    server: grpc.aio.Server, service: descriptor.ServiceDescriptor, servicer: Any
) -> None:
    """Registers `servicer` for `service` through the generated `add_*_to_server` function."""
    add = getattr(_grpc_module(service), f"add_{service.name}Servicer_to_server")
    add(servicer, generic_only(server))
