import datetime

from centrum.storage.v1 import object_pb2 as _object_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Bucket(_message.Message):
    __slots__ = ("name", "settings", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    settings: BucketSettings
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., settings: _Optional[_Union[BucketSettings, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BucketSettings(_message.Message):
    __slots__ = ("max_object_size_bytes", "allowed_content_types", "default_access", "allow_public_read")
    MAX_OBJECT_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_CONTENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ACCESS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PUBLIC_READ_FIELD_NUMBER: _ClassVar[int]
    max_object_size_bytes: int
    allowed_content_types: _containers.RepeatedScalarFieldContainer[str]
    default_access: _object_pb2.ObjectAccess
    allow_public_read: bool
    def __init__(self, max_object_size_bytes: _Optional[int] = ..., allowed_content_types: _Optional[_Iterable[str]] = ..., default_access: _Optional[_Union[_object_pb2.ObjectAccess, str]] = ..., allow_public_read: _Optional[bool] = ...) -> None: ...
