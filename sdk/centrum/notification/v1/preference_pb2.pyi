import datetime

from centrum.notification.v1 import notification_pb2 as _notification_pb2
from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SuppressionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUPPRESSION_REASON_UNSPECIFIED: _ClassVar[SuppressionReason]
    SUPPRESSION_REASON_HARD_BOUNCE: _ClassVar[SuppressionReason]
    SUPPRESSION_REASON_SOFT_BOUNCE: _ClassVar[SuppressionReason]
    SUPPRESSION_REASON_COMPLAINT: _ClassVar[SuppressionReason]
    SUPPRESSION_REASON_UNSUBSCRIBED: _ClassVar[SuppressionReason]
    SUPPRESSION_REASON_INVALID: _ClassVar[SuppressionReason]
    SUPPRESSION_REASON_MANUAL: _ClassVar[SuppressionReason]
SUPPRESSION_REASON_UNSPECIFIED: SuppressionReason
SUPPRESSION_REASON_HARD_BOUNCE: SuppressionReason
SUPPRESSION_REASON_SOFT_BOUNCE: SuppressionReason
SUPPRESSION_REASON_COMPLAINT: SuppressionReason
SUPPRESSION_REASON_UNSUBSCRIBED: SuppressionReason
SUPPRESSION_REASON_INVALID: SuppressionReason
SUPPRESSION_REASON_MANUAL: SuppressionReason

class Preferences(_message.Message):
    __slots__ = ("subscriber_id", "rules", "update_time")
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    rules: _containers.RepeatedCompositeFieldContainer[PreferenceRule]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, subscriber_id: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[PreferenceRule, _Mapping]]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PreferenceRule(_message.Message):
    __slots__ = ("category", "channel", "enabled")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    category: str
    channel: _notification_pb2.Channel
    enabled: bool
    def __init__(self, category: _Optional[str] = ..., channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., enabled: _Optional[bool] = ...) -> None: ...

class Suppression(_message.Message):
    __slots__ = ("id", "channel", "address", "reason", "detail", "notification_id", "create_time", "expire_time", "creator")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel: _notification_pb2.Channel
    address: str
    reason: SuppressionReason
    detail: str
    notification_id: str
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    creator: str
    def __init__(self, id: _Optional[str] = ..., channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., address: _Optional[str] = ..., reason: _Optional[_Union[SuppressionReason, str]] = ..., detail: _Optional[str] = ..., notification_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., creator: _Optional[str] = ...) -> None: ...
