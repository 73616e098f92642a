"""Opaque page tokens (AIP-158): the position after the last item, base64url-encoded."""

from __future__ import annotations

import base64
import binascii

from centrum.interceptors.errors import FieldViolation, InvalidArgument

__all__ = ["decode_token", "encode_token", "page_size"]


def page_size(requested: int, default: int = 50, maximum: int = 200) -> int:
    """The page size to use: the default for 0, capped at the maximum."""
    return min(requested or default, maximum)


def encode_token(position: str) -> str:
    """The token of a position."""
    return base64.urlsafe_b64encode(position.encode()).decode()


def decode_token(token: str) -> str:
    """The position of a token; a malformed one is INVALID_ARGUMENT."""
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(
            "the page token is malformed",
            reason="INVALID_PAGE_TOKEN",
            field_violations=[FieldViolation("page_token", "is not a token this server issued")],
        ) from None
