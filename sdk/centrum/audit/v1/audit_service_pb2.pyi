import datetime

from centrum.audit.v1 import audit_pb2 as _audit_pb2
from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SortOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SORT_ORDER_UNSPECIFIED: _ClassVar[SortOrder]
    SORT_ORDER_ASCENDING: _ClassVar[SortOrder]
    SORT_ORDER_DESCENDING: _ClassVar[SortOrder]
SORT_ORDER_UNSPECIFIED: SortOrder
SORT_ORDER_ASCENDING: SortOrder
SORT_ORDER_DESCENDING: SortOrder

class AppendRequest(_message.Message):
    __slots__ = ("event", "wait_for_checkpoint", "known_tree_size")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    WAIT_FOR_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    KNOWN_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    event: _audit_pb2.AuditEvent
    wait_for_checkpoint: bool
    known_tree_size: int
    def __init__(self, event: _Optional[_Union[_audit_pb2.AuditEvent, _Mapping]] = ..., wait_for_checkpoint: _Optional[bool] = ..., known_tree_size: _Optional[int] = ...) -> None: ...

class AppendResponse(_message.Message):
    __slots__ = ("index", "leaf_hash", "integrated_time", "deduplicated", "checkpoint", "inclusion_proof", "consistency_proof")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_TIME_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_PROOF_FIELD_NUMBER: _ClassVar[int]
    index: int
    leaf_hash: bytes
    integrated_time: _timestamp_pb2.Timestamp
    deduplicated: bool
    checkpoint: _audit_pb2.Checkpoint
    inclusion_proof: _audit_pb2.InclusionProof
    consistency_proof: _audit_pb2.ConsistencyProof
    def __init__(self, index: _Optional[int] = ..., leaf_hash: _Optional[bytes] = ..., integrated_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deduplicated: _Optional[bool] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ..., inclusion_proof: _Optional[_Union[_audit_pb2.InclusionProof, _Mapping]] = ..., consistency_proof: _Optional[_Union[_audit_pb2.ConsistencyProof, _Mapping]] = ...) -> None: ...

class AppendBatchRequest(_message.Message):
    __slots__ = ("events", "known_tree_size", "include_inclusion_proofs")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INCLUSION_PROOFS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_audit_pb2.AuditEvent]
    known_tree_size: int
    include_inclusion_proofs: bool
    def __init__(self, events: _Optional[_Iterable[_Union[_audit_pb2.AuditEvent, _Mapping]]] = ..., known_tree_size: _Optional[int] = ..., include_inclusion_proofs: _Optional[bool] = ...) -> None: ...

class AppendBatchResponse(_message.Message):
    __slots__ = ("results", "checkpoint", "consistency_proof")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_PROOF_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[AppendResult]
    checkpoint: _audit_pb2.Checkpoint
    consistency_proof: _audit_pb2.ConsistencyProof
    def __init__(self, results: _Optional[_Iterable[_Union[AppendResult, _Mapping]]] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ..., consistency_proof: _Optional[_Union[_audit_pb2.ConsistencyProof, _Mapping]] = ...) -> None: ...

class AppendResult(_message.Message):
    __slots__ = ("index", "leaf_hash", "integrated_time", "deduplicated", "inclusion_proof")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_TIME_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    index: int
    leaf_hash: bytes
    integrated_time: _timestamp_pb2.Timestamp
    deduplicated: bool
    inclusion_proof: _audit_pb2.InclusionProof
    def __init__(self, index: _Optional[int] = ..., leaf_hash: _Optional[bytes] = ..., integrated_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deduplicated: _Optional[bool] = ..., inclusion_proof: _Optional[_Union[_audit_pb2.InclusionProof, _Mapping]] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("filter", "order", "page_size", "page_token")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: _audit_pb2.AuditFilter
    order: SortOrder
    page_size: int
    page_token: str
    def __init__(self, filter: _Optional[_Union[_audit_pb2.AuditFilter, _Mapping]] = ..., order: _Optional[_Union[SortOrder, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_audit_pb2.AuditEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[_audit_pb2.AuditEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TailRequest(_message.Message):
    __slots__ = ("start_index", "from_end", "filter", "include_checkpoints")
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    FROM_END_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    start_index: int
    from_end: bool
    filter: _audit_pb2.AuditFilter
    include_checkpoints: bool
    def __init__(self, start_index: _Optional[int] = ..., from_end: _Optional[bool] = ..., filter: _Optional[_Union[_audit_pb2.AuditFilter, _Mapping]] = ..., include_checkpoints: _Optional[bool] = ...) -> None: ...

class TailResponse(_message.Message):
    __slots__ = ("entry", "checkpoint", "next_index")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    NEXT_INDEX_FIELD_NUMBER: _ClassVar[int]
    entry: _audit_pb2.AuditEntry
    checkpoint: _audit_pb2.Checkpoint
    next_index: int
    def __init__(self, entry: _Optional[_Union[_audit_pb2.AuditEntry, _Mapping]] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ..., next_index: _Optional[int] = ...) -> None: ...

class GetEntryRequest(_message.Message):
    __slots__ = ("index", "include_leaf_value", "include_inclusion_proof", "tree_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LEAF_VALUE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: int
    include_leaf_value: bool
    include_inclusion_proof: bool
    tree_size: int
    def __init__(self, index: _Optional[int] = ..., include_leaf_value: _Optional[bool] = ..., include_inclusion_proof: _Optional[bool] = ..., tree_size: _Optional[int] = ...) -> None: ...

class GetEntryResponse(_message.Message):
    __slots__ = ("entry", "inclusion_proof", "checkpoint")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    entry: _audit_pb2.AuditEntry
    inclusion_proof: _audit_pb2.InclusionProof
    checkpoint: _audit_pb2.Checkpoint
    def __init__(self, entry: _Optional[_Union[_audit_pb2.AuditEntry, _Mapping]] = ..., inclusion_proof: _Optional[_Union[_audit_pb2.InclusionProof, _Mapping]] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCheckpointResponse(_message.Message):
    __slots__ = ("checkpoint",)
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    checkpoint: _audit_pb2.Checkpoint
    def __init__(self, checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("index", "tree_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: int
    tree_size: int
    def __init__(self, index: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class GetInclusionProofResponse(_message.Message):
    __slots__ = ("inclusion_proof", "checkpoint")
    INCLUSION_PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    inclusion_proof: _audit_pb2.InclusionProof
    checkpoint: _audit_pb2.Checkpoint
    def __init__(self, inclusion_proof: _Optional[_Union[_audit_pb2.InclusionProof, _Mapping]] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("first_size", "second_size")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ...) -> None: ...

class GetConsistencyProofResponse(_message.Message):
    __slots__ = ("consistency_proof", "checkpoint")
    CONSISTENCY_PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    consistency_proof: _audit_pb2.ConsistencyProof
    checkpoint: _audit_pb2.Checkpoint
    def __init__(self, consistency_proof: _Optional[_Union[_audit_pb2.ConsistencyProof, _Mapping]] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("start_index", "end_index", "filter", "destination", "gzip")
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    END_INDEX_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    GZIP_FIELD_NUMBER: _ClassVar[int]
    start_index: int
    end_index: int
    filter: _audit_pb2.AuditFilter
    destination: ExportDestination
    gzip: bool
    def __init__(self, start_index: _Optional[int] = ..., end_index: _Optional[int] = ..., filter: _Optional[_Union[_audit_pb2.AuditFilter, _Mapping]] = ..., destination: _Optional[_Union[ExportDestination, _Mapping]] = ..., gzip: _Optional[bool] = ...) -> None: ...

class ExportDestination(_message.Message):
    __slots__ = ("file", "s3")
    FILE_FIELD_NUMBER: _ClassVar[int]
    S3_FIELD_NUMBER: _ClassVar[int]
    file: FileDestination
    s3: S3Destination
    def __init__(self, file: _Optional[_Union[FileDestination, _Mapping]] = ..., s3: _Optional[_Union[S3Destination, _Mapping]] = ...) -> None: ...

class FileDestination(_message.Message):
    __slots__ = ("path", "overwrite")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    path: str
    overwrite: bool
    def __init__(self, path: _Optional[str] = ..., overwrite: _Optional[bool] = ...) -> None: ...

class S3Destination(_message.Message):
    __slots__ = ("bucket", "key", "overwrite")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    overwrite: bool
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., overwrite: _Optional[bool] = ...) -> None: ...

class ExportResponse(_message.Message):
    __slots__ = ("chunk", "progress", "summary")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    progress: ExportProgress
    summary: ExportSummary
    def __init__(self, chunk: _Optional[bytes] = ..., progress: _Optional[_Union[ExportProgress, _Mapping]] = ..., summary: _Optional[_Union[ExportSummary, _Mapping]] = ...) -> None: ...

class ExportProgress(_message.Message):
    __slots__ = ("entries_written", "bytes_written", "next_index", "end_index")
    ENTRIES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    NEXT_INDEX_FIELD_NUMBER: _ClassVar[int]
    END_INDEX_FIELD_NUMBER: _ClassVar[int]
    entries_written: int
    bytes_written: int
    next_index: int
    end_index: int
    def __init__(self, entries_written: _Optional[int] = ..., bytes_written: _Optional[int] = ..., next_index: _Optional[int] = ..., end_index: _Optional[int] = ...) -> None: ...

class ExportSummary(_message.Message):
    __slots__ = ("uri", "start_index", "end_index", "entry_count", "pruned_count", "bytes_written", "sha256", "checkpoint", "complete_time")
    URI_FIELD_NUMBER: _ClassVar[int]
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    END_INDEX_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PRUNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    BYTES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    uri: str
    start_index: int
    end_index: int
    entry_count: int
    pruned_count: int
    bytes_written: int
    sha256: bytes
    checkpoint: _audit_pb2.Checkpoint
    complete_time: _timestamp_pb2.Timestamp
    def __init__(self, uri: _Optional[str] = ..., start_index: _Optional[int] = ..., end_index: _Optional[int] = ..., entry_count: _Optional[int] = ..., pruned_count: _Optional[int] = ..., bytes_written: _Optional[int] = ..., sha256: _Optional[bytes] = ..., checkpoint: _Optional[_Union[_audit_pb2.Checkpoint, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetLogInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetLogInfoResponse(_message.Message):
    __slots__ = ("origin", "public_keys", "hash_algorithm", "leaf_encoding", "max_batch_size")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEYS_FIELD_NUMBER: _ClassVar[int]
    HASH_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    LEAF_ENCODING_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    origin: str
    public_keys: _containers.RepeatedCompositeFieldContainer[_audit_pb2.LogPublicKey]
    hash_algorithm: _audit_pb2.HashAlgorithm
    leaf_encoding: _audit_pb2.LeafEncoding
    max_batch_size: int
    def __init__(self, origin: _Optional[str] = ..., public_keys: _Optional[_Iterable[_Union[_audit_pb2.LogPublicKey, _Mapping]]] = ..., hash_algorithm: _Optional[_Union[_audit_pb2.HashAlgorithm, str]] = ..., leaf_encoding: _Optional[_Union[_audit_pb2.LeafEncoding, str]] = ..., max_batch_size: _Optional[int] = ...) -> None: ...
