"""The backend boundary of the auth servicers: database outages become UNAVAILABLE."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from centrum.interceptors.errors import Unavailable
from centrum.services.db import DATABASE_OUTAGES

__all__ = ["backend_boundary"]

_log = structlog.get_logger("centrum.auth")
P = ParamSpec("P")
R = TypeVar("R")
_OUTAGES: tuple[type[Exception], ...] = (*DATABASE_OUTAGES, PoolTimeout)


def backend_boundary(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Maps a lost database connection to UNAVAILABLE with RetryInfo."""

    @functools.wraps(handler)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await handler(*args, **kwargs)
        except _OUTAGES as exc:
            _log.warning("auth database unavailable", error=type(exc).__name__)
            raise Unavailable(
                "the auth database is unreachable", reason="DATABASE_UNAVAILABLE", retry_after_s=1.0
            ) from None
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            raise Unavailable(
                "the auth database is unreachable", reason="DATABASE_UNAVAILABLE", retry_after_s=1.0
            ) from None

    return guarded
