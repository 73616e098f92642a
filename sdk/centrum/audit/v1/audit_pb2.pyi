import datetime

from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PrincipalKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRINCIPAL_KIND_UNSPECIFIED: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_USER: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_SERVICE_ACCOUNT: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_API_KEY: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_SYSTEM: _ClassVar[PrincipalKind]
    PRINCIPAL_KIND_ANONYMOUS: _ClassVar[PrincipalKind]

class AuditOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_OUTCOME_UNSPECIFIED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_SUCCESS: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_FAILURE: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_DENIED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_ERROR: _ClassVar[AuditOutcome]

class AuditSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_SEVERITY_UNSPECIFIED: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_DEBUG: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_INFO: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_NOTICE: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_WARNING: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_ALERT: _ClassVar[AuditSeverity]
    AUDIT_SEVERITY_CRITICAL: _ClassVar[AuditSeverity]

class SignatureAlgorithm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_ALGORITHM_UNSPECIFIED: _ClassVar[SignatureAlgorithm]
    SIGNATURE_ALGORITHM_ED25519: _ClassVar[SignatureAlgorithm]

class HashAlgorithm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HASH_ALGORITHM_UNSPECIFIED: _ClassVar[HashAlgorithm]
    HASH_ALGORITHM_SHA256: _ClassVar[HashAlgorithm]

class LeafEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAF_ENCODING_UNSPECIFIED: _ClassVar[LeafEncoding]
    LEAF_ENCODING_JCS: _ClassVar[LeafEncoding]
    LEAF_ENCODING_PROTOBUF_DETERMINISTIC: _ClassVar[LeafEncoding]
PRINCIPAL_KIND_UNSPECIFIED: PrincipalKind
PRINCIPAL_KIND_USER: PrincipalKind
PRINCIPAL_KIND_SERVICE_ACCOUNT: PrincipalKind
PRINCIPAL_KIND_API_KEY: PrincipalKind
PRINCIPAL_KIND_SYSTEM: PrincipalKind
PRINCIPAL_KIND_ANONYMOUS: PrincipalKind
AUDIT_OUTCOME_UNSPECIFIED: AuditOutcome
AUDIT_OUTCOME_SUCCESS: AuditOutcome
AUDIT_OUTCOME_FAILURE: AuditOutcome
AUDIT_OUTCOME_DENIED: AuditOutcome
AUDIT_OUTCOME_ERROR: AuditOutcome
AUDIT_SEVERITY_UNSPECIFIED: AuditSeverity
AUDIT_SEVERITY_DEBUG: AuditSeverity
AUDIT_SEVERITY_INFO: AuditSeverity
AUDIT_SEVERITY_NOTICE: AuditSeverity
AUDIT_SEVERITY_WARNING: AuditSeverity
AUDIT_SEVERITY_ALERT: AuditSeverity
AUDIT_SEVERITY_CRITICAL: AuditSeverity
SIGNATURE_ALGORITHM_UNSPECIFIED: SignatureAlgorithm
SIGNATURE_ALGORITHM_ED25519: SignatureAlgorithm
HASH_ALGORITHM_UNSPECIFIED: HashAlgorithm
HASH_ALGORITHM_SHA256: HashAlgorithm
LEAF_ENCODING_UNSPECIFIED: LeafEncoding
LEAF_ENCODING_JCS: LeafEncoding
LEAF_ENCODING_PROTOBUF_DETERMINISTIC: LeafEncoding

class AuditEvent(_message.Message):
    __slots__ = ("event_id", "category", "action", "outcome", "severity", "actor", "resource", "correlation", "authorization", "sensitivity", "details", "financial", "rpc", "event_time", "integrated_time", "submitter")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    FINANCIAL_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    category: str
    action: str
    outcome: AuditOutcome
    severity: AuditSeverity
    actor: Actor
    resource: Resource
    correlation: Correlation
    authorization: Authorization
    sensitivity: _policy_pb2.Sensitivity
    details: _struct_pb2.Struct
    financial: Financial
    rpc: RpcCall
    event_time: _timestamp_pb2.Timestamp
    integrated_time: _timestamp_pb2.Timestamp
    submitter: Principal
    def __init__(self, event_id: _Optional[str] = ..., category: _Optional[str] = ..., action: _Optional[str] = ..., outcome: _Optional[_Union[AuditOutcome, str]] = ..., severity: _Optional[_Union[AuditSeverity, str]] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ..., resource: _Optional[_Union[Resource, _Mapping]] = ..., correlation: _Optional[_Union[Correlation, _Mapping]] = ..., authorization: _Optional[_Union[Authorization, _Mapping]] = ..., sensitivity: _Optional[_Union[_policy_pb2.Sensitivity, str]] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., financial: _Optional[_Union[Financial, _Mapping]] = ..., rpc: _Optional[_Union[RpcCall, _Mapping]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., integrated_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitter: _Optional[_Union[Principal, _Mapping]] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("index", "event", "leaf_hash", "integrated_time", "payload_pruned", "leaf_value")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_TIME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_PRUNED_FIELD_NUMBER: _ClassVar[int]
    LEAF_VALUE_FIELD_NUMBER: _ClassVar[int]
    index: int
    event: AuditEvent
    leaf_hash: bytes
    integrated_time: _timestamp_pb2.Timestamp
    payload_pruned: bool
    leaf_value: bytes
    def __init__(self, index: _Optional[int] = ..., event: _Optional[_Union[AuditEvent, _Mapping]] = ..., leaf_hash: _Optional[bytes] = ..., integrated_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payload_pruned: _Optional[bool] = ..., leaf_value: _Optional[bytes] = ...) -> None: ...

class Actor(_message.Message):
    __slots__ = ("principal_id", "principal_kind", "tenant", "peer_address", "user_agent", "credential_id")
    PRINCIPAL_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PEER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    principal_id: str
    principal_kind: PrincipalKind
    tenant: str
    peer_address: str
    user_agent: str
    credential_id: str
    def __init__(self, principal_id: _Optional[str] = ..., principal_kind: _Optional[_Union[PrincipalKind, str]] = ..., tenant: _Optional[str] = ..., peer_address: _Optional[str] = ..., user_agent: _Optional[str] = ..., credential_id: _Optional[str] = ...) -> None: ...

class Principal(_message.Message):
    __slots__ = ("id", "kind", "tenant")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: PrincipalKind
    tenant: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[PrincipalKind, str]] = ..., tenant: _Optional[str] = ...) -> None: ...

class Resource(_message.Message):
    __slots__ = ("type", "id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    id: str
    def __init__(self, type: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class Correlation(_message.Message):
    __slots__ = ("request_id", "trace_id", "span_id", "correlation_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    trace_id: str
    span_id: str
    correlation_id: str
    def __init__(self, request_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class Authorization(_message.Message):
    __slots__ = ("authorized_by", "on_behalf_of", "scopes")
    AUTHORIZED_BY_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    authorized_by: Principal
    on_behalf_of: Principal
    scopes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, authorized_by: _Optional[_Union[Principal, _Mapping]] = ..., on_behalf_of: _Optional[_Union[Principal, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ...) -> None: ...

class Financial(_message.Message):
    __slots__ = ("transaction_id", "amount", "currency", "from_account", "to_account", "reason")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    FROM_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    amount: str
    currency: str
    from_account: str
    to_account: str
    reason: str
    def __init__(self, transaction_id: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., from_account: _Optional[str] = ..., to_account: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RpcCall(_message.Message):
    __slots__ = ("method", "status_code", "duration", "error_reason")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    method: str
    status_code: int
    duration: _duration_pb2.Duration
    error_reason: str
    def __init__(self, method: _Optional[str] = ..., status_code: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., error_reason: _Optional[str] = ...) -> None: ...

class AuditFilter(_message.Message):
    __slots__ = ("start_time", "end_time", "actor_principal_id", "resource_type", "resource_id", "category", "action", "outcomes", "min_severity", "request_id", "trace_id", "correlation_id", "transaction_id")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_PRINCIPAL_ID_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    MIN_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    actor_principal_id: str
    resource_type: str
    resource_id: str
    category: str
    action: str
    outcomes: _containers.RepeatedScalarFieldContainer[AuditOutcome]
    min_severity: AuditSeverity
    request_id: str
    trace_id: str
    correlation_id: str
    transaction_id: str
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_principal_id: _Optional[str] = ..., resource_type: _Optional[str] = ..., resource_id: _Optional[str] = ..., category: _Optional[str] = ..., action: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[AuditOutcome, str]]] = ..., min_severity: _Optional[_Union[AuditSeverity, str]] = ..., request_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., transaction_id: _Optional[str] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("origin", "tree_size", "root_hash", "timestamp", "note", "key_name", "key_id")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: _timestamp_pb2.Timestamp
    note: str
    key_name: str
    key_id: bytes
    def __init__(self, origin: _Optional[str] = ..., tree_size: _Optional[int] = ..., root_hash: _Optional[bytes] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ..., key_name: _Optional[str] = ..., key_id: _Optional[bytes] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("leaf_index", "tree_size", "hashes")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    tree_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ConsistencyProof(_message.Message):
    __slots__ = ("first_size", "second_size", "hashes")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class LogPublicKey(_message.Message):
    __slots__ = ("key_name", "key_id", "algorithm", "public_key", "verifier_key", "active", "create_time")
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    key_name: str
    key_id: bytes
    algorithm: SignatureAlgorithm
    public_key: bytes
    verifier_key: str
    active: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, key_name: _Optional[str] = ..., key_id: _Optional[bytes] = ..., algorithm: _Optional[_Union[SignatureAlgorithm, str]] = ..., public_key: _Optional[bytes] = ..., verifier_key: _Optional[str] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportRecord(_message.Message):
    __slots__ = ("header", "entry", "trailer")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    TRAILER_FIELD_NUMBER: _ClassVar[int]
    header: ExportHeader
    entry: ExportedEntry
    trailer: ExportTrailer
    def __init__(self, header: _Optional[_Union[ExportHeader, _Mapping]] = ..., entry: _Optional[_Union[ExportedEntry, _Mapping]] = ..., trailer: _Optional[_Union[ExportTrailer, _Mapping]] = ...) -> None: ...

class ExportHeader(_message.Message):
    __slots__ = ("origin", "public_keys", "hash_algorithm", "leaf_encoding", "checkpoint", "start_index", "end_index", "filter", "create_time")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEYS_FIELD_NUMBER: _ClassVar[int]
    HASH_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    LEAF_ENCODING_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    END_INDEX_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    origin: str
    public_keys: _containers.RepeatedCompositeFieldContainer[LogPublicKey]
    hash_algorithm: HashAlgorithm
    leaf_encoding: LeafEncoding
    checkpoint: Checkpoint
    start_index: int
    end_index: int
    filter: AuditFilter
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, origin: _Optional[str] = ..., public_keys: _Optional[_Iterable[_Union[LogPublicKey, _Mapping]]] = ..., hash_algorithm: _Optional[_Union[HashAlgorithm, str]] = ..., leaf_encoding: _Optional[_Union[LeafEncoding, str]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., start_index: _Optional[int] = ..., end_index: _Optional[int] = ..., filter: _Optional[_Union[AuditFilter, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportedEntry(_message.Message):
    __slots__ = ("entry", "inclusion_proof")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    entry: AuditEntry
    inclusion_proof: InclusionProof
    def __init__(self, entry: _Optional[_Union[AuditEntry, _Mapping]] = ..., inclusion_proof: _Optional[_Union[InclusionProof, _Mapping]] = ...) -> None: ...

class ExportTrailer(_message.Message):
    __slots__ = ("entry_count", "pruned_count")
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PRUNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    entry_count: int
    pruned_count: int
    def __init__(self, entry_count: _Optional[int] = ..., pruned_count: _Optional[int] = ...) -> None: ...
