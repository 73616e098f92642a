"""The shared evaluation module: reasons, operators, segments, hashing and sticky rollouts.

These run without a server; test_flags_property pins that the server evaluates the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import mmh3
import pytest

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags import (
    EvaluationContext,
    FlagSet,
    bucket_of,
    murmur3_32,
    murmur3_32_pure,
    python_to_value,
    semver_key,
)


def condition(attribute: str, operator: str, *values: Any, **options: bool) -> pb.Condition:
    """A condition on `attribute` with operator `operator` (name without the enum prefix)."""
    return pb.Condition(
        attribute=attribute,
        operator=f"CONDITION_OPERATOR_{operator}",
        values=[python_to_value(v) for v in values],
        **options,
    )


def rollout(first_weight: int, *, bucket_by: str = "", salt: str = "") -> pb.FractionalRollout:
    """A two-way rollout: `first_weight` buckets to "on", the rest to "off"."""
    return pb.FractionalRollout(
        variants=[
            pb.WeightedVariant(variant="on", weight=first_weight),
            pb.WeightedVariant(variant="off", weight=100_000 - first_weight),
        ],
        bucket_by=bucket_by,
        salt=salt,
    )


def bool_flag(
    key: str = "new-checkout",
    *,
    rules: list[pb.TargetingRule] | None = None,
    enabled: bool = True,
    off_variant: str = "off",
    metadata: dict[str, str] | None = None,
) -> pb.Flag:
    """A bool flag with variants on/off, defaulting to off."""
    return pb.Flag(
        key=key,
        enabled=enabled,
        variant_type=pb.VARIANT_TYPE_BOOL,
        variants={"on": python_to_value(True), "off": python_to_value(False)},
        default_variant="off",
        off_variant=off_variant,
        rules=rules or [],
        metadata=metadata or {},
    )


def targeting(
    *conditions: pb.Condition, variant: str = "on", rule_id: str = "r"
) -> pb.TargetingRule:
    """A rule serving `variant` when every condition holds."""
    return pb.TargetingRule(id=rule_id, conditions=list(conditions), variant=variant)


def holds(cond: pb.Condition, attributes: dict[str, Any], key: str = "") -> bool:
    """Whether a single-condition rule matches the context."""
    flags = FlagSet("e", [bool_flag(rules=[targeting(cond)])])
    result = flags.evaluate("new-checkout", EvaluationContext(key, attributes))
    return result.reason == pb.EVALUATION_REASON_TARGETING_MATCH


def test_reasons_follow_the_contract() -> None:
    """STATIC without rules, TARGETING_MATCH/SPLIT by rule, DEFAULT, DISABLED, ERROR codes."""
    flags = FlagSet(
        "e",
        [
            bool_flag("static", metadata={"owner": "team-a"}),
            bool_flag(
                "targeted",
                rules=[
                    targeting(condition("country", "EQUALS", "DE"), rule_id="de"),
                    pb.TargetingRule(
                        id="split",
                        rollout=rollout(100_000),
                        conditions=[condition("beta", "EQUALS", True)],
                    ),
                ],
            ),
            bool_flag("off", enabled=False),
            bool_flag("off-no-variant", enabled=False, off_variant=""),
        ],
    )
    static = flags.evaluate("static")
    assert (static.value, static.reason, static.flag_metadata) == (
        False,
        pb.EVALUATION_REASON_STATIC,
        {"owner": "team-a"},
    )
    de = flags.evaluate("targeted", EvaluationContext("u1", {"country": "DE"}))
    assert (de.value, de.reason, de.rule_id) == (True, pb.EVALUATION_REASON_TARGETING_MATCH, "de")
    split = flags.evaluate("targeted", EvaluationContext("u1", {"beta": True}))
    assert (split.value, split.variant, split.reason, split.rule_id) == (
        True,
        "on",
        pb.EVALUATION_REASON_SPLIT,
        "split",
    )
    default = flags.evaluate("targeted", EvaluationContext("u1", {"country": "FR"}))
    assert (default.value, default.reason, default.rule_id) == (
        False,
        pb.EVALUATION_REASON_DEFAULT,
        "",
    )
    off = flags.evaluate("off", EvaluationContext("u1"))
    assert (off.value, off.variant, off.reason) == (False, "off", pb.EVALUATION_REASON_DISABLED)
    nothing = flags.evaluate("off-no-variant")
    assert (nothing.value, nothing.variant, nothing.reason) == (
        None,
        "",
        pb.EVALUATION_REASON_DISABLED,
    )
    missing = flags.evaluate("nope")
    assert (missing.reason, missing.error_code) == (
        pb.EVALUATION_REASON_ERROR,
        pb.EVALUATION_ERROR_CODE_FLAG_NOT_FOUND,
    )
    mismatch = flags.evaluate("static", expected_type=pb.VARIANT_TYPE_STRING)
    assert (mismatch.value, mismatch.reason, mismatch.error_code) == (
        None,
        pb.EVALUATION_REASON_ERROR,
        pb.EVALUATION_ERROR_CODE_TYPE_MISMATCH,
    )
    assert flags.evaluate("static", expected_type=pb.VARIANT_TYPE_BOOL).value is False


def test_an_unparseable_definition_is_a_parse_error() -> None:
    """A definition naming an unknown variant evaluates to ERROR with PARSE_ERROR, not a crash."""
    broken = bool_flag(rules=[targeting(variant="missing")])
    result = FlagSet("e", [broken]).evaluate("new-checkout")
    assert (result.reason, result.error_code) == (
        pb.EVALUATION_REASON_ERROR,
        pb.EVALUATION_ERROR_CODE_PARSE_ERROR,
    )


@pytest.mark.parametrize(
    ("cond", "attributes", "expected"),
    [
        (condition("country", "EQUALS", "DE"), {"country": "DE"}, True),
        (condition("country", "EQUALS", "de", case_insensitive=True), {"country": "DE"}, True),
        (condition("country", "EQUALS", "de"), {"country": "DE"}, False),
        (condition("n", "EQUALS", 1), {"n": True}, False),
        (condition("n", "EQUALS", 1), {"n": 1.0}, True),
        (condition("country", "NOT_EQUALS", "DE"), {"country": "FR"}, True),
        (condition("country", "NOT_EQUALS", "DE"), {}, False),
        (condition("country", "IN", "DE", "AT"), {"country": "AT"}, True),
        (condition("country", "NOT_IN", "DE", "AT"), {"country": "AT"}, False),
        (condition("email", "CONTAINS", "@acme"), {"email": "a@acme.io"}, True),
        (condition("tags", "CONTAINS", "beta"), {"tags": ["alpha", "beta"]}, True),
        (condition("tags", "CONTAINS", "beta"), {"tags": 3}, False),
        (condition("email", "STARTS_WITH", "A", case_insensitive=True), {"email": "al@x"}, True),
        (condition("email", "ENDS_WITH", ".io", ".de"), {"email": "al@x.de"}, True),
        (condition("age", "GREATER_THAN", 17), {"age": 18}, True),
        (condition("age", "GREATER_THAN", 17), {"age": "18.5"}, True),
        (condition("age", "GREATER_THAN", 17), {"age": "old"}, False),
        (condition("age", "GREATER_THAN", 17, negate=True), {"age": "old"}, False),
        (condition("age", "LESS_OR_EQUAL", 17), {"age": 17}, True),
        (condition("age", "GREATER_OR_EQUAL", 17), {"age": True}, False),
        (condition("app", "SEMVER_GREATER_THAN", "2.3.0"), {"app": "v2.10.0"}, True),
        (condition("app", "SEMVER_LESS_THAN", "2.3.0"), {"app": "2.3.0-rc.1"}, True),
        (condition("app", "SEMVER_EQUALS", "2.3.0"), {"app": "2.3.0+build.7"}, True),
        (condition("app", "SEMVER_GREATER_THAN", "2.3.0"), {"app": "2.3"}, False),
        (condition("org.plan", "EQUALS", "pro"), {"org": {"plan": "pro"}}, True),
        (condition("org.plan", "EQUALS", "pro"), {"org": "pro"}, False),
        (condition("country", "EQUALS", "DE", negate=True), {"country": "FR"}, True),
        (condition("country", "EQUALS", "DE", negate=True), {}, False),
    ],
)
def test_operators(cond: pb.Condition, attributes: dict[str, Any], expected: bool) -> None:
    """Each operator, case folding, negation, nested paths; absent or ill-kinded is false."""
    assert holds(cond, attributes) is expected


def test_targeting_key_is_an_attribute() -> None:
    """ "targeting_key" tests the context's targeting key; an empty one is absent."""
    cond = condition("targeting_key", "STARTS_WITH", "staff-")
    assert holds(cond, {}, key="staff-7")
    assert not holds(cond, {"targeting_key": "staff-7"}, key="")


def test_segments_resolve_through_the_flag_set() -> None:
    """IN_SEGMENT holds when any named segment's conditions all hold; negate inverts it."""
    segment = pb.Segment(
        key="internal",
        conditions=[
            condition("email", "ENDS_WITH", "@acme.io"),
            condition("age", "GREATER_THAN", 17),
        ],
    )
    flags = FlagSet(
        "e",
        [
            bool_flag("in", rules=[targeting(condition("", "IN_SEGMENT", "gone", "internal"))]),
            bool_flag(
                "out", rules=[targeting(condition("", "IN_SEGMENT", "internal", negate=True))]
            ),
        ],
        [segment],
    )
    staff = EvaluationContext("u", {"email": "x@acme.io", "age": 30})
    minor = EvaluationContext("u", {"email": "x@acme.io", "age": 12})
    assert flags.evaluate("in", staff).value is True
    assert flags.evaluate("in", minor).value is False
    assert flags.evaluate("out", minor).value is True
    change = pb.FlagChange(type=pb.FLAG_CHANGE_TYPE_SEGMENT_DELETE, key="internal", revision=1)
    flags.apply(change)
    assert flags.evaluate("in", staff).value is False


def test_semver_precedence() -> None:
    """SemVer 2.0 precedence: numeric identifiers, pre-releases below releases, build ignored."""
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "v1.0.1",
        "1.2.0",
        "1.10.0",
    ]
    keys = [semver_key(v) for v in ordered]
    assert all(k is not None for k in keys)
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert semver_key("1.0.0+x") == semver_key("1.0.0")
    assert semver_key("01.0.0") is None and semver_key("1.0") is None and semver_key(3) is None


def test_murmur3_matches_the_reference() -> None:
    """The pure-Python MurmurHash3 x86_32 equals mmh3 for every tail length and random input."""
    rng = __import__("random").Random(7)
    for length in range(64):
        data = bytes(rng.randrange(256) for _ in range(length))
        assert murmur3_32_pure(data, 0) == mmh3.hash(data, 0, signed=False)
        assert murmur3_32(data, 0) == murmur3_32_pure(data, 0)
    # Known vectors of MurmurHash3_x86_32 with seed 0.
    assert murmur3_32_pure(b"", 0) == 0
    assert murmur3_32_pure(b"hello", 0) == 0x248BFA47
    assert bucket_of("flag", "user-1") == mmh3.hash(b"flag/user-1", 0, signed=False) % 100_000


def test_without_mmh3_the_sdk_buckets_identically() -> None:
    """With mmh3 unimportable the SDK falls back to pure Python and yields the same buckets."""
    keys = [f"user-{i}" for i in range(300)]
    script = (
        "import sys; sys.modules['mmh3'] = None\n"
        "from centrum.sdk.flags import _murmur\n"
        "assert _murmur.murmur3_32 is _murmur.murmur3_32_pure\n"
        f"print([_murmur.bucket_of('salt', k) for k in {keys!r}])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": ""},
    ).stdout
    assert out.strip() == str([bucket_of("salt", k) for k in keys])


@pytest.mark.parametrize("pure", [False, True])
def test_rollout_is_accurate_and_sticky(monkeypatch: pytest.MonkeyPatch, pure: bool) -> None:
    """25% of 10,000 keys lands within 25 ± 1.5%; raising it to 50% keeps every earlier key in."""
    if pure:
        from centrum.sdk.flags import _murmur

        monkeypatch.setattr(_murmur, "murmur3_32", murmur3_32_pure)
    contexts = [EvaluationContext(f"user-{i}") for i in range(10_000)]

    def enabled(weight: int) -> set[str]:
        flags = FlagSet("e", [bool_flag(rules=[pb.TargetingRule(id="r", rollout=rollout(weight))])])
        results = [flags.evaluate("new-checkout", c) for c in contexts]
        assert {r.reason for r in results} == {pb.EVALUATION_REASON_SPLIT}
        return {c.targeting_key for c, r in zip(contexts, results, strict=True) if r.value}

    quarter, half = enabled(25_000), enabled(50_000)
    assert 2_350 <= len(quarter) <= 2_650
    assert 4_850 <= len(half) <= 5_150
    assert quarter <= half


def test_rollout_buckets_by_attribute_and_salt() -> None:
    """bucket_by hashes that attribute (strings or integers); without it the rule does not match."""
    rule = pb.TargetingRule(id="r", rollout=rollout(50_000, bucket_by="org_id", salt="s"))
    flags = FlagSet("e", [bool_flag(rules=[rule])])
    by_text = flags.evaluate("new-checkout", EvaluationContext("", {"org_id": "42"}))
    by_int = flags.evaluate("new-checkout", EvaluationContext("", {"org_id": 42}))
    by_float = flags.evaluate("new-checkout", EvaluationContext("", {"org_id": 42.0}))
    assert by_text.value == by_int.value == by_float.value
    assert by_text.value == (bucket_of("s", "42") < 50_000)
    unmatched = flags.evaluate("new-checkout", EvaluationContext("user-1", {"org_id": 4.5}))
    assert unmatched.reason == pb.EVALUATION_REASON_DEFAULT


def test_results_round_trip_through_the_wire_form() -> None:
    """Evaluation.to_proto/from_proto keep every field, object values included."""
    flag = pb.Flag(
        key="theme",
        enabled=True,
        variant_type=pb.VARIANT_TYPE_OBJECT,
        variants={"dark": python_to_value({"bg": "#000", "sizes": [1, 2]})},
        default_variant="dark",
        metadata={"owner": "ui"},
        version=3,
    )
    result = FlagSet("e", [flag]).evaluate("theme")
    from centrum.sdk.flags import Evaluation

    assert Evaluation.from_proto(result.to_proto()) == result
