"""Request validators of FlagService: every problem of a request reported at once.

The definition rules here are what makes a flag evaluable: a flag that passes always compiles
in `centrum.sdk.flags.evaluation` without a PARSE_ERROR.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from google.protobuf import message, struct_pb2

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.interceptors.errors import FieldViolation
from centrum.interceptors.validation import Validator
from centrum.sdk.flags import BUCKETS, as_number, semver_key, value_to_python

__all__ = ["VALIDATORS", "watch_violations"]

_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_VARIANT = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_RULE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_ATTRIBUTE = re.compile(r"^[^.\s][^\s]{0,255}$")
_MAX_RULES = 200
_MAX_CONDITIONS = 50
_MAX_VARIANTS = 100
_MAX_EVALUATE_KEYS = 1000
_SERVICE = "/centrum.config.v1.FlagService/"

_SINGLE_OPERAND = {
    pb.CONDITION_OPERATOR_EQUALS,
    pb.CONDITION_OPERATOR_NOT_EQUALS,
    pb.CONDITION_OPERATOR_GREATER_THAN,
    pb.CONDITION_OPERATOR_GREATER_OR_EQUAL,
    pb.CONDITION_OPERATOR_LESS_THAN,
    pb.CONDITION_OPERATOR_LESS_OR_EQUAL,
    pb.CONDITION_OPERATOR_SEMVER_EQUALS,
    pb.CONDITION_OPERATOR_SEMVER_GREATER_THAN,
    pb.CONDITION_OPERATOR_SEMVER_LESS_THAN,
}
_NUMERIC = {
    pb.CONDITION_OPERATOR_GREATER_THAN,
    pb.CONDITION_OPERATOR_GREATER_OR_EQUAL,
    pb.CONDITION_OPERATOR_LESS_THAN,
    pb.CONDITION_OPERATOR_LESS_OR_EQUAL,
}
_SEMVER = {
    pb.CONDITION_OPERATOR_SEMVER_EQUALS,
    pb.CONDITION_OPERATOR_SEMVER_GREATER_THAN,
    pb.CONDITION_OPERATOR_SEMVER_LESS_THAN,
}
_STRING_OPERANDS = {pb.CONDITION_OPERATOR_STARTS_WITH, pb.CONDITION_OPERATOR_ENDS_WITH}
_VALUE_KINDS: dict[int, tuple[str, ...]] = {
    pb.VARIANT_TYPE_BOOL: ("bool_value",),
    pb.VARIANT_TYPE_STRING: ("string_value",),
    pb.VARIANT_TYPE_NUMBER: ("number_value",),
    pb.VARIANT_TYPE_OBJECT: ("struct_value", "list_value"),
}


def _location(environment: str, key: str | None = None) -> list[FieldViolation]:
    found = []
    if not _ENVIRONMENT.match(environment):
        found.append(
            FieldViolation("environment", "required: 1-128 letters, digits, '_', '-' or '.'")
        )
    if key is not None and not _KEY.match(key):
        found.append(FieldViolation("key", "required: 1-256 letters, digits, '_', '-' or '.'"))
    return found


def _named(request: message.Message) -> list[FieldViolation]:
    return _location(getattr(request, "environment"), getattr(request, "key"))  # noqa: B009


def _environment_only(request: message.Message) -> list[FieldViolation]:
    return _location(getattr(request, "environment"))  # noqa: B009


def _cas(request: message.Message) -> list[FieldViolation]:
    found = []
    expected = getattr(request, "expected_version")  # noqa: B009
    if expected < 0:
        found.append(FieldViolation("expected_version", "must not be negative"))
    if getattr(request, "create_only", False) and expected:
        found.append(FieldViolation("create_only", "cannot be combined with expected_version"))
    return found


def condition_violations(
    condition: pb.Condition, path: str, *, in_segment: bool
) -> list[FieldViolation]:
    """The problems of one condition (IN_SEGMENT is refused inside a segment)."""
    found: list[FieldViolation] = []
    operator = condition.operator
    if operator not in pb.ConditionOperator.values() or operator == 0:
        return [FieldViolation(f"{path}.operator", "required: a known operator")]
    values = [value_to_python(v) for v in condition.values]
    if operator == pb.CONDITION_OPERATOR_IN_SEGMENT:
        if in_segment:
            found.append(FieldViolation(f"{path}.operator", "segments cannot nest IN_SEGMENT"))
        if not values or not all(isinstance(v, str) and _KEY.match(v) for v in values):
            found.append(FieldViolation(f"{path}.values", "IN_SEGMENT takes segment keys"))
        return found
    if not _ATTRIBUTE.match(condition.attribute) or ".." in condition.attribute:
        found.append(FieldViolation(f"{path}.attribute", "required: an attribute path"))
    if operator in _SINGLE_OPERAND and len(values) != 1:
        found.append(FieldViolation(f"{path}.values", "this operator takes exactly one operand"))
    elif not values:
        found.append(FieldViolation(f"{path}.values", "at least one operand is required"))
    elif len(values) > 1000:
        found.append(FieldViolation(f"{path}.values", "at most 1000 operands"))
    elif operator in _NUMERIC and as_number(values[0]) is None:
        found.append(FieldViolation(f"{path}.values", "the operand must be a number"))
    elif operator in _SEMVER and semver_key(values[0]) is None:
        found.append(FieldViolation(f"{path}.values", "the operand must be a semantic version"))
    elif operator in _STRING_OPERANDS and not all(isinstance(v, str) for v in values):
        found.append(FieldViolation(f"{path}.values", "the operands must be strings"))
    return found


def _value_matches(value: struct_pb2.Value, variant_type: int) -> bool:
    return value.WhichOneof("kind") in _VALUE_KINDS.get(variant_type, ())


def flag_violations(flag: pb.Flag, path: str = "flag") -> list[FieldViolation]:
    """The problems of a flag definition."""
    found: list[FieldViolation] = []
    if flag.variant_type not in _VALUE_KINDS:
        found.append(FieldViolation(f"{path}.variant_type", "required: a known variant type"))
    if not flag.variants:
        found.append(FieldViolation(f"{path}.variants", "at least one variant is required"))
    if len(flag.variants) > _MAX_VARIANTS:
        found.append(FieldViolation(f"{path}.variants", f"at most {_MAX_VARIANTS} variants"))
    for name, value in sorted(flag.variants.items()):
        if not _VARIANT.match(name):
            found.append(FieldViolation(f"{path}.variants[{name}]", "invalid variant name"))
        elif flag.variant_type in _VALUE_KINDS and not _value_matches(value, flag.variant_type):
            found.append(
                FieldViolation(f"{path}.variants[{name}]", "the value does not fit variant_type")
            )
    if flag.default_variant not in flag.variants:
        found.append(FieldViolation(f"{path}.default_variant", "required: one of the variants"))
    if flag.off_variant and flag.off_variant not in flag.variants:
        found.append(FieldViolation(f"{path}.off_variant", "must be empty or one of the variants"))
    if len(flag.rules) > _MAX_RULES:
        found.append(FieldViolation(f"{path}.rules", f"at most {_MAX_RULES} rules"))
    seen_ids: set[str] = set()
    for index, rule in enumerate(flag.rules):
        rule_path = f"{path}.rules[{index}]"
        if rule.id:
            if not _RULE_ID.match(rule.id):
                found.append(FieldViolation(f"{rule_path}.id", "invalid rule id"))
            elif rule.id in seen_ids:
                found.append(FieldViolation(f"{rule_path}.id", "rule ids must be unique"))
            seen_ids.add(rule.id)
        if len(rule.conditions) > _MAX_CONDITIONS:
            found.append(
                FieldViolation(f"{rule_path}.conditions", f"at most {_MAX_CONDITIONS} conditions")
            )
        for number, condition in enumerate(rule.conditions):
            found += condition_violations(
                condition, f"{rule_path}.conditions[{number}]", in_segment=False
            )
        which = rule.WhichOneof("serve")
        if which == "variant":
            if rule.variant not in flag.variants:
                found.append(FieldViolation(f"{rule_path}.variant", "must be one of the variants"))
        elif which == "rollout":
            found += _rollout_violations(rule.rollout, flag, f"{rule_path}.rollout")
        else:
            found.append(FieldViolation(f"{rule_path}.serve", "a variant or a rollout is required"))
    return found


def _rollout_violations(
    rollout: pb.FractionalRollout, flag: pb.Flag, path: str
) -> list[FieldViolation]:
    found: list[FieldViolation] = []
    names = [share.variant for share in rollout.variants]
    if not names:
        found.append(FieldViolation(f"{path}.variants", "at least one share is required"))
    if len(set(names)) != len(names):
        found.append(FieldViolation(f"{path}.variants", "each variant may appear once"))
    for index, name in enumerate(names):
        if name not in flag.variants:
            found.append(
                FieldViolation(f"{path}.variants[{index}].variant", "must be one of the variants")
            )
    if sum(share.weight for share in rollout.variants) != BUCKETS:
        found.append(FieldViolation(f"{path}.variants", f"the weights must sum to {BUCKETS}"))
    if rollout.bucket_by and (not _ATTRIBUTE.match(rollout.bucket_by) or ".." in rollout.bucket_by):
        found.append(FieldViolation(f"{path}.bucket_by", "must be an attribute path"))
    return found


def _same_location(
    request: pb.SetFlagRequest | pb.SetSegmentRequest, inner: pb.Flag | pb.Segment, field: str
) -> list[FieldViolation]:
    found = []
    if inner.environment and inner.environment != request.environment:
        found.append(FieldViolation(f"{field}.environment", "must be empty or the request's"))
    if inner.key and inner.key != request.key:
        found.append(FieldViolation(f"{field}.key", "must be empty or the request's"))
    return found


def _set_flag(request: message.Message) -> list[FieldViolation]:
    assert isinstance(request, pb.SetFlagRequest)
    found = _named(request) + _cas(request)
    if not request.HasField("flag"):
        return [*found, FieldViolation("flag", "required")]
    return found + _same_location(request, request.flag, "flag") + flag_violations(request.flag)


def _set_segment(request: message.Message) -> list[FieldViolation]:
    assert isinstance(request, pb.SetSegmentRequest)
    found = _named(request) + _cas(request)
    if not request.HasField("segment"):
        return [*found, FieldViolation("segment", "required")]
    found += _same_location(request, request.segment, "segment")
    if len(request.segment.conditions) > _MAX_CONDITIONS:
        found.append(FieldViolation("segment.conditions", f"at most {_MAX_CONDITIONS}"))
    for index, condition in enumerate(request.segment.conditions):
        found += condition_violations(condition, f"segment.conditions[{index}]", in_segment=True)
    return found


def _delete(request: message.Message) -> list[FieldViolation]:
    return _named(request) + _cas(request)


def _evaluate(request: message.Message) -> list[FieldViolation]:
    assert isinstance(request, pb.EvaluateFlagRequest)
    found = _environment_only(request)
    if not request.flag_key:
        found.append(FieldViolation("flag_key", "required"))
    if request.expected_type not in pb.VariantType.values():
        found.append(FieldViolation("expected_type", "unknown variant type"))
    return found


def _evaluate_many(request: message.Message) -> list[FieldViolation]:
    assert isinstance(request, pb.EvaluateFlagsRequest)
    found = _environment_only(request)
    if len(request.flag_keys) > _MAX_EVALUATE_KEYS:
        found.append(FieldViolation("flag_keys", f"at most {_MAX_EVALUATE_KEYS} keys"))
    if any(not key for key in request.flag_keys):
        found.append(FieldViolation("flag_keys", "keys must not be empty"))
    return found


def watch_violations(request: pb.WatchFlagsRequest) -> list[FieldViolation]:
    """The problems of a WatchFlags request (streams are validated by the servicer)."""
    found = _environment_only(request)
    if request.resume_revision < 0:
        found.append(FieldViolation("resume_revision", "must not be negative"))
    return found


_BY_METHOD: dict[str, Callable[[message.Message], Sequence[FieldViolation]]] = {
    "GetFlag": _named,
    "ListFlags": _environment_only,
    "SetFlag": _set_flag,
    "DeleteFlag": _delete,
    "EvaluateFlag": _evaluate,
    "EvaluateFlags": _evaluate_many,
    "GetSegment": _named,
    "ListSegments": _environment_only,
    "SetSegment": _set_segment,
    "DeleteSegment": _delete,
}
VALIDATORS: dict[str, Validator] = {_SERVICE + name: check for name, check in _BY_METHOD.items()}
"""Validators of the unary FlagService methods, by full method path."""
