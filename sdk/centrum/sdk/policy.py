"""Client defaults from the contract: deadlines, retries and keepalive as a gRPC service config.

Every RPC's `centrum.policy.v1.method` option says whether it is idempotent and what deadline it
wants. Idempotent RPCs wait for the channel to be ready and are retried on UNAVAILABLE with
exponential back-off, so a restarting server is ridden through; the others fail fast and are
never repeated behind the caller's back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor

from centrum.policy.v1 import policy_pb2

__all__ = ["KEEPALIVE_OPTIONS", "channel_options", "service_config"]

KEEPALIVE_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.max_pings_without_data", 0),
)
_RETRY_POLICY = {
    "maxAttempts": 5,
    "initialBackoff": "0.2s",
    "maxBackoff": "3s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def service_config(
    services: Iterable[descriptor.ServiceDescriptor], *, retries: bool = True
) -> str:
    """The service config (JSON) applying each RPC's deadline and idempotency."""
    method_configs: list[dict[str, Any]] = []
    for service in services:
        for method in service.methods:
            options: Any = method.GetOptions()
            if not options.HasExtension(policy_pb2.method):
                continue
            declared = options.Extensions[policy_pb2.method]
            config: dict[str, Any] = {
                "name": [{"service": service.full_name, "method": method.name}]
            }
            if declared.timeout_ms:
                config["timeout"] = f"{declared.timeout_ms / 1000:.3f}s"
            if declared.idempotent and retries:
                config["waitForReady"] = True
                if not method.client_streaming:
                    config["retryPolicy"] = _RETRY_POLICY
            method_configs.append(config)
    return json.dumps({"methodConfig": method_configs})


def channel_options(
    services: Iterable[descriptor.ServiceDescriptor], *, retries: bool = True
) -> list[tuple[str, Any]]:
    """Channel options: the service config, retries switched on, keepalive."""
    return [
        ("grpc.service_config", service_config(services, retries=retries)),
        ("grpc.enable_retries", 1 if retries else 0),
        *KEEPALIVE_OPTIONS,
    ]
