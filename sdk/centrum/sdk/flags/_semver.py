"""Semantic versions (SemVer 2.0, a leading "v" allowed) reduced to comparable keys."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["semver_key"]

_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def semver_key(text: object) -> tuple[Any, ...] | None:
    """A key ordering versions by SemVer precedence (build metadata ignored), or None if invalid."""
    if not isinstance(text, str):
        return None
    return _parse(text)


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[Any, ...] | None:
    match = _SEMVER.match(text)
    if match is None:
        return None
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    if pre is None:
        # A release ranks above every pre-release of the same version.
        return (int(major), int(minor), int(patch), (1,))
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (int(major), int(minor), int(patch), (0, identifiers))
