"""Rules for object keys, bucket names, media types and user metadata.

Each check returns the field violations it finds (empty when the value is valid), so a request's
violations are reported together.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from centrum.interceptors.errors import FieldViolation

__all__ = [
    "MAX_KEY_BYTES",
    "bucket_name_violations",
    "content_type_allowed",
    "content_type_violations",
    "key_violations",
    "metadata_violations",
    "normalize_key",
]

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_METADATA_KEY = re.compile(r"^[a-z0-9_-]{1,128}$")


def normalize_key(key: str) -> str:
    """The key as stored: NFC-normalised."""
    return unicodedata.normalize("NFC", key)


def key_violations(key: str, field: str) -> list[FieldViolation]:
    """Violations of the key rules by `key` (after NFC normalisation)."""
    key = normalize_key(key)
    if not key:
        return [FieldViolation(field, "must not be empty")]
    problems: list[str] = []
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        problems.append(f"must be at most {MAX_KEY_BYTES} bytes of UTF-8")
    if key.startswith("/") or key.startswith("\\") or re.match(r"^[A-Za-z]:[\\/]", key):
        problems.append("must not be an absolute path")
    if any(segment in (".", "..") for segment in re.split(r"[/\\]", key)):
        problems.append("must not contain a `.` or `..` segment")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        problems.append("must not contain control characters")
    return [FieldViolation(field, problem) for problem in problems]


def bucket_name_violations(name: str, field: str) -> list[FieldViolation]:
    """Violations of the bucket name rules."""
    if _BUCKET_NAME.match(name) and "--" not in name:
        return []
    return [
        FieldViolation(
            field,
            "must be 3 to 63 lower-case letters, digits and single `-`, "
            "starting and ending with a letter or digit",
        )
    ]


def content_type_violations(content_type: str, field: str) -> list[FieldViolation]:
    """Violations of the media type syntax (`type/subtype`, no parameters)."""
    if _MEDIA_TYPE.match(content_type.lower()):
        return []
    return [FieldViolation(field, "must be a media type such as `image/png`")]


def content_type_allowed(content_type: str, allowed: Iterable[str]) -> bool:
    """Whether `content_type` matches one of `allowed` (exact or `type/*`); empty allows all."""
    patterns = list(allowed)
    if not patterns:
        return True
    base = content_type.lower()
    top = base.split("/", 1)[0]
    return any(p.lower() == base or p.lower() == f"{top}/*" or p == "*/*" for p in patterns)


def metadata_violations(metadata: Mapping[str, str], field: str) -> list[FieldViolation]:
    """Violations of the user metadata rules (key syntax, 2 KiB in total)."""
    violations = [
        FieldViolation(f"{field}[{k!r}]", "keys are lower-case letters, digits, `-` and `_`")
        for k in metadata
        if not _METADATA_KEY.match(k)
    ]
    total = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if total > MAX_METADATA_BYTES:
        violations.append(FieldViolation(field, f"must be at most {MAX_METADATA_BYTES} bytes"))
    return violations
