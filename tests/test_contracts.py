"""The contracts: every RPC declares its policy, every secret-bearing field its sensitivity."""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import descriptor

from centrum.interceptors.policy import PolicyRegistry, policy_of
from centrum.policy.v1 import policy_pb2
from centrum.server.catalog import SERVICES, descriptors_of
from centrum.server.settings import ALL_SERVICES

_SECRET_NAMES = re.compile(
    r"(password|secret|private_key|refresh_token|access_token|client_secret)$"
)
# RPCs a caller may use with any valid credential (a token must be able to end itself).
_ANY_CREDENTIAL = {"centrum.auth.v1.AuthService.Logout", "centrum.auth.v1.AuthService.RevokeToken"}


def _all_methods() -> list[descriptor.MethodDescriptor]:
    return [m for service in descriptors_of(ALL_SERVICES) for m in service.methods]


def test_every_rpc_declares_a_complete_policy() -> None:
    """Each RPC has a method policy with a rate limit, and scopes unless it is public."""
    problems = []
    for method in _all_methods():
        policy = policy_of(method)
        if policy is None:
            problems.append(f"{method.full_name}: no policy")
            continue
        options: Any = method.GetOptions()
        declared = options.Extensions[policy_pb2.method]
        if not declared.rate_limit.bucket or not declared.rate_limit.per_minute:
            problems.append(f"{method.full_name}: rate limit without bucket or per_minute")
        if not policy.public and not policy.scopes and method.full_name not in _ANY_CREDENTIAL:
            problems.append(f"{method.full_name}: neither public nor scoped")
    assert problems == []


def test_registry_refuses_a_service_without_policies() -> None:
    """A service whose RPC lacks a policy stops the server from starting."""
    health = descriptor_pool_health()
    try:
        PolicyRegistry.from_services([health])
    except RuntimeError as exc:
        assert "grpc.health.v1.Health.Check" in str(exc)
    else:
        raise AssertionError("a service without policies was accepted")


def descriptor_pool_health() -> descriptor.ServiceDescriptor:
    from grpc_health.v1 import health_pb2

    service: descriptor.ServiceDescriptor = health_pb2.DESCRIPTOR.services_by_name["Health"]
    return service


def test_secret_bearing_fields_are_marked_secret() -> None:
    """Fields named like credentials carry SENSITIVITY_SECRET in every message of the contracts."""
    unmarked = []
    seen: set[str] = set()

    def walk(message: descriptor.Descriptor) -> None:
        if message.full_name in seen or not message.full_name.startswith("centrum."):
            return
        seen.add(message.full_name)
        for field in message.fields:
            if _SECRET_NAMES.search(field.name):
                field_options: Any = field.GetOptions()
                level = field_options.Extensions[policy_pb2.sensitivity]
                if level != policy_pb2.SENSITIVITY_SECRET:
                    unmarked.append(f"{message.full_name}.{field.name}")
            if field.message_type is not None:
                walk(field.message_type)

    for method in _all_methods():
        walk(method.input_type)
        walk(method.output_type)
    assert unmarked == []


def test_every_service_of_the_architecture_is_in_the_catalog() -> None:
    """The seven public service names operators type into grpcurl all exist."""
    names = {d.full_name for group in SERVICES.values() for d in group}
    assert {
        "centrum.auth.v1.AuthService",
        "centrum.config.v1.ConfigService",
        "centrum.config.v1.FlagService",
        "centrum.config.v1.SecretService",
        "centrum.notification.v1.NotificationService",
        "centrum.storage.v1.StorageService",
        "centrum.audit.v1.AuditService",
    } <= names
