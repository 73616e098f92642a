import datetime

from centrum.notification.v1 import notification_pb2 as _notification_pb2
from centrum.notification.v1 import preference_pb2 as _preference_pb2
from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetPreferencesRequest(_message.Message):
    __slots__ = ("subscriber_id",)
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    def __init__(self, subscriber_id: _Optional[str] = ...) -> None: ...

class GetPreferencesResponse(_message.Message):
    __slots__ = ("preferences",)
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    preferences: _preference_pb2.Preferences
    def __init__(self, preferences: _Optional[_Union[_preference_pb2.Preferences, _Mapping]] = ...) -> None: ...

class UpdatePreferencesRequest(_message.Message):
    __slots__ = ("subscriber_id", "rules", "replace")
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    rules: _containers.RepeatedCompositeFieldContainer[_preference_pb2.PreferenceRule]
    replace: bool
    def __init__(self, subscriber_id: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[_preference_pb2.PreferenceRule, _Mapping]]] = ..., replace: _Optional[bool] = ...) -> None: ...

class UpdatePreferencesResponse(_message.Message):
    __slots__ = ("preferences",)
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    preferences: _preference_pb2.Preferences
    def __init__(self, preferences: _Optional[_Union[_preference_pb2.Preferences, _Mapping]] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("token", "all_categories")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ALL_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    token: str
    all_categories: bool
    def __init__(self, token: _Optional[str] = ..., all_categories: _Optional[bool] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ("channel", "category")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    channel: _notification_pb2.Channel
    category: str
    def __init__(self, channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., category: _Optional[str] = ...) -> None: ...

class ListSuppressionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "channel", "reason", "address")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    channel: _notification_pb2.Channel
    reason: _preference_pb2.SuppressionReason
    address: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., reason: _Optional[_Union[_preference_pb2.SuppressionReason, str]] = ..., address: _Optional[str] = ...) -> None: ...

class ListSuppressionsResponse(_message.Message):
    __slots__ = ("suppressions", "next_page_token")
    SUPPRESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    suppressions: _containers.RepeatedCompositeFieldContainer[_preference_pb2.Suppression]
    next_page_token: str
    def __init__(self, suppressions: _Optional[_Iterable[_Union[_preference_pb2.Suppression, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AddSuppressionRequest(_message.Message):
    __slots__ = ("channel", "address", "reason", "detail", "expire_time")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    channel: _notification_pb2.Channel
    address: str
    reason: _preference_pb2.SuppressionReason
    detail: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., address: _Optional[str] = ..., reason: _Optional[_Union[_preference_pb2.SuppressionReason, str]] = ..., detail: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AddSuppressionResponse(_message.Message):
    __slots__ = ("suppression",)
    SUPPRESSION_FIELD_NUMBER: _ClassVar[int]
    suppression: _preference_pb2.Suppression
    def __init__(self, suppression: _Optional[_Union[_preference_pb2.Suppression, _Mapping]] = ...) -> None: ...

class RemoveSuppressionRequest(_message.Message):
    __slots__ = ("suppression_id",)
    SUPPRESSION_ID_FIELD_NUMBER: _ClassVar[int]
    suppression_id: str
    def __init__(self, suppression_id: _Optional[str] = ...) -> None: ...

class RemoveSuppressionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
