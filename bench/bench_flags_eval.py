"""Benchmark: in-process SDK flag evaluations per second (the FlagSet behind FlagClient).

Cases, each over 10,000 distinct contexts cycled through:

* ``static``: a flag without rules (reason STATIC);
* ``targeting``: three rules of two conditions each (string IN, numeric, semver), the last match;
* ``rollout``: a fractional rollout (MurmurHash3 of flag key + targeting key; the hash path),
  with ``mmh3`` and with the pure-Python fallback the SDK uses when mmh3 is absent.

Target: >= 500,000 evaluations/s; the reference figure is flagd's ~2.2 us per evaluation in Go
(~455,000/s), reported as ``ratio_vs_flagd``. Prints one JSON line.
Usage: ``.venv/bin/python bench/bench_flags_eval.py [--seconds 2]``; < 30 s.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from centrum.config.v1 import flag_service_pb2 as pb
from centrum.sdk.flags import EvaluationContext, FlagSet, _murmur, python_to_value

FLAGD_US_PER_EVAL = 2.2
TARGET_PER_S = 500_000


def _condition(attribute: str, operator: int, *values: Any) -> pb.Condition:
    found = pb.Condition(attribute=attribute, values=[python_to_value(v) for v in values])
    found.operator = operator  # type: ignore[assignment]
    return found


def _flag(key: str, rules: list[pb.TargetingRule]) -> pb.Flag:
    return pb.Flag(
        key=key,
        enabled=True,
        variant_type=pb.VARIANT_TYPE_BOOL,
        variants={"on": python_to_value(True), "off": python_to_value(False)},
        default_variant="off",
        rules=rules,
    )


def flag_set() -> FlagSet:
    """The three benchmarked flags."""
    targeting = [
        pb.TargetingRule(
            id=f"r{i}",
            variant="on",
            conditions=[
                _condition("country", pb.CONDITION_OPERATOR_IN, *countries),
                _condition("age", pb.CONDITION_OPERATOR_GREATER_OR_EQUAL, 18),
            ],
        )
        for i, countries in enumerate([["XX", "YY"], ["ZZ"], ["DE", "AT", "CH"]])
    ]
    targeting[-1].conditions[1].CopyFrom(
        _condition("app", pb.CONDITION_OPERATOR_SEMVER_GREATER_THAN, "2.0.0")
    )
    rollout = pb.TargetingRule(
        id="split",
        rollout=pb.FractionalRollout(
            variants=[
                pb.WeightedVariant(variant="on", weight=25_000),
                pb.WeightedVariant(variant="off", weight=75_000),
            ]
        ),
    )
    return FlagSet(
        "bench",
        [_flag("static", []), _flag("targeting", targeting), _flag("rollout", [rollout])],
    )


def measure(
    evaluate: Callable[[str, EvaluationContext], object], key: str, seconds: float
) -> float:
    """Evaluations per second of `key` over cycling contexts."""
    contexts = [
        EvaluationContext(f"user-{i}", {"country": "DE", "age": 30 + i % 50, "app": "2.3.1"})
        for i in range(10_000)
    ]
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for context in contexts:
            evaluate(key, context)
        done += len(contexts)
    return done / (time.perf_counter() - started)


def main() -> None:
    """Runs every case and prints one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds
    flags = flag_set()
    assert (
        flags.evaluate(
            "targeting", EvaluationContext("u", {"country": "DE", "age": 30, "app": "2.3.1"})
        ).value
        is True
    )
    results: dict[str, float] = {}
    for key in ("static", "targeting", "rollout"):
        results[key] = measure(flags.evaluate, key, seconds)
    native = _murmur.murmur3_32
    _murmur.murmur3_32 = _murmur.murmur3_32_pure
    try:
        results["rollout_pure_python_hash"] = measure(flag_set().evaluate, "rollout", seconds)
    finally:
        _murmur.murmur3_32 = native
    flagd_per_s = 1e6 / FLAGD_US_PER_EVAL
    print(
        json.dumps(
            {
                "bench": "flags_eval",
                "evaluations_per_s": {k: round(v) for k, v in results.items()},
                "us_per_eval": {k: round(1e6 / v, 3) for k, v in results.items()},
                "target_per_s": TARGET_PER_S,
                "meets_target": {k: v >= TARGET_PER_S for k, v in results.items()},
                "ratio_vs_flagd": {k: round(v / flagd_per_s, 2) for k, v in results.items()},
                "hash": "mmh3" if native is not _murmur.murmur3_32_pure else "pure-python",
            }
        )
    )


if __name__ == "__main__":
    main()
