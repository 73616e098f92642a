"""SDK and server evaluation agree: random flags and contexts, EvaluateFlag vs local FlagSet."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_flags_evaluation import condition
from test_flags_service import SCOPES

from centrum import sdk
from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags import Evaluation, EvaluationContext, FlagSet, python_to_value
from centrum.server import CentrumApp
from harness.tokens import TokenMint

ENV = "property"
SEGMENT = pb.Segment(conditions=[condition("age", "GREATER_OR_EQUAL", 18)])

countries = st.sampled_from(["DE", "de", "FR", "US"])
versions = st.sampled_from(["1.0.0", "1.2.0-rc.1", "v2.0.0", "2.0", "10.1.3"])
attribute_values: dict[str, st.SearchStrategy[Any]] = {
    "country": countries,
    "age": st.one_of(st.integers(0, 99), st.sampled_from(["17", "x", True])),
    "app": versions,
    "tags": st.lists(st.sampled_from(["beta", "staff", "Beta"]), max_size=3),
    "org.plan": st.sampled_from(["free", "pro"]),
}


@st.composite
def conditions(draw: st.DrawFn) -> pb.Condition:
    """A random condition over the attributes the contexts carry."""
    options = draw(
        st.fixed_dictionaries({"negate": st.booleans(), "case_insensitive": st.booleans()})
    )
    kind = draw(st.sampled_from(["eq", "in", "contains", "prefix", "num", "semver", "seg", "key"]))
    if kind == "eq":
        op = draw(st.sampled_from(["EQUALS", "NOT_EQUALS"]))
        return condition("country", op, draw(countries), **options)
    if kind == "in":
        op = draw(st.sampled_from(["IN", "NOT_IN"]))
        return condition(
            "org.plan",
            op,
            *draw(st.lists(st.sampled_from(["free", "pro", "x"]), min_size=1, max_size=2)),
            **options,
        )
    if kind == "contains":
        return condition("tags", "CONTAINS", draw(st.sampled_from(["beta", "staff"])), **options)
    if kind == "prefix":
        op = draw(st.sampled_from(["STARTS_WITH", "ENDS_WITH"]))
        return condition("country", op, draw(st.sampled_from(["D", "e", "U"])), **options)
    if kind == "num":
        op = draw(
            st.sampled_from(["GREATER_THAN", "GREATER_OR_EQUAL", "LESS_THAN", "LESS_OR_EQUAL"])
        )
        return condition("age", op, draw(st.integers(0, 99)), **options)
    if kind == "semver":
        op = draw(st.sampled_from(["SEMVER_EQUALS", "SEMVER_GREATER_THAN", "SEMVER_LESS_THAN"]))
        return condition("app", op, draw(st.sampled_from(["1.0.0", "2.0.0", "1.2.0"])), **options)
    if kind == "seg":
        return condition("", "IN_SEGMENT", "adults", negate=options["negate"])
    return condition("targeting_key", "STARTS_WITH", draw(st.sampled_from(["u1", "u2"])), **options)


@st.composite
def rules(draw: st.DrawFn) -> pb.TargetingRule:
    """A rule serving a variant or a rollout over the three variants."""
    rule = pb.TargetingRule(conditions=draw(st.lists(conditions(), max_size=3)))
    if draw(st.booleans()):
        rule.variant = draw(st.sampled_from(["a", "b", "c"]))
    else:
        first = draw(st.integers(0, 100_000))
        second = draw(st.integers(0, 100_000 - first))
        rule.rollout.bucket_by = draw(st.sampled_from(["", "org.plan", "age"]))
        for name, weight in (("a", first), ("b", second), ("c", 100_000 - first - second)):
            rule.rollout.variants.add(variant=name, weight=weight)
    return rule


@st.composite
def flags(draw: st.DrawFn) -> pb.Flag:
    """A random string flag with three variants."""
    return pb.Flag(
        key="random",
        enabled=draw(st.booleans()),
        variant_type=pb.VARIANT_TYPE_STRING,
        variants={name: python_to_value(name.upper()) for name in ("a", "b", "c")},
        default_variant=draw(st.sampled_from(["a", "b", "c"])),
        off_variant=draw(st.sampled_from(["", "c"])),
        rules=draw(st.lists(rules(), max_size=4)),
    )


@st.composite
def contexts(draw: st.DrawFn) -> EvaluationContext:
    """A random context: some attributes present, some absent."""
    attributes: dict[str, Any] = {}
    for name, strategy in attribute_values.items():
        if draw(st.booleans()):
            if name == "org.plan":
                attributes["org"] = {"plan": draw(strategy)}
            else:
                attributes[name] = draw(strategy)
    return EvaluationContext(draw(st.sampled_from(["", "u1", "u2-x", "user-9"])), attributes)


async def test_sdk_and_server_evaluation_agree(centrum: CentrumApp, token_mint: TokenMint) -> None:
    """For random flags and contexts, EvaluateFlag on the server equals the SDK's local result."""
    token = token_mint.token(scopes=SCOPES)

    def check() -> None:
        with sdk.connect(f"127.0.0.1:{centrum.port}", token=token) as client:
            segment = client.flags.SetSegment(
                pb.SetSegmentRequest(environment=ENV, key="adults", segment=SEGMENT)
            ).segment

            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
            @given(flag=flags(), cases=st.lists(contexts(), min_size=1, max_size=6))
            def agree(flag: pb.Flag, cases: list[EvaluationContext]) -> None:
                stored = client.flags.SetFlag(
                    pb.SetFlagRequest(environment=ENV, key=flag.key, flag=flag)
                ).flag
                local = FlagSet(ENV, [stored], [segment])
                for context in cases:
                    remote = client.flags.EvaluateFlag(
                        pb.EvaluateFlagRequest(
                            environment=ENV, flag_key=flag.key, context=context.to_proto()
                        )
                    ).result
                    assert Evaluation.from_proto(remote) == local.evaluate(flag.key, context)

            agree()

    await asyncio.to_thread(check)
