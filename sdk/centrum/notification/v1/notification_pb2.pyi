import datetime

from centrum.policy.v1 import policy_pb2 as _policy_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]
    CHANNEL_PUSH: _ClassVar[Channel]
    CHANNEL_WEBHOOK: _ClassVar[Channel]

class NotificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_STATUS_UNSPECIFIED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_QUEUED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SCHEDULED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SENDING: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SENT: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_RETRYING: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_DEAD: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_CANCELLED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SUPPRESSED: _ClassVar[NotificationStatus]

class SuppressedBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUPPRESSED_BY_UNSPECIFIED: _ClassVar[SuppressedBy]
    SUPPRESSED_BY_PREFERENCE: _ClassVar[SuppressedBy]
    SUPPRESSED_BY_SUPPRESSION_LIST: _ClassVar[SuppressedBy]

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]
    PRIORITY_NORMAL: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]

class NotificationView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_VIEW_UNSPECIFIED: _ClassVar[NotificationView]
    NOTIFICATION_VIEW_BASIC: _ClassVar[NotificationView]
    NOTIFICATION_VIEW_FULL: _ClassVar[NotificationView]

class PushPlatform(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_PLATFORM_UNSPECIFIED: _ClassVar[PushPlatform]
    PUSH_PLATFORM_ANDROID: _ClassVar[PushPlatform]
    PUSH_PLATFORM_IOS: _ClassVar[PushPlatform]
    PUSH_PLATFORM_WEB: _ClassVar[PushPlatform]

class AttemptOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTEMPT_OUTCOME_UNSPECIFIED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_SUCCEEDED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_FAILED_RETRYABLE: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_FAILED_PERMANENT: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_LEASE_EXPIRED: _ClassVar[AttemptOutcome]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_EMAIL: Channel
CHANNEL_SMS: Channel
CHANNEL_PUSH: Channel
CHANNEL_WEBHOOK: Channel
NOTIFICATION_STATUS_UNSPECIFIED: NotificationStatus
NOTIFICATION_STATUS_QUEUED: NotificationStatus
NOTIFICATION_STATUS_SCHEDULED: NotificationStatus
NOTIFICATION_STATUS_SENDING: NotificationStatus
NOTIFICATION_STATUS_SENT: NotificationStatus
NOTIFICATION_STATUS_RETRYING: NotificationStatus
NOTIFICATION_STATUS_DEAD: NotificationStatus
NOTIFICATION_STATUS_CANCELLED: NotificationStatus
NOTIFICATION_STATUS_SUPPRESSED: NotificationStatus
SUPPRESSED_BY_UNSPECIFIED: SuppressedBy
SUPPRESSED_BY_PREFERENCE: SuppressedBy
SUPPRESSED_BY_SUPPRESSION_LIST: SuppressedBy
PRIORITY_UNSPECIFIED: Priority
PRIORITY_LOW: Priority
PRIORITY_NORMAL: Priority
PRIORITY_HIGH: Priority
NOTIFICATION_VIEW_UNSPECIFIED: NotificationView
NOTIFICATION_VIEW_BASIC: NotificationView
NOTIFICATION_VIEW_FULL: NotificationView
PUSH_PLATFORM_UNSPECIFIED: PushPlatform
PUSH_PLATFORM_ANDROID: PushPlatform
PUSH_PLATFORM_IOS: PushPlatform
PUSH_PLATFORM_WEB: PushPlatform
ATTEMPT_OUTCOME_UNSPECIFIED: AttemptOutcome
ATTEMPT_OUTCOME_SUCCEEDED: AttemptOutcome
ATTEMPT_OUTCOME_FAILED_RETRYABLE: AttemptOutcome
ATTEMPT_OUTCOME_FAILED_PERMANENT: AttemptOutcome
ATTEMPT_OUTCOME_LEASE_EXPIRED: AttemptOutcome

class Notification(_message.Message):
    __slots__ = ("id", "channel", "recipient", "status", "status_message", "suppressed_by", "template", "content", "attachments", "tags", "category", "priority", "idempotency_key", "batch_id", "schedule_at", "expire_time", "attempt_count", "next_attempt_time", "attempts", "history", "create_time", "update_time", "send_time", "sender")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_BY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel: Channel
    recipient: Recipient
    status: NotificationStatus
    status_message: str
    suppressed_by: SuppressedBy
    template: TemplateRef
    content: Content
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    tags: _containers.RepeatedScalarFieldContainer[str]
    category: str
    priority: Priority
    idempotency_key: str
    batch_id: str
    schedule_at: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    attempt_count: int
    next_attempt_time: _timestamp_pb2.Timestamp
    attempts: _containers.RepeatedCompositeFieldContainer[Attempt]
    history: _containers.RepeatedCompositeFieldContainer[StatusChange]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    send_time: _timestamp_pb2.Timestamp
    sender: str
    def __init__(self, id: _Optional[str] = ..., channel: _Optional[_Union[Channel, str]] = ..., recipient: _Optional[_Union[Recipient, _Mapping]] = ..., status: _Optional[_Union[NotificationStatus, str]] = ..., status_message: _Optional[str] = ..., suppressed_by: _Optional[_Union[SuppressedBy, str]] = ..., template: _Optional[_Union[TemplateRef, _Mapping]] = ..., content: _Optional[_Union[Content, _Mapping]] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., tags: _Optional[_Iterable[str]] = ..., category: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., idempotency_key: _Optional[str] = ..., batch_id: _Optional[str] = ..., schedule_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt_count: _Optional[int] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[_Iterable[_Union[Attempt, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[StatusChange, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., send_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sender: _Optional[str] = ...) -> None: ...

class Recipient(_message.Message):
    __slots__ = ("email", "sms", "push", "webhook", "subscriber_id")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SMS_FIELD_NUMBER: _ClassVar[int]
    PUSH_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    email: EmailRecipient
    sms: SmsRecipient
    push: PushRecipient
    webhook: WebhookRecipient
    subscriber_id: str
    def __init__(self, email: _Optional[_Union[EmailRecipient, _Mapping]] = ..., sms: _Optional[_Union[SmsRecipient, _Mapping]] = ..., push: _Optional[_Union[PushRecipient, _Mapping]] = ..., webhook: _Optional[_Union[WebhookRecipient, _Mapping]] = ..., subscriber_id: _Optional[str] = ...) -> None: ...

class EmailRecipient(_message.Message):
    __slots__ = ("to", "cc", "bcc", "reply_to", "sender", "headers")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TO_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    BCC_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    to: _containers.RepeatedCompositeFieldContainer[EmailAddress]
    cc: _containers.RepeatedCompositeFieldContainer[EmailAddress]
    bcc: _containers.RepeatedCompositeFieldContainer[EmailAddress]
    reply_to: _containers.RepeatedCompositeFieldContainer[EmailAddress]
    sender: EmailAddress
    headers: _containers.ScalarMap[str, str]
    def __init__(self, to: _Optional[_Iterable[_Union[EmailAddress, _Mapping]]] = ..., cc: _Optional[_Iterable[_Union[EmailAddress, _Mapping]]] = ..., bcc: _Optional[_Iterable[_Union[EmailAddress, _Mapping]]] = ..., reply_to: _Optional[_Iterable[_Union[EmailAddress, _Mapping]]] = ..., sender: _Optional[_Union[EmailAddress, _Mapping]] = ..., headers: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EmailAddress(_message.Message):
    __slots__ = ("address", "display_name")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    address: str
    display_name: str
    def __init__(self, address: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class SmsRecipient(_message.Message):
    __slots__ = ("phone_number", "sender_id")
    PHONE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    phone_number: str
    sender_id: str
    def __init__(self, phone_number: _Optional[str] = ..., sender_id: _Optional[str] = ...) -> None: ...

class PushRecipient(_message.Message):
    __slots__ = ("device_token", "platform")
    DEVICE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    device_token: str
    platform: PushPlatform
    def __init__(self, device_token: _Optional[str] = ..., platform: _Optional[_Union[PushPlatform, str]] = ...) -> None: ...

class WebhookRecipient(_message.Message):
    __slots__ = ("url", "headers", "signing_secret")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    SIGNING_SECRET_FIELD_NUMBER: _ClassVar[int]
    url: str
    headers: _containers.ScalarMap[str, str]
    signing_secret: str
    def __init__(self, url: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., signing_secret: _Optional[str] = ...) -> None: ...

class TemplateRef(_message.Message):
    __slots__ = ("template_id", "locale", "version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    locale: str
    version: int
    def __init__(self, template_id: _Optional[str] = ..., locale: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class Content(_message.Message):
    __slots__ = ("subject", "text", "html", "data")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    subject: str
    text: str
    html: str
    data: _struct_pb2.Value
    def __init__(self, subject: _Optional[str] = ..., text: _Optional[str] = ..., html: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class Attachment(_message.Message):
    __slots__ = ("filename", "content_type", "data", "object", "content_id", "size_bytes")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    data: bytes
    object: StorageObjectRef
    content_id: str
    size_bytes: int
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ..., object: _Optional[_Union[StorageObjectRef, _Mapping]] = ..., content_id: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class StorageObjectRef(_message.Message):
    __slots__ = ("bucket", "key", "etag")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    etag: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class Attempt(_message.Message):
    __slots__ = ("number", "provider", "worker", "start_time", "end_time", "outcome", "provider_response_code", "provider_response_message", "provider_message_id", "next_attempt_time")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_RESPONSE_CODE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_RESPONSE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    number: int
    provider: str
    worker: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    outcome: AttemptOutcome
    provider_response_code: str
    provider_response_message: str
    provider_message_id: str
    next_attempt_time: _timestamp_pb2.Timestamp
    def __init__(self, number: _Optional[int] = ..., provider: _Optional[str] = ..., worker: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[AttemptOutcome, str]] = ..., provider_response_code: _Optional[str] = ..., provider_response_message: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StatusChange(_message.Message):
    __slots__ = ("status", "time", "message", "actor")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    status: NotificationStatus
    time: _timestamp_pb2.Timestamp
    message: str
    actor: str
    def __init__(self, status: _Optional[_Union[NotificationStatus, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...
