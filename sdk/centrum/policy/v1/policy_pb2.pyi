from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RateLimitKey(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RATE_LIMIT_KEY_UNSPECIFIED: _ClassVar[RateLimitKey]
    RATE_LIMIT_KEY_PRINCIPAL: _ClassVar[RateLimitKey]
    RATE_LIMIT_KEY_TENANT: _ClassVar[RateLimitKey]
    RATE_LIMIT_KEY_API_KEY: _ClassVar[RateLimitKey]
    RATE_LIMIT_KEY_PEER: _ClassVar[RateLimitKey]

class AuditLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_LEVEL_UNSPECIFIED: _ClassVar[AuditLevel]
    AUDIT_LEVEL_NONE: _ClassVar[AuditLevel]
    AUDIT_LEVEL_METADATA: _ClassVar[AuditLevel]
    AUDIT_LEVEL_FULL: _ClassVar[AuditLevel]

class Sensitivity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENSITIVITY_UNSPECIFIED: _ClassVar[Sensitivity]
    SENSITIVITY_INTERNAL: _ClassVar[Sensitivity]
    SENSITIVITY_PII: _ClassVar[Sensitivity]
    SENSITIVITY_SECRET: _ClassVar[Sensitivity]
RATE_LIMIT_KEY_UNSPECIFIED: RateLimitKey
RATE_LIMIT_KEY_PRINCIPAL: RateLimitKey
RATE_LIMIT_KEY_TENANT: RateLimitKey
RATE_LIMIT_KEY_API_KEY: RateLimitKey
RATE_LIMIT_KEY_PEER: RateLimitKey
AUDIT_LEVEL_UNSPECIFIED: AuditLevel
AUDIT_LEVEL_NONE: AuditLevel
AUDIT_LEVEL_METADATA: AuditLevel
AUDIT_LEVEL_FULL: AuditLevel
SENSITIVITY_UNSPECIFIED: Sensitivity
SENSITIVITY_INTERNAL: Sensitivity
SENSITIVITY_PII: Sensitivity
SENSITIVITY_SECRET: Sensitivity
METHOD_FIELD_NUMBER: _ClassVar[int]
method: _descriptor.FieldDescriptor
SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
sensitivity: _descriptor.FieldDescriptor

class MethodPolicy(_message.Message):
    __slots__ = ("public", "scopes", "rate_limit", "audit", "idempotent", "timeout_ms", "resource_type", "resource_id_fields")
    PUBLIC_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELDS_FIELD_NUMBER: _ClassVar[int]
    public: bool
    scopes: _containers.RepeatedScalarFieldContainer[str]
    rate_limit: RateLimit
    audit: AuditLevel
    idempotent: bool
    timeout_ms: int
    resource_type: str
    resource_id_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, public: _Optional[bool] = ..., scopes: _Optional[_Iterable[str]] = ..., rate_limit: _Optional[_Union[RateLimit, _Mapping]] = ..., audit: _Optional[_Union[AuditLevel, str]] = ..., idempotent: _Optional[bool] = ..., timeout_ms: _Optional[int] = ..., resource_type: _Optional[str] = ..., resource_id_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("bucket", "per_minute", "burst", "key")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    BURST_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    per_minute: int
    burst: int
    key: RateLimitKey
    def __init__(self, bucket: _Optional[str] = ..., per_minute: _Optional[int] = ..., burst: _Optional[int] = ..., key: _Optional[_Union[RateLimitKey, str]] = ...) -> None: ...
