"""Flag evaluation: the one implementation of the rules documented on `centrum.config.v1.Flag`.

The server's EvaluateFlag and the SDK's in-process client both evaluate through this module, so
they agree by construction. A definition is compiled once into closures and precomputed results;
an evaluation then costs a dictionary lookup plus the rules it has to try.

    flags = FlagSet.from_snapshot(snapshot)          # a FlagSetSnapshot from WatchFlags
    result = flags.evaluate("checkout.new-flow", EvaluationContext("user-42", {"country": "DE"}))
    result.value, result.variant, result.reason

Values are plain Python (None, bool, float, str, dict, list); object values are shared between
results and must not be mutated by callers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags._murmur import BUCKETS, bucketer
from centrum.sdk.flags._semver import semver_key
from centrum.sdk.flags._values import (
    as_number,
    dict_to_struct,
    kind_of,
    python_to_value,
    struct_to_dict,
    value_to_python,
)

__all__ = [
    "EMPTY_CONTEXT",
    "ROLLOUT_MEMO_SIZE",
    "CompiledFlag",
    "Evaluation",
    "EvaluationContext",
    "FlagParseError",
    "FlagSet",
    "compile_flag",
    "compile_segment",
]

_MISSING: Any = object()
ROLLOUT_MEMO_SIZE = 16_384
"""Texts per rollout rule whose served result is remembered (the memo is emptied when full)."""
_NO_METADATA: Mapping[str, str] = MappingProxyType({})

SegmentMatcher = Callable[["EvaluationContext"], bool]
"""Tells whether a context is in a segment."""
Predicate = Callable[["EvaluationContext", Mapping[str, SegmentMatcher]], bool]
"""A compiled condition: (context, segments of the flag set) -> holds."""
Rule = Callable[["EvaluationContext", Mapping[str, SegmentMatcher]], "Evaluation | None"]
"""A compiled rule: the result it serves, or None when it does not match."""


class FlagParseError(ValueError):
    """A flag or segment definition that cannot be evaluated (reported as PARSE_ERROR)."""


@dataclass(frozen=True, slots=True)
class EvaluationContext:
    """The subject of an evaluation, as in OpenFeature: a targeting key and attributes."""

    targeting_key: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_proto(cls, message: pb.EvaluationContext) -> EvaluationContext:
        """The context a request carries."""
        return cls(message.targeting_key, struct_to_dict(message.attributes))

    def to_proto(self) -> pb.EvaluationContext:
        """The wire form (numbers become doubles)."""
        return pb.EvaluationContext(
            targeting_key=self.targeting_key, attributes=dict_to_struct(self.attributes)
        )


EMPTY_CONTEXT = EvaluationContext()
"""A context without targeting key or attributes."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of evaluating one flag for one context (`EvaluationResult` in plain Python)."""

    flag_key: str
    value: Any
    """The served variant's value; None when no variant was served."""
    variant: str
    variant_type: int
    reason: int
    error_code: int = pb.EVALUATION_ERROR_CODE_UNSPECIFIED
    error_message: str = ""
    rule_id: str = ""
    flag_version: int = 0
    flag_metadata: Mapping[str, str] = field(default_factory=lambda: _NO_METADATA)

    def to_proto(self) -> pb.EvaluationResult:
        """The wire form of this result."""
        result = pb.EvaluationResult(
            flag_key=self.flag_key,
            variant=self.variant,
            variant_type=self.variant_type,  # type: ignore[arg-type]
            reason=self.reason,  # type: ignore[arg-type]
            error_code=self.error_code,  # type: ignore[arg-type]
            error_message=self.error_message,
            rule_id=self.rule_id,
            flag_version=self.flag_version,
            flag_metadata=dict(self.flag_metadata),
        )
        if self.value is not None:
            result.value.CopyFrom(python_to_value(self.value))
        return result

    @classmethod
    def from_proto(cls, message: pb.EvaluationResult) -> Evaluation:
        """The plain form of a result received from the server."""
        return cls(
            flag_key=message.flag_key,
            value=value_to_python(message.value) if message.HasField("value") else None,
            variant=message.variant,
            variant_type=message.variant_type,
            reason=message.reason,
            error_code=message.error_code,
            error_message=message.error_message,
            rule_id=message.rule_id,
            flag_version=message.flag_version,
            flag_metadata=MappingProxyType(dict(message.flag_metadata)),
        )


def not_found(flag_key: str) -> Evaluation:
    """The result for a flag the flag set does not hold."""
    return Evaluation(
        flag_key=flag_key,
        value=None,
        variant="",
        variant_type=pb.VARIANT_TYPE_UNSPECIFIED,
        reason=pb.EVALUATION_REASON_ERROR,
        error_code=pb.EVALUATION_ERROR_CODE_FLAG_NOT_FOUND,
        error_message=f"flag {flag_key!r} not found",
    )


class CompiledFlag:
    """A flag definition ready to evaluate, with every possible result built in advance."""

    __slots__ = (
        "_broken",
        "_default",
        "_disabled",
        "_enabled",
        "_rules",
        "_type_mismatch",
        "definition",
        "key",
        "variant_type",
    )

    def __init__(
        self,
        definition: pb.Flag,
        *,
        rules: Sequence[Rule],
        disabled: Evaluation,
        default: Evaluation,
        type_mismatch: Evaluation,
        broken: Evaluation | None = None,
    ) -> None:
        self.definition = definition
        self.key = definition.key
        self.variant_type = int(definition.variant_type)
        self._enabled = definition.enabled
        self._rules = tuple(rules)
        self._disabled = disabled
        self._default = default
        self._type_mismatch = type_mismatch
        self._broken = broken

    def evaluate(
        self,
        context: EvaluationContext,
        segments: Mapping[str, SegmentMatcher],
        expected_type: int = 0,
    ) -> Evaluation:
        """Evaluates the flag for `context`; `segments` resolves IN_SEGMENT conditions."""
        if self._broken is not None:
            return self._broken
        if expected_type and expected_type != self.variant_type:
            return self._type_mismatch
        if not self._enabled:
            return self._disabled
        for rule in self._rules:
            served = rule(context, segments)
            if served is not None:
                return served
        return self._default


def compile_flag(definition: pb.Flag) -> CompiledFlag:
    """Compiles a definition; one that cannot be evaluated always yields PARSE_ERROR."""
    key = definition.key
    metadata: Mapping[str, str] = (
        MappingProxyType(dict(definition.metadata)) if definition.metadata else _NO_METADATA
    )
    variant_type = int(definition.variant_type)
    version = definition.version

    def result(
        value: Any, variant: str, reason: int, rule_id: str = "", code: int = 0, message: str = ""
    ) -> Evaluation:
        return Evaluation(
            flag_key=key,
            value=value,
            variant=variant,
            variant_type=variant_type,
            reason=reason,
            error_code=code,
            error_message=message,
            rule_id=rule_id,
            flag_version=version,
            flag_metadata=metadata,
        )

    def error(code: int, message: str) -> Evaluation:
        return result(None, "", pb.EVALUATION_REASON_ERROR, code=code, message=message)

    type_mismatch = error(
        pb.EVALUATION_ERROR_CODE_TYPE_MISMATCH,
        f"flag {key!r} is of type {pb.VariantType.Name(definition.variant_type)}",
    )
    try:
        variants = {name: value_to_python(value) for name, value in definition.variants.items()}

        def serve(variant: str, reason: int, rule_id: str = "") -> Evaluation:
            if variant not in variants:
                raise FlagParseError(f"unknown variant {variant!r}")
            return result(variants[variant], variant, reason, rule_id)

        if definition.off_variant:
            disabled = serve(definition.off_variant, pb.EVALUATION_REASON_DISABLED)
        else:
            disabled = result(None, "", pb.EVALUATION_REASON_DISABLED)
        default = serve(
            definition.default_variant,
            pb.EVALUATION_REASON_DEFAULT if definition.rules else pb.EVALUATION_REASON_STATIC,
        )
        rules = [_compile_rule(rule, key, serve) for rule in definition.rules]
    except FlagParseError as exc:
        broken = error(pb.EVALUATION_ERROR_CODE_PARSE_ERROR, f"flag {key!r}: {exc}")
        return CompiledFlag(
            definition,
            rules=(),
            disabled=broken,
            default=broken,
            type_mismatch=type_mismatch,
            broken=broken,
        )
    return CompiledFlag(
        definition, rules=rules, disabled=disabled, default=default, type_mismatch=type_mismatch
    )


def compile_segment(segment: pb.Segment) -> SegmentMatcher:
    """Compiles a segment into a membership test (IN_SEGMENT inside a segment is invalid)."""
    predicates = tuple(_compile_condition(c, in_segment=True) for c in segment.conditions)
    no_segments: Mapping[str, SegmentMatcher] = _NO_SEGMENTS

    def contains(context: EvaluationContext) -> bool:
        return all(predicate(context, no_segments) for predicate in predicates)

    return contains


_NO_SEGMENTS: Mapping[str, SegmentMatcher] = MappingProxyType({})


def _compile_rule(
    rule: pb.TargetingRule, flag_key: str, serve: Callable[[str, int, str], Evaluation]
) -> Rule:
    predicates = tuple(_compile_condition(c) for c in rule.conditions)
    which = rule.WhichOneof("serve")
    if which == "variant":
        served = serve(rule.variant, pb.EVALUATION_REASON_TARGETING_MATCH, rule.id)

        def targeting(
            context: EvaluationContext, segments: Mapping[str, SegmentMatcher]
        ) -> Evaluation | None:
            for predicate in predicates:
                if not predicate(context, segments):
                    return None
            return served

        return targeting
    if which != "rollout":
        raise FlagParseError(f"rule {rule.id!r} serves nothing")
    rollout = rule.rollout
    if sum(w.weight for w in rollout.variants) != BUCKETS:
        raise FlagParseError(f"rule {rule.id!r}: rollout weights must sum to {BUCKETS}")
    thresholds: list[tuple[int, Evaluation]] = []
    upper = 0
    for share in rollout.variants:
        result = serve(share.variant, pb.EVALUATION_REASON_SPLIT, rule.id)
        if share.weight:
            upper += share.weight
            thresholds.append((upper, result))
    by_targeting_key = rollout.bucket_by in ("", "targeting_key")
    bucket_value = _getter(rollout.bucket_by or "targeting_key")
    bucket_of_text = bucketer(rollout.salt or flag_key)
    # Upper bounds ascend to BUCKETS (the weights sum to it): every bucket finds its share.
    bounds = tuple(bound for bound, _ in thresholds)
    results = tuple(result for _, result in thresholds)
    # The served result is a pure function of the bucketed text: remember it for the texts seen
    # recently (bounded; emptied when full), so a returning user costs one dictionary lookup.
    memo: dict[str, Evaluation] = {}

    def split(
        context: EvaluationContext, segments: Mapping[str, SegmentMatcher]
    ) -> Evaluation | None:
        for predicate in predicates:
            if not predicate(context, segments):
                return None
        if by_targeting_key:
            text = context.targeting_key
            if not text:
                return None
        else:
            found_text = _bucket_text(bucket_value(context))
            if found_text is None:
                return None
            text = found_text
        known = memo.get(text)
        if known is not None:
            return known
        result = results[bisect_right(bounds, bucket_of_text(text))]
        if len(memo) >= ROLLOUT_MEMO_SIZE:
            memo.clear()
        memo[text] = result
        return result

    return split


def _bucket_text(value: Any) -> str | None:
    """The text a rollout hashes for an attribute value: strings and integral numbers only."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _getter(attribute: str) -> Callable[[EvaluationContext], Any]:
    if attribute == "targeting_key":

        def targeting_key(context: EvaluationContext) -> Any:
            return context.targeting_key or _MISSING

        return targeting_key
    if not attribute:
        raise FlagParseError("a condition needs an attribute")
    parts = tuple(attribute.split("."))
    if len(parts) == 1:
        name = parts[0]

        def flat(context: EvaluationContext) -> Any:
            return context.attributes.get(name, _MISSING)

        return flat

    def nested(context: EvaluationContext) -> Any:
        node: Any = context.attributes
        for part in parts:
            if not isinstance(node, Mapping):
                return _MISSING
            node = node.get(part, _MISSING)
            if node is _MISSING:
                return _MISSING
        return node

    return nested


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compile_condition(condition: pb.Condition, *, in_segment: bool = False) -> Predicate:
    operator = condition.operator
    operands = [value_to_python(v) for v in condition.values]
    negate = condition.negate
    if operator == pb.CONDITION_OPERATOR_IN_SEGMENT:
        if in_segment:
            raise FlagParseError("segments cannot contain IN_SEGMENT conditions")
        keys = tuple(str(o) for o in operands)

        def in_segments(context: EvaluationContext, segments: Mapping[str, SegmentMatcher]) -> bool:
            found = False
            for key in keys:
                matcher = segments.get(key)
                if matcher is not None and matcher(context):
                    found = True
                    break
            return found is not negate

        return in_segments
    test = _operator_test(operator, operands, condition.case_insensitive)
    attribute = condition.attribute
    get = _getter(attribute)
    # A top-level attribute (the common shape) is read inline: one call less per condition.
    flat = attribute if attribute != "targeting_key" and "." not in attribute else None

    def holds(context: EvaluationContext, segments: Mapping[str, SegmentMatcher]) -> bool:
        value = get(context) if flat is None else context.attributes.get(flat, _MISSING)
        if value is _MISSING:
            return False
        outcome = test(value)
        if outcome is None:
            return False
        return outcome is not negate

    return holds


def _operator_test(
    operator: int, operands: list[Any], case_insensitive: bool
) -> Callable[[Any], bool | None]:
    """The test of one operator: True/False, or None when the value is of the wrong kind."""
    op = pb
    if not operands:
        raise FlagParseError(f"{pb.ConditionOperator.Name(operator)} needs an operand")
    if operator in (
        op.CONDITION_OPERATOR_EQUALS,
        op.CONDITION_OPERATOR_NOT_EQUALS,
        op.CONDITION_OPERATOR_IN,
        op.CONDITION_OPERATOR_NOT_IN,
    ):
        if operator in (op.CONDITION_OPERATOR_EQUALS, op.CONDITION_OPERATOR_NOT_EQUALS):
            operands = operands[:1]
        member = _membership(operands, case_insensitive)
        if operator in (op.CONDITION_OPERATOR_EQUALS, op.CONDITION_OPERATOR_IN):
            return member

        def differs(value: Any) -> bool | None:
            return not member(value)

        return differs
    if operator == op.CONDITION_OPERATOR_CONTAINS:
        return _contains(operands, case_insensitive)
    if operator in (op.CONDITION_OPERATOR_STARTS_WITH, op.CONDITION_OPERATOR_ENDS_WITH):
        affixes = tuple(_fold(o) if case_insensitive else o for o in operands if isinstance(o, str))
        starts = operator == op.CONDITION_OPERATOR_STARTS_WITH

        def affix(value: Any) -> bool | None:
            if not isinstance(value, str):
                return None
            text = value.casefold() if case_insensitive else value
            return text.startswith(affixes) if starts else text.endswith(affixes)

        return affix
    comparisons: dict[int, Callable[[Any, Any], bool]] = {
        op.CONDITION_OPERATOR_GREATER_THAN: lambda a, b: bool(a > b),
        op.CONDITION_OPERATOR_GREATER_OR_EQUAL: lambda a, b: bool(a >= b),
        op.CONDITION_OPERATOR_LESS_THAN: lambda a, b: bool(a < b),
        op.CONDITION_OPERATOR_LESS_OR_EQUAL: lambda a, b: bool(a <= b),
    }
    if operator in comparisons:
        bound = as_number(operands[0])
        if bound is None:
            raise FlagParseError("a numeric comparison needs a number operand")
        compare = comparisons[operator]

        def numeric(value: Any) -> bool | None:
            number = as_number(value)
            return None if number is None else compare(number, bound)

        return numeric
    semver_comparisons: dict[int, Callable[[Any, Any], bool]] = {
        op.CONDITION_OPERATOR_SEMVER_EQUALS: lambda a, b: bool(a == b),
        op.CONDITION_OPERATOR_SEMVER_GREATER_THAN: lambda a, b: bool(a > b),
        op.CONDITION_OPERATOR_SEMVER_LESS_THAN: lambda a, b: bool(a < b),
    }
    if operator in semver_comparisons:
        version = semver_key(operands[0])
        if version is None:
            raise FlagParseError("a semver comparison needs a semantic version operand")
        compare_versions = semver_comparisons[operator]

        def semver(value: Any) -> bool | None:
            key = semver_key(value)
            return None if key is None else compare_versions(key, version)

        return semver
    raise FlagParseError(f"unknown operator {operator}")


def _membership(operands: list[Any], case_insensitive: bool) -> Callable[[Any], bool]:
    """Whether a value equals any operand (same kind and value)."""
    if all(isinstance(o, str) for o in operands):
        strings = frozenset(_fold(o) if case_insensitive else o for o in operands)
        if case_insensitive:

            def folded_string(value: Any) -> bool:
                return isinstance(value, str) and value.casefold() in strings

            return folded_string

        def string(value: Any) -> bool:
            return isinstance(value, str) and value in strings

        return string
    kinded = tuple((kind_of(o), _fold(o) if case_insensitive else o) for o in operands)

    def any_kind(value: Any) -> bool:
        kind = kind_of(value)
        if case_insensitive:
            value = _fold(value)
        return any(kind == k and bool(value == o) for k, o in kinded)

    return any_kind


def _contains(operands: list[Any], case_insensitive: bool) -> Callable[[Any], bool | None]:
    substrings = tuple(_fold(o) if case_insensitive else o for o in operands if isinstance(o, str))
    element = _membership(operands, case_insensitive)

    def contains(value: Any) -> bool | None:
        if isinstance(value, str):
            text = value.casefold() if case_insensitive else value
            return any(s in text for s in substrings)
        if isinstance(value, list | tuple):
            return any(element(item) for item in value)
        return None

    return contains


class FlagSet:
    """The flags and segments of one environment at one revision, ready to evaluate."""

    def __init__(
        self,
        environment: str = "",
        flags: Iterable[pb.Flag] = (),
        segments: Iterable[pb.Segment] = (),
        revision: int = 0,
    ) -> None:
        self.environment = environment
        self.revision = revision
        self._flags: dict[str, CompiledFlag] = {f.key: compile_flag(f) for f in flags}
        self._segment_defs: dict[str, pb.Segment] = {s.key: s for s in segments}
        self._segments: dict[str, SegmentMatcher] = {}
        for key, segment in self._segment_defs.items():
            self._add_segment(key, segment, self._segments)

    @classmethod
    def from_snapshot(cls, snapshot: pb.FlagSetSnapshot) -> FlagSet:
        """The flag set a WatchFlags snapshot describes."""
        return cls(snapshot.environment, snapshot.flags, snapshot.segments, snapshot.revision)

    @staticmethod
    def _add_segment(key: str, segment: pb.Segment, into: dict[str, SegmentMatcher]) -> None:
        try:
            into[key] = compile_segment(segment)
        except FlagParseError:
            into.pop(key, None)  # an unparseable segment contains nobody

    def replace(self, snapshot: pb.FlagSetSnapshot) -> None:
        """Replaces everything held with a snapshot."""
        fresh = FlagSet.from_snapshot(snapshot)
        self._flags, self._segments, self._segment_defs = (
            fresh._flags,
            fresh._segments,
            fresh._segment_defs,
        )
        self.environment = snapshot.environment
        self.revision = snapshot.revision

    def apply(self, change: pb.FlagChange) -> None:
        """Applies one change; changes at or below the held revision are ignored."""
        if change.revision <= self.revision:
            return
        kind = change.type
        if kind == pb.FLAG_CHANGE_TYPE_FLAG_PUT:
            self._flags[change.key] = compile_flag(change.flag)
        elif kind == pb.FLAG_CHANGE_TYPE_FLAG_DELETE:
            self._flags.pop(change.key, None)
        elif kind == pb.FLAG_CHANGE_TYPE_SEGMENT_PUT:
            self._segment_defs[change.key] = change.segment
            self._add_segment(change.key, change.segment, self._segments)
        elif kind == pb.FLAG_CHANGE_TYPE_SEGMENT_DELETE:
            self._segment_defs.pop(change.key, None)
            self._segments.pop(change.key, None)
        self.revision = change.revision

    def evaluate(
        self,
        flag_key: str,
        context: EvaluationContext = EMPTY_CONTEXT,
        expected_type: int = pb.VARIANT_TYPE_UNSPECIFIED,
    ) -> Evaluation:
        """Evaluates one flag; an unknown flag gives reason ERROR with FLAG_NOT_FOUND."""
        flag = self._flags.get(flag_key)
        if flag is None:
            return not_found(flag_key)
        return flag.evaluate(context, self._segments, expected_type)

    def evaluate_many(
        self, flag_keys: Sequence[str] = (), context: EvaluationContext = EMPTY_CONTEXT
    ) -> list[Evaluation]:
        """Evaluates the named flags in order, or every flag in key order when none is named."""
        keys = flag_keys or sorted(self._flags)
        return [self.evaluate(key, context) for key in keys]

    def flags(self) -> dict[str, pb.Flag]:
        """The flag definitions held, by key."""
        return {key: flag.definition for key, flag in self._flags.items()}

    def segments(self) -> dict[str, pb.Segment]:
        """The segment definitions held, by key."""
        return dict(self._segment_defs)

    def snapshot(self) -> pb.FlagSetSnapshot:
        """The flag set as a snapshot message."""
        return pb.FlagSetSnapshot(
            environment=self.environment,
            flags=[self._flags[k].definition for k in sorted(self._flags)],
            segments=[self._segment_defs[k] for k in sorted(self._segment_defs)],
            revision=self.revision,
        )
