"""The policy registry: every RPC's `centrum.policy.v1.method` option, read once at start-up.

The registry is the single source the chain consults per call. Operator overrides from settings
(per rate-limit bucket, per method audit level) are folded in here, so no step of the chain knows
about settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from google.protobuf import descriptor

from centrum.interceptors.ratelimit import RateLimitRule
from centrum.policy.v1 import policy_pb2

__all__ = [
    "AuditLevel",
    "MissingPolicyError",
    "Policy",
    "PolicyRegistry",
    "RateLimitKey",
    "RateLimitOverride",
]

AuditLevel = policy_pb2.AuditLevel
RateLimitKey = policy_pb2.RateLimitKey


class MissingPolicyError(RuntimeError):
    """A registered Centrum RPC declares no method policy; the server refuses to start."""


@dataclass(frozen=True, slots=True)
class RateLimitOverride:
    """An operator's override of one rate-limit bucket."""

    per_minute: int | None = None
    burst: int | None = None
    shadow: bool | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """The effective policy of one RPC, with operator overrides applied."""

    method: str
    """Full method path, as gRPC names it: `/centrum.config.v1.ConfigService/GetValue`."""
    public: bool = False
    scopes: tuple[str, ...] = ()
    rate_limit: RateLimitRule | None = None
    rate_limit_key: int = RateLimitKey.RATE_LIMIT_KEY_UNSPECIFIED
    audit_level: int = AuditLevel.AUDIT_LEVEL_METADATA
    idempotent: bool = False
    timeout_ms: int = 0
    resource_type: str = ""
    resource_id_fields: tuple[str, ...] = ()
    request_streaming: bool = False
    response_streaming: bool = False
    request_descriptor: descriptor.Descriptor | None = field(default=None, compare=False)

    @property
    def service(self) -> str:
        """The full name of the service, `centrum.config.v1.ConfigService`."""
        return self.method[1:].split("/", 1)[0]

    @property
    def audited(self) -> bool:
        """Tells whether calls of this RPC produce audit events."""
        return self.audit_level != AuditLevel.AUDIT_LEVEL_NONE


def _default_burst(per_minute: int) -> int:
    return max(1, per_minute // 10)


def policy_of(method: descriptor.MethodDescriptor) -> Policy | None:
    """Reads the declared policy of one RPC, or None when it declares none."""
    options: Any = method.GetOptions()
    if not options.HasExtension(policy_pb2.method):
        return None
    declared: policy_pb2.MethodPolicy = options.Extensions[policy_pb2.method]
    rule = None
    if declared.HasField("rate_limit") and declared.rate_limit.per_minute > 0:
        limit = declared.rate_limit
        rule = RateLimitRule(
            bucket=limit.bucket or method.full_name,
            per_minute=limit.per_minute,
            burst=limit.burst or _default_burst(limit.per_minute),
        )
    audit = declared.audit or AuditLevel.AUDIT_LEVEL_METADATA
    return Policy(
        method=f"/{method.containing_service.full_name}/{method.name}",
        public=declared.public,
        scopes=tuple(declared.scopes),
        rate_limit=rule,
        rate_limit_key=declared.rate_limit.key,
        audit_level=audit,
        idempotent=declared.idempotent,
        timeout_ms=declared.timeout_ms,
        resource_type=declared.resource_type,
        resource_id_fields=tuple(declared.resource_id_fields),
        request_streaming=method.client_streaming,
        response_streaming=method.server_streaming,
        request_descriptor=method.input_type,
    )


class PolicyRegistry:
    """Effective policies of every registered RPC, keyed by full method path."""

    def __init__(self, policies: Mapping[str, Policy]) -> None:
        self._policies = dict(policies)

    @classmethod
    def from_services(
        cls,
        services: Iterable[descriptor.ServiceDescriptor],
        *,
        rate_limits: Mapping[str, RateLimitOverride] | None = None,
        audit_levels: Mapping[str, int] | None = None,
    ) -> PolicyRegistry:
        """Reads the policies of `services`, applying the operator overrides.

        Raises MissingPolicyError naming every RPC that declares no policy.
        """
        policies: dict[str, Policy] = {}
        missing: list[str] = []
        for service in services:
            for method in service.methods:
                declared = policy_of(method)
                if declared is None:
                    missing.append(method.full_name)
                    continue
                policies[declared.method] = _override(
                    declared, rate_limits or {}, audit_levels or {}
                )
        if missing:
            raise MissingPolicyError(
                "these RPCs declare no (centrum.policy.v1.method) option: " + ", ".join(missing)
            )
        return cls(policies)

    def get(self, method: str) -> Policy | None:
        """Returns the policy of a full method path, or None for a method Centrum does not own."""
        return self._policies.get(method)

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies.values())

    def __len__(self) -> int:
        return len(self._policies)


def _override(
    policy: Policy, rate_limits: Mapping[str, RateLimitOverride], audit_levels: Mapping[str, int]
) -> Policy:
    rule = policy.rate_limit
    if rule is not None and (override := rate_limits.get(rule.bucket)) is not None:
        if override.disabled:
            rule = None
        else:
            per_minute = override.per_minute or rule.per_minute
            rule = replace(
                rule,
                per_minute=per_minute,
                burst=override.burst or rule.burst,
                shadow=rule.shadow if override.shadow is None else override.shadow,
            )
    level = audit_levels.get(policy.method[1:].replace("/", "."), policy.audit_level)
    return replace(policy, rate_limit=rule, audit_level=level)
