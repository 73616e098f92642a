import datetime

from centrum.policy.v1 import policy_pb2 as _policy_pb2
from centrum.storage.v1 import bucket_pb2 as _bucket_pb2
from centrum.storage.v1 import object_pb2 as _object_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignedUrlMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNED_URL_METHOD_UNSPECIFIED: _ClassVar[SignedUrlMethod]
    SIGNED_URL_METHOD_GET: _ClassVar[SignedUrlMethod]
    SIGNED_URL_METHOD_PUT: _ClassVar[SignedUrlMethod]
SIGNED_URL_METHOD_UNSPECIFIED: SignedUrlMethod
SIGNED_URL_METHOD_GET: SignedUrlMethod
SIGNED_URL_METHOD_PUT: SignedUrlMethod

class UploadRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("bucket", "key", "content_type", "size_bytes", "sha256", "metadata", "access", "if_none_match", "if_match", "cache_control", "content_disposition")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    IF_NONE_MATCH_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    CACHE_CONTROL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    content_type: str
    size_bytes: int
    sha256: str
    metadata: _containers.ScalarMap[str, str]
    access: _object_pb2.ObjectAccess
    if_none_match: bool
    if_match: str
    cache_control: str
    content_disposition: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., access: _Optional[_Union[_object_pb2.ObjectAccess, str]] = ..., if_none_match: _Optional[bool] = ..., if_match: _Optional[str] = ..., cache_control: _Optional[str] = ..., content_disposition: _Optional[str] = ...) -> None: ...

class UploadResponse(_message.Message):
    __slots__ = ("object",)
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    object: _object_pb2.Object
    def __init__(self, object: _Optional[_Union[_object_pb2.Object, _Mapping]] = ...) -> None: ...

class DownloadRequest(_message.Message):
    __slots__ = ("bucket", "key", "range", "if_match")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    range: ByteRange
    if_match: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., range: _Optional[_Union[ByteRange, _Mapping]] = ..., if_match: _Optional[str] = ...) -> None: ...

class ByteRange(_message.Message):
    __slots__ = ("offset", "length")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    offset: int
    length: int
    def __init__(self, offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class DownloadResponse(_message.Message):
    __slots__ = ("object", "chunk")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    object: _object_pb2.Object
    chunk: bytes
    def __init__(self, object: _Optional[_Union[_object_pb2.Object, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class StatObjectRequest(_message.Message):
    __slots__ = ("bucket", "key")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class StatObjectResponse(_message.Message):
    __slots__ = ("object",)
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    object: _object_pb2.Object
    def __init__(self, object: _Optional[_Union[_object_pb2.Object, _Mapping]] = ...) -> None: ...

class ListObjectsRequest(_message.Message):
    __slots__ = ("bucket", "prefix", "delimiter", "page_size", "page_token")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    prefix: str
    delimiter: str
    page_size: int
    page_token: str
    def __init__(self, bucket: _Optional[str] = ..., prefix: _Optional[str] = ..., delimiter: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListObjectsResponse(_message.Message):
    __slots__ = ("objects", "common_prefixes", "next_page_token")
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    COMMON_PREFIXES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    objects: _containers.RepeatedCompositeFieldContainer[_object_pb2.Object]
    common_prefixes: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, objects: _Optional[_Iterable[_Union[_object_pb2.Object, _Mapping]]] = ..., common_prefixes: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteObjectRequest(_message.Message):
    __slots__ = ("bucket", "key", "if_match")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    if_match: str
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., if_match: _Optional[str] = ...) -> None: ...

class DeleteObjectResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CopyObjectRequest(_message.Message):
    __slots__ = ("source_bucket", "source_key", "source_if_match", "destination_bucket", "destination_key", "if_none_match", "replace_metadata", "metadata", "content_type", "cache_control", "content_disposition", "access")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SOURCE_BUCKET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_KEY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_IF_MATCH_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_BUCKET_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_KEY_FIELD_NUMBER: _ClassVar[int]
    IF_NONE_MATCH_FIELD_NUMBER: _ClassVar[int]
    REPLACE_METADATA_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CACHE_CONTROL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    source_bucket: str
    source_key: str
    source_if_match: str
    destination_bucket: str
    destination_key: str
    if_none_match: bool
    replace_metadata: bool
    metadata: _containers.ScalarMap[str, str]
    content_type: str
    cache_control: str
    content_disposition: str
    access: _object_pb2.ObjectAccess
    def __init__(self, source_bucket: _Optional[str] = ..., source_key: _Optional[str] = ..., source_if_match: _Optional[str] = ..., destination_bucket: _Optional[str] = ..., destination_key: _Optional[str] = ..., if_none_match: _Optional[bool] = ..., replace_metadata: _Optional[bool] = ..., metadata: _Optional[_Mapping[str, str]] = ..., content_type: _Optional[str] = ..., cache_control: _Optional[str] = ..., content_disposition: _Optional[str] = ..., access: _Optional[_Union[_object_pb2.ObjectAccess, str]] = ...) -> None: ...

class CopyObjectResponse(_message.Message):
    __slots__ = ("object",)
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    object: _object_pb2.Object
    def __init__(self, object: _Optional[_Union[_object_pb2.Object, _Mapping]] = ...) -> None: ...

class CreateSignedUrlRequest(_message.Message):
    __slots__ = ("bucket", "key", "method", "ttl", "content_type", "size_bytes")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    method: SignedUrlMethod
    ttl: _duration_pb2.Duration
    content_type: str
    size_bytes: int
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., method: _Optional[_Union[SignedUrlMethod, str]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class CreateSignedUrlResponse(_message.Message):
    __slots__ = ("url", "expire_time", "required_headers")
    class RequiredHeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_HEADERS_FIELD_NUMBER: _ClassVar[int]
    url: str
    expire_time: _timestamp_pb2.Timestamp
    required_headers: _containers.ScalarMap[str, str]
    def __init__(self, url: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., required_headers: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SetObjectAccessRequest(_message.Message):
    __slots__ = ("bucket", "key", "access")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    key: str
    access: _object_pb2.ObjectAccess
    def __init__(self, bucket: _Optional[str] = ..., key: _Optional[str] = ..., access: _Optional[_Union[_object_pb2.ObjectAccess, str]] = ...) -> None: ...

class SetObjectAccessResponse(_message.Message):
    __slots__ = ("object",)
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    object: _object_pb2.Object
    def __init__(self, object: _Optional[_Union[_object_pb2.Object, _Mapping]] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetUsageResponse(_message.Message):
    __slots__ = ("size_bytes", "object_count", "quota_bytes", "buckets", "compute_time")
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    OBJECT_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUOTA_BYTES_FIELD_NUMBER: _ClassVar[int]
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    size_bytes: int
    object_count: int
    quota_bytes: int
    buckets: _containers.RepeatedCompositeFieldContainer[BucketUsage]
    compute_time: _timestamp_pb2.Timestamp
    def __init__(self, size_bytes: _Optional[int] = ..., object_count: _Optional[int] = ..., quota_bytes: _Optional[int] = ..., buckets: _Optional[_Iterable[_Union[BucketUsage, _Mapping]]] = ..., compute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BucketUsage(_message.Message):
    __slots__ = ("bucket", "size_bytes", "object_count")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    OBJECT_COUNT_FIELD_NUMBER: _ClassVar[int]
    bucket: str
    size_bytes: int
    object_count: int
    def __init__(self, bucket: _Optional[str] = ..., size_bytes: _Optional[int] = ..., object_count: _Optional[int] = ...) -> None: ...

class CreateBucketRequest(_message.Message):
    __slots__ = ("name", "settings")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    settings: _bucket_pb2.BucketSettings
    def __init__(self, name: _Optional[str] = ..., settings: _Optional[_Union[_bucket_pb2.BucketSettings, _Mapping]] = ...) -> None: ...

class CreateBucketResponse(_message.Message):
    __slots__ = ("bucket",)
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    bucket: _bucket_pb2.Bucket
    def __init__(self, bucket: _Optional[_Union[_bucket_pb2.Bucket, _Mapping]] = ...) -> None: ...

class GetBucketRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetBucketResponse(_message.Message):
    __slots__ = ("bucket",)
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    bucket: _bucket_pb2.Bucket
    def __init__(self, bucket: _Optional[_Union[_bucket_pb2.Bucket, _Mapping]] = ...) -> None: ...

class ListBucketsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBucketsResponse(_message.Message):
    __slots__ = ("buckets", "next_page_token")
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[_bucket_pb2.Bucket]
    next_page_token: str
    def __init__(self, buckets: _Optional[_Iterable[_Union[_bucket_pb2.Bucket, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateBucketRequest(_message.Message):
    __slots__ = ("name", "settings", "update_mask")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    name: str
    settings: _bucket_pb2.BucketSettings
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, name: _Optional[str] = ..., settings: _Optional[_Union[_bucket_pb2.BucketSettings, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateBucketResponse(_message.Message):
    __slots__ = ("bucket",)
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    bucket: _bucket_pb2.Bucket
    def __init__(self, bucket: _Optional[_Union[_bucket_pb2.Bucket, _Mapping]] = ...) -> None: ...

class DeleteBucketRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteBucketResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
