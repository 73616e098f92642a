"""Benchmark: in-process SDK flag evaluations per second (the FlagSet behind FlagClient).

Cases:

* ``static``: a flag without rules (reason STATIC), over 10,000 contexts cycled through;
* ``targeting``: three rules of two conditions each (string IN, numeric, semver), the last match;
* ``rollout_*``: a fractional rollout (MurmurHash3 of flag key + targeting key), with ``mmh3``
  and with the pure-Python fallback the SDK uses when mmh3 is absent; ``returning_users`` cycles
  10,000 users (each rollout rule remembers the result of its last 16,384 bucketed keys, so after
  the first pass no hashing happens), ``distinct_users`` cycles four times as many users as that
  memo holds (every evaluation hashes: the cold path).

Each case reports evaluations per wall-clock second (the target's unit) and per CPU second of
this process (what a loaded machine still measures fairly).

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
from centrum.sdk.flags.evaluation import ROLLOUT_MEMO_SIZE

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


def _contexts(count: int, prefix: str = "user") -> list[EvaluationContext]:
    return [
        EvaluationContext(f"{prefix}-{i}", {"country": "DE", "age": 30 + i % 50, "app": "2.3.1"})
        for i in range(count)
    ]


def measure(
    evaluate: Callable[[str, EvaluationContext], object],
    key: str,
    seconds: float,
    contexts: list[EvaluationContext],
) -> tuple[float, float]:
    """Evaluations of `key` over `contexts` (cycled) per wall-clock second and per CPU second."""
    done = 0
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for context in contexts:
            evaluate(key, context)
        done += len(contexts)
    return done / (time.perf_counter() - started), done / (time.process_time() - cpu)


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
    returning = _contexts(10_000)
    # More distinct users than a rollout rule remembers: every evaluation hashes.
    distinct = _contexts(4 * ROLLOUT_MEMO_SIZE, "fresh")
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def case(
        name: str,
        evaluate: Callable[[str, EvaluationContext], object],
        key: str,
        contexts: list[EvaluationContext],
    ) -> None:
        wall[name], cpu[name] = measure(evaluate, key, seconds, contexts)

    case("static", flags.evaluate, "static", returning)
    case("targeting", flags.evaluate, "targeting", returning)
    native = _murmur.murmur3_32
    hashes = {"mmh3": native} if native is not _murmur.murmur3_32_pure else {}
    hashes["pure_python"] = _murmur.murmur3_32_pure
    for label, hash32 in hashes.items():
        _murmur.murmur3_32 = hash32
        try:
            # A fresh flag set per case: its rollout rule compiles for that hash, memo empty.
            case(f"rollout_{label}_returning_users", flag_set().evaluate, "rollout", returning)
            case(f"rollout_{label}_distinct_users", flag_set().evaluate, "rollout", distinct)
        finally:
            _murmur.murmur3_32 = native
    flagd_per_s = 1e6 / FLAGD_US_PER_EVAL
    print(
        json.dumps(
            {
                "bench": "flags_eval",
                "evaluations_per_s": {k: round(v) for k, v in wall.items()},
                "evaluations_per_cpu_s": {k: round(v) for k, v in cpu.items()},
                "us_per_eval_cpu": {k: round(1e6 / v, 3) for k, v in cpu.items()},
                "target_per_s": TARGET_PER_S,
                "meets_target": {k: v >= TARGET_PER_S for k, v in wall.items()},
                "ratio_vs_flagd": {k: round(v / flagd_per_s, 2) for k, v in wall.items()},
                "rollout_memo_size": ROLLOUT_MEMO_SIZE,
            }
        )
    )


if __name__ == "__main__":
    main()
