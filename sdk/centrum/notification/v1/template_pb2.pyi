import datetime

from centrum.notification.v1 import notification_pb2 as _notification_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Template(_message.Message):
    __slots__ = ("id", "version", "name", "description", "channel", "category", "default_locale", "locales", "required_variables", "example_context", "change_note", "author", "create_time", "update_time")
    class LocalesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: TemplateVariant
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[TemplateVariant, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LOCALE_FIELD_NUMBER: _ClassVar[int]
    LOCALES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_VARIABLES_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_NOTE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: int
    name: str
    description: str
    channel: _notification_pb2.Channel
    category: str
    default_locale: str
    locales: _containers.MessageMap[str, TemplateVariant]
    required_variables: _containers.RepeatedScalarFieldContainer[str]
    example_context: _struct_pb2.Struct
    change_note: str
    author: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., category: _Optional[str] = ..., default_locale: _Optional[str] = ..., locales: _Optional[_Mapping[str, TemplateVariant]] = ..., required_variables: _Optional[_Iterable[str]] = ..., example_context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., change_note: _Optional[str] = ..., author: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TemplateVariant(_message.Message):
    __slots__ = ("subject", "text", "html", "data")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    subject: str
    text: str
    html: str
    data: str
    def __init__(self, subject: _Optional[str] = ..., text: _Optional[str] = ..., html: _Optional[str] = ..., data: _Optional[str] = ...) -> None: ...

class RenderError(_message.Message):
    __slots__ = ("missing_variable", "part", "line", "message")
    MISSING_VARIABLE_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    missing_variable: str
    part: str
    line: int
    message: str
    def __init__(self, missing_variable: _Optional[str] = ..., part: _Optional[str] = ..., line: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...
