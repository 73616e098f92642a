"""The admission step: a bound on the calls one process works on at once.

A process that takes more calls than it can finish only makes every call slower: its event loop
turns come further apart, each database transaction holds its connection and write lock longer,
and waiting calls hold the rest of the pool until reads time out on it. Past the bound, a call
is refused at once with RESOURCE_EXHAUSTED and RetryInfo, which a client can back off from,
while the calls already admitted finish at the speed the process has. The bound has to be low
for that: offered 1.5 times its capacity on the embedded backends, a process kept 65-86 % of its
capacity as successful calls with a bound of 32, 41 % with 64 and 10-12 % with 128 or 512,
where nearly every admitted call outlived its deadline (BENCHMARKS.md, "Overload").

Calls that stream their responses (watches, downloads) live as long as their caller wants and
are not counted; unary calls and client streams (uploads) are.
"""

from __future__ import annotations

from centrum.interceptors.chain import Call
from centrum.interceptors.errors import ResourceExhausted
from centrum.interceptors.step import Step

__all__ = ["AdmissionStep"]


class AdmissionStep(Step):
    """Refuses calls beyond `limit` in progress at once in this process."""

    def __init__(self, limit: int, *, retry_after_s: float = 0.5) -> None:
        self._limit = limit
        self._retry_after_s = retry_after_s
        self.in_progress = 0
        """Calls admitted and not yet finished."""

    async def before(self, call: Call) -> None:
        """Admits the call, or refuses it when `limit` calls are in progress."""
        if self.in_progress >= self._limit:
            raise ResourceExhausted(
                "the server is at its limit of calls in progress; retry shortly",
                reason="SERVER_OVERLOADED",
                info={"limit": str(self._limit)},
                retry_after_s=self._retry_after_s,
            )
        self.in_progress += 1
        call.state[self] = True

    async def after(self, call: Call) -> None:
        """Counts an admitted call as finished."""
        if call.state.pop(self, False):
            self.in_progress -= 1
