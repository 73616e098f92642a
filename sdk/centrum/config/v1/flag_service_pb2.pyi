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

class VariantType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VARIANT_TYPE_UNSPECIFIED: _ClassVar[VariantType]
    VARIANT_TYPE_BOOL: _ClassVar[VariantType]
    VARIANT_TYPE_STRING: _ClassVar[VariantType]
    VARIANT_TYPE_NUMBER: _ClassVar[VariantType]
    VARIANT_TYPE_OBJECT: _ClassVar[VariantType]

class ConditionOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONDITION_OPERATOR_UNSPECIFIED: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_EQUALS: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_NOT_EQUALS: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_IN: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_NOT_IN: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_CONTAINS: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_STARTS_WITH: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_ENDS_WITH: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_GREATER_THAN: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_GREATER_OR_EQUAL: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_LESS_THAN: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_LESS_OR_EQUAL: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_SEMVER_EQUALS: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_SEMVER_GREATER_THAN: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_SEMVER_LESS_THAN: _ClassVar[ConditionOperator]
    CONDITION_OPERATOR_IN_SEGMENT: _ClassVar[ConditionOperator]

class EvaluationReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVALUATION_REASON_UNSPECIFIED: _ClassVar[EvaluationReason]
    EVALUATION_REASON_STATIC: _ClassVar[EvaluationReason]
    EVALUATION_REASON_TARGETING_MATCH: _ClassVar[EvaluationReason]
    EVALUATION_REASON_SPLIT: _ClassVar[EvaluationReason]
    EVALUATION_REASON_DISABLED: _ClassVar[EvaluationReason]
    EVALUATION_REASON_DEFAULT: _ClassVar[EvaluationReason]
    EVALUATION_REASON_ERROR: _ClassVar[EvaluationReason]

class EvaluationErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVALUATION_ERROR_CODE_UNSPECIFIED: _ClassVar[EvaluationErrorCode]
    EVALUATION_ERROR_CODE_FLAG_NOT_FOUND: _ClassVar[EvaluationErrorCode]
    EVALUATION_ERROR_CODE_TYPE_MISMATCH: _ClassVar[EvaluationErrorCode]
    EVALUATION_ERROR_CODE_PARSE_ERROR: _ClassVar[EvaluationErrorCode]
    EVALUATION_ERROR_CODE_GENERAL: _ClassVar[EvaluationErrorCode]

class FlagChangeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FLAG_CHANGE_TYPE_UNSPECIFIED: _ClassVar[FlagChangeType]
    FLAG_CHANGE_TYPE_FLAG_PUT: _ClassVar[FlagChangeType]
    FLAG_CHANGE_TYPE_FLAG_DELETE: _ClassVar[FlagChangeType]
    FLAG_CHANGE_TYPE_SEGMENT_PUT: _ClassVar[FlagChangeType]
    FLAG_CHANGE_TYPE_SEGMENT_DELETE: _ClassVar[FlagChangeType]
VARIANT_TYPE_UNSPECIFIED: VariantType
VARIANT_TYPE_BOOL: VariantType
VARIANT_TYPE_STRING: VariantType
VARIANT_TYPE_NUMBER: VariantType
VARIANT_TYPE_OBJECT: VariantType
CONDITION_OPERATOR_UNSPECIFIED: ConditionOperator
CONDITION_OPERATOR_EQUALS: ConditionOperator
CONDITION_OPERATOR_NOT_EQUALS: ConditionOperator
CONDITION_OPERATOR_IN: ConditionOperator
CONDITION_OPERATOR_NOT_IN: ConditionOperator
CONDITION_OPERATOR_CONTAINS: ConditionOperator
CONDITION_OPERATOR_STARTS_WITH: ConditionOperator
CONDITION_OPERATOR_ENDS_WITH: ConditionOperator
CONDITION_OPERATOR_GREATER_THAN: ConditionOperator
CONDITION_OPERATOR_GREATER_OR_EQUAL: ConditionOperator
CONDITION_OPERATOR_LESS_THAN: ConditionOperator
CONDITION_OPERATOR_LESS_OR_EQUAL: ConditionOperator
CONDITION_OPERATOR_SEMVER_EQUALS: ConditionOperator
CONDITION_OPERATOR_SEMVER_GREATER_THAN: ConditionOperator
CONDITION_OPERATOR_SEMVER_LESS_THAN: ConditionOperator
CONDITION_OPERATOR_IN_SEGMENT: ConditionOperator
EVALUATION_REASON_UNSPECIFIED: EvaluationReason
EVALUATION_REASON_STATIC: EvaluationReason
EVALUATION_REASON_TARGETING_MATCH: EvaluationReason
EVALUATION_REASON_SPLIT: EvaluationReason
EVALUATION_REASON_DISABLED: EvaluationReason
EVALUATION_REASON_DEFAULT: EvaluationReason
EVALUATION_REASON_ERROR: EvaluationReason
EVALUATION_ERROR_CODE_UNSPECIFIED: EvaluationErrorCode
EVALUATION_ERROR_CODE_FLAG_NOT_FOUND: EvaluationErrorCode
EVALUATION_ERROR_CODE_TYPE_MISMATCH: EvaluationErrorCode
EVALUATION_ERROR_CODE_PARSE_ERROR: EvaluationErrorCode
EVALUATION_ERROR_CODE_GENERAL: EvaluationErrorCode
FLAG_CHANGE_TYPE_UNSPECIFIED: FlagChangeType
FLAG_CHANGE_TYPE_FLAG_PUT: FlagChangeType
FLAG_CHANGE_TYPE_FLAG_DELETE: FlagChangeType
FLAG_CHANGE_TYPE_SEGMENT_PUT: FlagChangeType
FLAG_CHANGE_TYPE_SEGMENT_DELETE: FlagChangeType

class Flag(_message.Message):
    __slots__ = ("environment", "key", "description", "enabled", "variant_type", "variants", "default_variant", "off_variant", "rules", "metadata", "version", "revision", "create_time", "update_time", "updated_by")
    class VariantsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    VARIANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VARIANT_FIELD_NUMBER: _ClassVar[int]
    OFF_VARIANT_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    description: str
    enabled: bool
    variant_type: VariantType
    variants: _containers.MessageMap[str, _struct_pb2.Value]
    default_variant: str
    off_variant: str
    rules: _containers.RepeatedCompositeFieldContainer[TargetingRule]
    metadata: _containers.ScalarMap[str, str]
    version: int
    revision: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., description: _Optional[str] = ..., enabled: _Optional[bool] = ..., variant_type: _Optional[_Union[VariantType, str]] = ..., variants: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., default_variant: _Optional[str] = ..., off_variant: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[TargetingRule, _Mapping]]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., version: _Optional[int] = ..., revision: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class TargetingRule(_message.Message):
    __slots__ = ("id", "description", "conditions", "variant", "rollout")
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    description: str
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    variant: str
    rollout: FractionalRollout
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., variant: _Optional[str] = ..., rollout: _Optional[_Union[FractionalRollout, _Mapping]] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("attribute", "operator", "values", "case_insensitive", "negate")
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    CASE_INSENSITIVE_FIELD_NUMBER: _ClassVar[int]
    NEGATE_FIELD_NUMBER: _ClassVar[int]
    attribute: str
    operator: ConditionOperator
    values: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    case_insensitive: bool
    negate: bool
    def __init__(self, attribute: _Optional[str] = ..., operator: _Optional[_Union[ConditionOperator, str]] = ..., values: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., case_insensitive: _Optional[bool] = ..., negate: _Optional[bool] = ...) -> None: ...

class FractionalRollout(_message.Message):
    __slots__ = ("variants", "bucket_by", "salt")
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_BY_FIELD_NUMBER: _ClassVar[int]
    SALT_FIELD_NUMBER: _ClassVar[int]
    variants: _containers.RepeatedCompositeFieldContainer[WeightedVariant]
    bucket_by: str
    salt: str
    def __init__(self, variants: _Optional[_Iterable[_Union[WeightedVariant, _Mapping]]] = ..., bucket_by: _Optional[str] = ..., salt: _Optional[str] = ...) -> None: ...

class WeightedVariant(_message.Message):
    __slots__ = ("variant", "weight")
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    variant: str
    weight: int
    def __init__(self, variant: _Optional[str] = ..., weight: _Optional[int] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("environment", "key", "description", "conditions", "version", "revision", "create_time", "update_time", "updated_by")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    description: str
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    version: int
    revision: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., description: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., version: _Optional[int] = ..., revision: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class EvaluationContext(_message.Message):
    __slots__ = ("targeting_key", "attributes")
    TARGETING_KEY_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    targeting_key: str
    attributes: _struct_pb2.Struct
    def __init__(self, targeting_key: _Optional[str] = ..., attributes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class EvaluationResult(_message.Message):
    __slots__ = ("flag_key", "value", "variant", "variant_type", "reason", "error_code", "error_message", "rule_id", "flag_version", "flag_metadata")
    class FlagMetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FLAG_KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    VARIANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    FLAG_VERSION_FIELD_NUMBER: _ClassVar[int]
    FLAG_METADATA_FIELD_NUMBER: _ClassVar[int]
    flag_key: str
    value: _struct_pb2.Value
    variant: str
    variant_type: VariantType
    reason: EvaluationReason
    error_code: EvaluationErrorCode
    error_message: str
    rule_id: str
    flag_version: int
    flag_metadata: _containers.ScalarMap[str, str]
    def __init__(self, flag_key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., variant: _Optional[str] = ..., variant_type: _Optional[_Union[VariantType, str]] = ..., reason: _Optional[_Union[EvaluationReason, str]] = ..., error_code: _Optional[_Union[EvaluationErrorCode, str]] = ..., error_message: _Optional[str] = ..., rule_id: _Optional[str] = ..., flag_version: _Optional[int] = ..., flag_metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetFlagRequest(_message.Message):
    __slots__ = ("environment", "key")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class GetFlagResponse(_message.Message):
    __slots__ = ("flag",)
    FLAG_FIELD_NUMBER: _ClassVar[int]
    flag: Flag
    def __init__(self, flag: _Optional[_Union[Flag, _Mapping]] = ...) -> None: ...

class ListFlagsRequest(_message.Message):
    __slots__ = ("environment", "prefix", "page_size", "page_token")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    environment: str
    prefix: str
    page_size: int
    page_token: str
    def __init__(self, environment: _Optional[str] = ..., prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFlagsResponse(_message.Message):
    __slots__ = ("flags", "next_page_token", "revision")
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    flags: _containers.RepeatedCompositeFieldContainer[Flag]
    next_page_token: str
    revision: int
    def __init__(self, flags: _Optional[_Iterable[_Union[Flag, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class SetFlagRequest(_message.Message):
    __slots__ = ("environment", "key", "flag", "expected_version", "create_only")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    flag: Flag
    expected_version: int
    create_only: bool
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., flag: _Optional[_Union[Flag, _Mapping]] = ..., expected_version: _Optional[int] = ..., create_only: _Optional[bool] = ...) -> None: ...

class SetFlagResponse(_message.Message):
    __slots__ = ("flag",)
    FLAG_FIELD_NUMBER: _ClassVar[int]
    flag: Flag
    def __init__(self, flag: _Optional[_Union[Flag, _Mapping]] = ...) -> None: ...

class DeleteFlagRequest(_message.Message):
    __slots__ = ("environment", "key", "expected_version", "allow_missing")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    expected_version: int
    allow_missing: bool
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., expected_version: _Optional[int] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteFlagResponse(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...

class EvaluateFlagRequest(_message.Message):
    __slots__ = ("environment", "flag_key", "context", "expected_type")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    FLAG_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TYPE_FIELD_NUMBER: _ClassVar[int]
    environment: str
    flag_key: str
    context: EvaluationContext
    expected_type: VariantType
    def __init__(self, environment: _Optional[str] = ..., flag_key: _Optional[str] = ..., context: _Optional[_Union[EvaluationContext, _Mapping]] = ..., expected_type: _Optional[_Union[VariantType, str]] = ...) -> None: ...

class EvaluateFlagResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: EvaluationResult
    def __init__(self, result: _Optional[_Union[EvaluationResult, _Mapping]] = ...) -> None: ...

class EvaluateFlagsRequest(_message.Message):
    __slots__ = ("environment", "flag_keys", "context")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    FLAG_KEYS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    environment: str
    flag_keys: _containers.RepeatedScalarFieldContainer[str]
    context: EvaluationContext
    def __init__(self, environment: _Optional[str] = ..., flag_keys: _Optional[_Iterable[str]] = ..., context: _Optional[_Union[EvaluationContext, _Mapping]] = ...) -> None: ...

class EvaluateFlagsResponse(_message.Message):
    __slots__ = ("results", "revision")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EvaluationResult]
    revision: int
    def __init__(self, results: _Optional[_Iterable[_Union[EvaluationResult, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class WatchFlagsRequest(_message.Message):
    __slots__ = ("environment", "resume_revision", "progress_interval")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    RESUME_REVISION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    environment: str
    resume_revision: int
    progress_interval: _duration_pb2.Duration
    def __init__(self, environment: _Optional[str] = ..., resume_revision: _Optional[int] = ..., progress_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WatchFlagsResponse(_message.Message):
    __slots__ = ("snapshot", "change", "progress")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    snapshot: FlagSetSnapshot
    change: FlagChange
    progress: FlagWatchProgress
    def __init__(self, snapshot: _Optional[_Union[FlagSetSnapshot, _Mapping]] = ..., change: _Optional[_Union[FlagChange, _Mapping]] = ..., progress: _Optional[_Union[FlagWatchProgress, _Mapping]] = ...) -> None: ...

class FlagSetSnapshot(_message.Message):
    __slots__ = ("environment", "flags", "segments", "revision")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    environment: str
    flags: _containers.RepeatedCompositeFieldContainer[Flag]
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    revision: int
    def __init__(self, environment: _Optional[str] = ..., flags: _Optional[_Iterable[_Union[Flag, _Mapping]]] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., revision: _Optional[int] = ...) -> None: ...

class FlagChange(_message.Message):
    __slots__ = ("type", "key", "flag", "segment", "revision", "actor", "time")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    type: FlagChangeType
    key: str
    flag: Flag
    segment: Segment
    revision: int
    actor: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, type: _Optional[_Union[FlagChangeType, str]] = ..., key: _Optional[str] = ..., flag: _Optional[_Union[Flag, _Mapping]] = ..., segment: _Optional[_Union[Segment, _Mapping]] = ..., revision: _Optional[int] = ..., actor: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FlagWatchProgress(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...

class GetSegmentRequest(_message.Message):
    __slots__ = ("environment", "key")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class GetSegmentResponse(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class ListSegmentsRequest(_message.Message):
    __slots__ = ("environment", "page_size", "page_token")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    environment: str
    page_size: int
    page_token: str
    def __init__(self, environment: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSegmentsResponse(_message.Message):
    __slots__ = ("segments", "next_page_token")
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    next_page_token: str
    def __init__(self, segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetSegmentRequest(_message.Message):
    __slots__ = ("environment", "key", "segment", "expected_version", "create_only")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    segment: Segment
    expected_version: int
    create_only: bool
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., segment: _Optional[_Union[Segment, _Mapping]] = ..., expected_version: _Optional[int] = ..., create_only: _Optional[bool] = ...) -> None: ...

class SetSegmentResponse(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class DeleteSegmentRequest(_message.Message):
    __slots__ = ("environment", "key", "expected_version", "allow_missing")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    environment: str
    key: str
    expected_version: int
    allow_missing: bool
    def __init__(self, environment: _Optional[str] = ..., key: _Optional[str] = ..., expected_version: _Optional[int] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class DeleteSegmentResponse(_message.Message):
    __slots__ = ("revision",)
    REVISION_FIELD_NUMBER: _ClassVar[int]
    revision: int
    def __init__(self, revision: _Optional[int] = ...) -> None: ...
