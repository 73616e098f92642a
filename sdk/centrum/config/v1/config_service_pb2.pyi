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

class ConfigChangeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFIG_CHANGE_TYPE_UNSPECIFIED: _ClassVar[ConfigChangeType]
    CONFIG_CHANGE_TYPE_PUT: _ClassVar[ConfigChangeType]
    CONFIG_CHANGE_TYPE_DELETE: _ClassVar[ConfigChangeType]
CONFIG_CHANGE_TYPE_UNSPECIFIED: ConfigChangeType
CONFIG_CHANGE_TYPE_PUT: ConfigChangeType
CONFIG_CHANGE_TYPE_DELETE: ConfigChangeType

class ConfigValue(_message.Message):
    __slots__ = ("environment", "key", "value", "description", "revision", "create_revision", "version", "updated_by", "update_time", "create_time")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_REVISION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    value: _struct_pb2.Value
    description: str
    revision: int
    create_revision: int
    version: int
    updated_by: str
    update_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., description: _Optional[str] = ..., revision: _Optional[int] = ..., create_revision: _Optional[int] = ..., version: _Optional[int] = ..., updated_by: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConfigChange(_message.Message):
    __slots__ = ("type", "environment", "key", "value", "description", "revision", "previous_revision", "create_revision", "version", "actor", "time", "reason", "rollback_revision")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_REVISION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_REVISION_FIELD_NUMBER: _ClassVar[int]
    type: ConfigChangeType
    environment: str
    key: str
    value: _struct_pb2.Value
    description: str
    revision: int
    previous_revision: int
    create_revision: int
    version: int
    actor: str
    time: _timestamp_pb2.Timestamp
    reason: str
    rollback_revision: int
    def __init__(self, type: _Optional[_Union[ConfigChangeType, str]] = ..., environment: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., description: _Optional[str] = ..., revision: _Optional[int] = ..., previous_revision: _Optional[int] = ..., create_revision: _Optional[int] = ..., version: _Optional[int] = ..., actor: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., rollback_revision: _Optional[int] = ...) -> None: ...

class GetValueRequest(_message.Message):
    __slots__ = ("environment", "key", "revision")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    revision: int
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class GetValueResponse(_message.Message):
    __slots__ = ("value", "current_revision")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_REVISION_FIELD_NUMBER: _ClassVar[int]
    value: ConfigValue
    current_revision: int
    def __init__(self, value: _Optional[_Union[ConfigValue, _Mapping]] = ..., current_revision: _Optional[int] = ...) -> None: ...

class ListValuesRequest(_message.Message):
    __slots__ = ("environment", "prefix", "revision", "page_size", "page_token")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    environment: str
    prefix: str
    revision: int
    page_size: int
    page_token: str
    def __init__(self, environment: _Optional[str] = ..., prefix: _Optional[str] = ..., revision: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListValuesResponse(_message.Message):
    __slots__ = ("values", "next_page_token", "revision")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[ConfigValue]
    next_page_token: str
    revision: int
    def __init__(self, values: _Optional[_Iterable[_Union[ConfigValue, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class SetValueRequest(_message.Message):
    __slots__ = ("environment", "key", "value", "description", "expected_revision", "create_only", "reason")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    value: _struct_pb2.Value
    description: str
    expected_revision: int
    create_only: bool
    reason: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., description: _Optional[str] = ..., expected_revision: _Optional[int] = ..., create_only: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class SetValueResponse(_message.Message):
    __slots__ = ("value", "previous_revision")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_REVISION_FIELD_NUMBER: _ClassVar[int]
    value: ConfigValue
    previous_revision: int
    def __init__(self, value: _Optional[_Union[ConfigValue, _Mapping]] = ..., previous_revision: _Optional[int] = ...) -> None: ...

class DeleteValueRequest(_message.Message):
    __slots__ = ("environment", "key", "expected_revision", "allow_missing", "reason")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    expected_revision: int
    allow_missing: bool
    reason: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., expected_revision: _Optional[int] = ..., allow_missing: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteValueResponse(_message.Message):
    __slots__ = ("revision", "previous_revision")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    previous_revision: int
    def __init__(self, revision: _Optional[int] = ..., previous_revision: _Optional[int] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("environment", "key", "page_size", "page_token")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    page_size: int
    page_token: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetHistoryResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ConfigChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[ConfigChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RollbackRequest(_message.Message):
    __slots__ = ("environment", "key", "revision", "expected_revision", "reason")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    revision: int
    expected_revision: int
    reason: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., revision: _Optional[int] = ..., expected_revision: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class RollbackResponse(_message.Message):
    __slots__ = ("value", "restored_revision")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    RESTORED_REVISION_FIELD_NUMBER: _ClassVar[int]
    value: ConfigValue
    restored_revision: int
    def __init__(self, value: _Optional[_Union[ConfigValue, _Mapping]] = ..., restored_revision: _Optional[int] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("environment", "key", "prefix", "start_revision", "progress_interval")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    START_REVISION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    prefix: str
    start_revision: int
    progress_interval: _duration_pb2.Duration
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., prefix: _Optional[str] = ..., start_revision: _Optional[int] = ..., progress_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WatchResponse(_message.Message):
    __slots__ = ("change", "progress")
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    change: ConfigChange
    progress: WatchProgress
    def __init__(self, change: _Optional[_Union[ConfigChange, _Mapping]] = ..., progress: _Optional[_Union[WatchProgress, _Mapping]] = ...) -> None: ...

class WatchProgress(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...
