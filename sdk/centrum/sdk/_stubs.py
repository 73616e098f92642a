"""The typed stub of every Centrum service, by the attribute name clients use."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor

from centrum.audit.v1 import audit_service_pb2, audit_service_pb2_grpc
from centrum.auth.v1 import (
    auth_admin_service_pb2,
    auth_admin_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
)
from centrum.config.v1 import (
    config_service_pb2,
    config_service_pb2_grpc,
    flag_service_pb2,
    flag_service_pb2_grpc,
    secret_service_pb2,
    secret_service_pb2_grpc,
)
from centrum.notification.v1 import (
    notification_service_pb2,
    notification_service_pb2_grpc,
    preference_service_pb2,
    preference_service_pb2_grpc,
    template_service_pb2,
    template_service_pb2_grpc,
)
from centrum.storage.v1 import storage_service_pb2, storage_service_pb2_grpc

__all__ = ["SERVICES", "ServiceStubs"]

SERVICES: tuple[descriptor.ServiceDescriptor, ...] = (
    auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"],
    auth_admin_service_pb2.DESCRIPTOR.services_by_name["AuthAdminService"],
    config_service_pb2.DESCRIPTOR.services_by_name["ConfigService"],
    flag_service_pb2.DESCRIPTOR.services_by_name["FlagService"],
    secret_service_pb2.DESCRIPTOR.services_by_name["SecretService"],
    notification_service_pb2.DESCRIPTOR.services_by_name["NotificationService"],
    template_service_pb2.DESCRIPTOR.services_by_name["TemplateService"],
    preference_service_pb2.DESCRIPTOR.services_by_name["PreferenceService"],
    storage_service_pb2.DESCRIPTOR.services_by_name["StorageService"],
    audit_service_pb2.DESCRIPTOR.services_by_name["AuditService"],
)
"""Every Centrum service, for the client's service config."""


class ServiceStubs:
    """One stub per service over one channel (sync or asyncio)."""

    def __init__(self, channel: Any) -> None:
        self.auth = auth_service_pb2_grpc.AuthServiceStub(channel)
        self.auth_admin = auth_admin_service_pb2_grpc.AuthAdminServiceStub(channel)
        self.config = config_service_pb2_grpc.ConfigServiceStub(channel)
        self.flags = flag_service_pb2_grpc.FlagServiceStub(channel)
        self.secrets = secret_service_pb2_grpc.SecretServiceStub(channel)
        self.notifications = notification_service_pb2_grpc.NotificationServiceStub(channel)
        self.templates = template_service_pb2_grpc.TemplateServiceStub(channel)
        self.preferences = preference_service_pb2_grpc.PreferenceServiceStub(channel)
        self.storage = storage_service_pb2_grpc.StorageServiceStub(channel)
        self.audit = audit_service_pb2_grpc.AuditServiceStub(channel)
