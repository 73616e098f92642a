"""The request-context step: request id, peer, deadline and trace id for every call.

It runs right after the tracing step, whose trace id it takes (or the current span's). The
request id comes from the caller's `x-request-id` when that is a sane token, else it is
generated; it is echoed in the response's trailing metadata and carried by the call's log line
and audit event.
"""

from __future__ import annotations

import random
import re

from opentelemetry import trace

from centrum.interceptors.chain import Call
from centrum.interceptors.context import RequestInfo, set_principal, set_request
from centrum.interceptors.step import Step

__all__ = ["REQUEST_ID_HEADER", "RequestContextStep", "new_id"]

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_id() -> str:
    """A 128-bit random id in hex, for request and event ids.

    Ids need uniqueness, not secrecy, so the per-process PRNG (seeded from the OS) serves them
    without a system call per call.
    """
    return f"{random.getrandbits(128):032x}"


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
