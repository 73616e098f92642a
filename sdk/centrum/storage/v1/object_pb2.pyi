import datetime

from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ObjectAccess(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECT_ACCESS_UNSPECIFIED: _ClassVar[ObjectAccess]
    OBJECT_ACCESS_PRIVATE: _ClassVar[ObjectAccess]
    OBJECT_ACCESS_TENANT: _ClassVar[ObjectAccess]
    OBJECT_ACCESS_PUBLIC_READ: _ClassVar[ObjectAccess]

class ScanState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCAN_STATE_UNSPECIFIED: _ClassVar[ScanState]
    SCAN_STATE_PENDING: _ClassVar[ScanState]
    SCAN_STATE_CLEAN: _ClassVar[ScanState]
    SCAN_STATE_INFECTED: _ClassVar[ScanState]
    SCAN_STATE_SKIPPED: _ClassVar[ScanState]
    SCAN_STATE_FAILED: _ClassVar[ScanState]

class EncryptionAlgorithm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENCRYPTION_ALGORITHM_UNSPECIFIED: _ClassVar[EncryptionAlgorithm]
    ENCRYPTION_ALGORITHM_NONE: _ClassVar[EncryptionAlgorithm]
    ENCRYPTION_ALGORITHM_AES_256_GCM_SEGMENTED: _ClassVar[EncryptionAlgorithm]

class KeyProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_PROVIDER_UNSPECIFIED: _ClassVar[KeyProvider]
    KEY_PROVIDER_LOCAL: _ClassVar[KeyProvider]
    KEY_PROVIDER_VAULT_TRANSIT: _ClassVar[KeyProvider]
OBJECT_ACCESS_UNSPECIFIED: ObjectAccess
OBJECT_ACCESS_PRIVATE: ObjectAccess
OBJECT_ACCESS_TENANT: ObjectAccess
OBJECT_ACCESS_PUBLIC_READ: ObjectAccess
SCAN_STATE_UNSPECIFIED: ScanState
SCAN_STATE_PENDING: ScanState
SCAN_STATE_CLEAN: ScanState
SCAN_STATE_INFECTED: ScanState
SCAN_STATE_SKIPPED: ScanState
SCAN_STATE_FAILED: ScanState
ENCRYPTION_ALGORITHM_UNSPECIFIED: EncryptionAlgorithm
ENCRYPTION_ALGORITHM_NONE: EncryptionAlgorithm
ENCRYPTION_ALGORITHM_AES_256_GCM_SEGMENTED: EncryptionAlgorithm
KEY_PROVIDER_UNSPECIFIED: KeyProvider
KEY_PROVIDER_LOCAL: KeyProvider
KEY_PROVIDER_VAULT_TRANSIT: KeyProvider

class Object(_message.Message):
    __slots__ = ("bucket", "key", "size_bytes", "content_type", "sha256", "etag", "metadata", "owner", "access", "encryption", "scan_state", "scan_signature", "scan_time", "cache_control", "content_disposition", "public_url", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_FIELD_NUMBER: _ClassVar[int]
    SCAN_STATE_FIELD_NUMBER: _ClassVar[int]
    SCAN_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SCAN_TIME_FIELD_NUMBER: _ClassVar[int]
    CACHE_CONTROL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_URL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    size_bytes: int
    content_type: str
    sha256: str
    etag: str
    metadata: _containers.ScalarMap[str, str]
    owner: str
    access: ObjectAccess
    encryption: EncryptionInfo
    scan_state: ScanState
    scan_signature: str
    scan_time: _timestamp_pb2.Timestamp
    cache_control: str
    content_disposition: str
    public_url: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ..., sha256: _Optional[str] = ..., etag: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., owner: _Optional[str] = ..., access: _Optional[_Union[ObjectAccess, str]] = ..., encryption: _Optional[_Union[EncryptionInfo, _Mapping]] = ..., scan_state: _Optional[_Union[ScanState, str]] = ..., scan_signature: _Optional[str] = ..., scan_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cache_control: _Optional[str] = ..., content_disposition: _Optional[str] = ..., public_url: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EncryptionInfo(_message.Message):
    __slots__ = ("algorithm", "key_provider", "key_id", "key_version")
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    KEY_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    algorithm: EncryptionAlgorithm
    key_provider: KeyProvider
    key_id: str
    key_version: int
    def __init__(self, algorithm: _Optional[_Union[EncryptionAlgorithm, str]] = ..., key_provider: _Optional[_Union[KeyProvider, str]] = ..., key_id: _Optional[str] = ..., key_version: _Optional[int] = ...) -> None: ...
