"""AIP-158 page tokens: an opaque offset bound to the filters of the listing."""

from __future__ import annotations

import base64
import hashlib
import json

from centrum.interceptors.errors import FieldViolation, InvalidArgument

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "page_of"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_MAX_OFFSET = 10**9


class Page:
    """Where a listing starts and how many rows it returns."""

    def __init__(self, offset: int, size: int, fingerprint: str) -> None:
        self.offset = offset
        self.size = size
        self._fingerprint = fingerprint

    def next_token(self, returned: int, more: bool) -> str:
        """The token of the following page, empty on the last one."""
        if not more:
            return ""
        payload = json.dumps({"o": self.offset + returned, "f": self._fingerprint})
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def page_of(page_size: int, page_token: str, *filters: object) -> Page:
    """The page a request asks for; a token from other filters fails with INVALID_ARGUMENT."""
    size = DEFAULT_PAGE_SIZE if page_size <= 0 else min(page_size, MAX_PAGE_SIZE)
    fingerprint = hashlib.sha256(json.dumps([str(f) for f in filters]).encode()).hexdigest()[:16]
    if not page_token:
        return Page(0, size, fingerprint)
    try:
        data = json.loads(base64.urlsafe_b64decode(page_token + "=" * (-len(page_token) % 4)))
        offset = int(data["o"])
        if data["f"] != fingerprint or not 0 <= offset <= _MAX_OFFSET:
            raise ValueError
    except (ValueError, KeyError, TypeError, OverflowError):
        raise InvalidArgument(
            "the page token is invalid or belongs to other filters",
            reason="INVALID_PAGE_TOKEN",
            field_violations=[FieldViolation("page_token", "not a token of this listing")],
        ) from None
    return Page(offset, size, fingerprint)
