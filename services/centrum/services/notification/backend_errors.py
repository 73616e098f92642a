"""Mapping the database's unavailability to UNAVAILABLE with RetryInfo, for every RPC."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from centrum.interceptors.errors import Unavailable
from centrum.services.db import BackendUnavailable

__all__ = ["maps_backend_errors"]

Servicer = TypeVar("Servicer", bound=type)
_RETRY_AFTER_S = 1.0


def _mapped(
    method: Callable[[Any, Any, Any], Awaitable[Any]],
) -> Callable[[Any, Any, Any], Awaitable[Any]]:
    @functools.wraps(method)
    async def call(self: Any, request: Any, context: Any) -> Any:
        try:
            return await method(self, request, context)
        except BackendUnavailable:
            raise Unavailable(
                "the database is unavailable",
                reason="BACKEND_UNAVAILABLE",
                retry_after_s=_RETRY_AFTER_S,
            ) from None

    return call


def maps_backend_errors(cls: Servicer) -> Servicer:
    """Class decorator: every RPC method (a capitalised coroutine) answers UNAVAILABLE with
    RetryInfo when the database cannot be reached."""
    for name, member in list(vars(cls).items()):
        if name[:1].isupper() and inspect.iscoroutinefunction(member):
            setattr(cls, name, _mapped(member))
    return cls
