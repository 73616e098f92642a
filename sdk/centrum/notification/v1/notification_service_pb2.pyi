import datetime

from centrum.notification.v1 import notification_pb2 as _notification_pb2
from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SendRequest(_message.Message):
    __slots__ = ("recipient", "template", "content", "context", "tags", "category", "schedule_at", "priority", "idempotency_key", "attachments", "expire_time", "overrides")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    recipient: _notification_pb2.Recipient
    template: _notification_pb2.TemplateRef
    content: _notification_pb2.Content
    context: _struct_pb2.Struct
    tags: _containers.RepeatedScalarFieldContainer[str]
    category: str
    schedule_at: _timestamp_pb2.Timestamp
    priority: _notification_pb2.Priority
    idempotency_key: str
    attachments: _containers.RepeatedCompositeFieldContainer[_notification_pb2.Attachment]
    expire_time: _timestamp_pb2.Timestamp
    overrides: _struct_pb2.Struct
    def __init__(self, recipient: _Optional[_Union[_notification_pb2.Recipient, _Mapping]] = ..., template: _Optional[_Union[_notification_pb2.TemplateRef, _Mapping]] = ..., content: _Optional[_Union[_notification_pb2.Content, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., category: _Optional[str] = ..., schedule_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[_Union[_notification_pb2.Priority, str]] = ..., idempotency_key: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[_notification_pb2.Attachment, _Mapping]]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overrides: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SendResponse(_message.Message):
    __slots__ = ("notification", "replayed")
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    notification: _notification_pb2.Notification
    replayed: bool
    def __init__(self, notification: _Optional[_Union[_notification_pb2.Notification, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class SendBatchRequest(_message.Message):
    __slots__ = ("template", "content", "context", "items", "tags", "category", "schedule_at", "priority", "attachments", "expire_time", "overrides")
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    template: _notification_pb2.TemplateRef
    content: _notification_pb2.Content
    context: _struct_pb2.Struct
    items: _containers.RepeatedCompositeFieldContainer[SendBatchItem]
    tags: _containers.RepeatedScalarFieldContainer[str]
    category: str
    schedule_at: _timestamp_pb2.Timestamp
    priority: _notification_pb2.Priority
    attachments: _containers.RepeatedCompositeFieldContainer[_notification_pb2.Attachment]
    expire_time: _timestamp_pb2.Timestamp
    overrides: _struct_pb2.Struct
    def __init__(self, template: _Optional[_Union[_notification_pb2.TemplateRef, _Mapping]] = ..., content: _Optional[_Union[_notification_pb2.Content, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., items: _Optional[_Iterable[_Union[SendBatchItem, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., category: _Optional[str] = ..., schedule_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[_Union[_notification_pb2.Priority, str]] = ..., attachments: _Optional[_Iterable[_Union[_notification_pb2.Attachment, _Mapping]]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overrides: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SendBatchItem(_message.Message):
    __slots__ = ("recipient", "context", "idempotency_key", "tags", "locale")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    recipient: _notification_pb2.Recipient
    context: _struct_pb2.Struct
    idempotency_key: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    locale: str
    def __init__(self, recipient: _Optional[_Union[_notification_pb2.Recipient, _Mapping]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., locale: _Optional[str] = ...) -> None: ...

class SendBatchResponse(_message.Message):
    __slots__ = ("batch_id", "results")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    results: _containers.RepeatedCompositeFieldContainer[SendBatchResult]
    def __init__(self, batch_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[SendBatchResult, _Mapping]]] = ...) -> None: ...

class SendBatchResult(_message.Message):
    __slots__ = ("code", "message", "notification", "replayed")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    notification: _notification_pb2.Notification
    replayed: bool
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., notification: _Optional[_Union[_notification_pb2.Notification, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetNotificationRequest(_message.Message):
    __slots__ = ("notification_id", "view")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    view: _notification_pb2.NotificationView
    def __init__(self, notification_id: _Optional[str] = ..., view: _Optional[_Union[_notification_pb2.NotificationView, str]] = ...) -> None: ...

class GetNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: _notification_pb2.Notification
    def __init__(self, notification: _Optional[_Union[_notification_pb2.Notification, _Mapping]] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses", "tags", "recipient", "subscriber_id", "channel", "category", "template_id", "batch_id", "create_time_start", "create_time_end", "view")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_START_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_END_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[_notification_pb2.NotificationStatus]
    tags: _containers.RepeatedScalarFieldContainer[str]
    recipient: str
    subscriber_id: str
    channel: _notification_pb2.Channel
    category: str
    template_id: str
    batch_id: str
    create_time_start: _timestamp_pb2.Timestamp
    create_time_end: _timestamp_pb2.Timestamp
    view: _notification_pb2.NotificationView
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_notification_pb2.NotificationStatus, str]]] = ..., tags: _Optional[_Iterable[str]] = ..., recipient: _Optional[str] = ..., subscriber_id: _Optional[str] = ..., channel: _Optional[_Union[_notification_pb2.Channel, str]] = ..., category: _Optional[str] = ..., template_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., create_time_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., view: _Optional[_Union[_notification_pb2.NotificationView, str]] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[_notification_pb2.Notification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[_notification_pb2.Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelNotificationRequest(_message.Message):
    __slots__ = ("notification_id", "reason")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    reason: str
    def __init__(self, notification_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: _notification_pb2.Notification
    def __init__(self, notification: _Optional[_Union[_notification_pb2.Notification, _Mapping]] = ...) -> None: ...

class RetryNotificationRequest(_message.Message):
    __slots__ = ("notification_id", "reason")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    reason: str
    def __init__(self, notification_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RetryNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: _notification_pb2.Notification
    def __init__(self, notification: _Optional[_Union[_notification_pb2.Notification, _Mapping]] = ...) -> None: ...
