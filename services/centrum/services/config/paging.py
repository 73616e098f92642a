"""Opaque page tokens (AIP-158): a listing's position and the request fields it is bound to."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from centrum.interceptors.errors import FieldViolation, InvalidArgument

__all__ = ["decode_token", "encode_token", "page_size"]


def page_size(requested: int, default: int, maximum: int = 1000) -> int:
    """The page size to serve: the default for 0, capped at `maximum`."""
    return default if requested <= 0 else min(requested, maximum)


def encode_token(position: Mapping[str, Any]) -> str:
    """An opaque token for `position` (a small JSON-compatible mapping)."""
    raw = json.dumps(dict(position), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, bound: Mapping[str, Any]) -> dict[str, Any]:
    """The position in `token`; INVALID_ARGUMENT when it is malformed or `bound` fields changed."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        decoded = None
    if not isinstance(decoded, dict) or any(decoded.get(k) != v for k, v in bound.items()):
        raise InvalidArgument(
            "page_token is not a token of this listing",
            reason="INVALID_PAGE_TOKEN",
            field_violations=[FieldViolation("page_token", "not a token of this listing")],
        )
    return decoded
