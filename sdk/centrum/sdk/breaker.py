"""A client-side circuit breaker: stop calling a server that keeps failing, probe it, resume.

    from centrum import sdk
    from centrum.sdk.breaker import CircuitBreaker

    breaker = CircuitBreaker(failure_threshold=5, cooldown_s=10)
    client = sdk.connect(target, token=token, breaker=breaker)

One circuit per method (or per service, `scope="service"`) moves through three states:

* **closed**: calls go through. It opens after `failure_threshold` consecutive failures, or when
  `failure_ratio` of the calls in the last `window_s` seconds failed (once `min_calls` were seen).
* **open**: calls are refused at once, without touching the network, with a `CentrumError`
  UNAVAILABLE (reason `CIRCUIT_OPEN`) whose `retry_after` is the rest of the cool-down.
* **half-open**: after `cooldown_s`, up to `half_open_probes` calls go through as probes. That
  many successes close the circuit; one failure opens it for another cool-down. A probe that has
  not finished within `cooldown_s` (a long stream, say) frees its slot for another.

Only outcomes that say the server is unhealthy count as failures: UNAVAILABLE and
DEADLINE_EXCEEDED by default, RESOURCE_EXHAUSTED if asked. A caller's mistake (INVALID_ARGUMENT,
NOT_FOUND, PERMISSION_DENIED, ...) is an answer from a working server and counts as a success;
a call the caller cancelled counts as nothing. The client's interceptor sits above gRPC's own
retries, so the breaker sees each call's final outcome, after the retries the contract allows.

The clock is injected (`clock=`), so tests drive the state machine deterministically. A breaker
is safe to share between threads and between asyncio tasks: no state change awaits.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Literal

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from centrum.sdk.errors import CentrumError

__all__ = [
    "DEFAULT_FAILURE_CODES",
    "HEALTH_CODES",
    "BreakerState",
    "CircuitBreaker",
    "Permit",
    "StateListener",
    "status_of",
]

DEFAULT_FAILURE_CODES: frozenset[grpc.StatusCode] = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)
"""What counts as a failure unless told otherwise."""

HEALTH_CODES: frozenset[grpc.StatusCode] = DEFAULT_FAILURE_CODES | {
    grpc.StatusCode.RESOURCE_EXHAUSTED
}
"""The codes that may count as failures: the ones that speak of the server's health."""

_NEUTRAL_CODES = frozenset({grpc.StatusCode.CANCELLED})
_WINDOW_BUCKETS = 10
_REASON = "CIRCUIT_OPEN"
_DOMAIN = "centrum.dev"


class BreakerState(enum.Enum):
    """The state of one circuit."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


StateListener = Callable[[str, BreakerState, BreakerState], None]
"""Called as `(circuit, old, new)` on every state change, under the breaker's lock: keep it short
and never call the breaker from it."""


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call; hand it back to `CircuitBreaker.record` with the outcome."""

    circuit: str
    generation: int
    probe: int | None
    """The probe's number while the circuit is half-open, else None."""


@dataclass(slots=True)
class _Bucket:
    start: float
    calls: int = 0
    failures: int = 0


@dataclass(slots=True)
class _Circuit:
    state: BreakerState = BreakerState.CLOSED
    generation: int = 0
    """Bumped on every state change, so outcomes of calls admitted earlier are recognised."""
    consecutive_failures: int = 0
    window: deque[_Bucket] = field(default_factory=deque)
    opened_at: float = 0.0
    probes: dict[int, float] = field(default_factory=dict)
    """Probes in flight while half-open: number -> when admitted."""
    probe_successes: int = 0


class CircuitBreaker:
    """Per-method (or per-service) circuit breaker for Centrum clients; see the module docstring."""

    def __init__(
        self,
        *,
        failure_threshold: int | None = 5,
        failure_ratio: float | None = None,
        window_s: float = 30.0,
        min_calls: int = 20,
        cooldown_s: float = 10.0,
        half_open_probes: int = 1,
        scope: Literal["method", "service"] = "method",
        failure_codes: Collection[grpc.StatusCode] = DEFAULT_FAILURE_CODES,
        clock: Callable[[], float] = time.monotonic,
        on_state_change: StateListener | None = None,
    ) -> None:
        """Configures the breaker; `failure_threshold=None` opens by `failure_ratio` only.

        Raises ValueError for settings that cannot work, including failure codes that are a
        caller's mistake rather than a sign of an unhealthy server.
        """
        if failure_threshold is None and failure_ratio is None:
            raise ValueError("set failure_threshold, failure_ratio or both")
        if failure_threshold is not None and failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if failure_ratio is not None and not 0 < failure_ratio <= 1:
            raise ValueError("failure_ratio must be in (0, 1]")
        if window_s <= 0 or cooldown_s <= 0:
            raise ValueError("window_s and cooldown_s must be positive")
        if min_calls < 1 or half_open_probes < 1:
            raise ValueError("min_calls and half_open_probes must be at least 1")
        if scope not in ("method", "service"):
            raise ValueError("scope must be 'method' or 'service'")
        codes = frozenset(failure_codes)
        if not codes or not codes <= HEALTH_CODES:
            names = ", ".join(sorted(c.name for c in HEALTH_CODES))
            raise ValueError(f"failure_codes must be a non-empty subset of {names}")
        self.failure_threshold = failure_threshold
        self.failure_ratio = failure_ratio
        self.window_s = window_s
        self.min_calls = min_calls
        self.cooldown_s = cooldown_s
        self.half_open_probes = half_open_probes
        self.scope = scope
        self.failure_codes = codes
        self._clock = clock
        self._on_state_change = on_state_change
        self._lock = threading.Lock()
        self._circuits: dict[str, _Circuit] = {}
        self._probe_numbers = itertools.count(1)

    def circuit_of(self, method: str | bytes) -> str:
        """The circuit a full method name (`/package.Service/Method`) belongs to."""
        name = method.decode() if isinstance(method, bytes) else method
        if self.scope == "service":
            return name.strip("/").split("/", 1)[0]
        return name

    def state(self, method: str | bytes) -> BreakerState:
        """The current state of the circuit of `method` (open turns half-open after cool-down)."""
        key = self.circuit_of(method)
        with self._lock:
            circuit = self._circuits.get(key)
            if circuit is None:
                return BreakerState.CLOSED
            self._expire_cooldown(key, circuit, self._clock())
            return circuit.state

    def admit(self, method: str | bytes) -> Permit:
        """Lets one call to `method` through, or raises the refusal (`CentrumError`, UNAVAILABLE).

        Every permit must go back through `record`, whatever became of the call.
        """
        key = self.circuit_of(method)
        with self._lock:
            now = self._clock()
            circuit = self._circuits.setdefault(key, _Circuit())
            self._expire_cooldown(key, circuit, now)
            if circuit.state is BreakerState.CLOSED:
                return Permit(key, circuit.generation, None)
            if circuit.state is BreakerState.OPEN:
                raise _refusal(key, circuit.opened_at + self.cooldown_s - now, "open")
            for number, admitted in list(circuit.probes.items()):
                if now - admitted >= self.cooldown_s:
                    del circuit.probes[number]
            if len(circuit.probes) >= self.half_open_probes:
                raise _refusal(key, self.cooldown_s, "half-open with every probe in flight")
            number = next(self._probe_numbers)
            circuit.probes[number] = now
            return Permit(key, circuit.generation, number)

    def record(self, permit: Permit, code: grpc.StatusCode | None) -> None:
        """Records the outcome of an admitted call: its status code, or None if it never ended
        in one (a local exception); None and CANCELLED count neither way."""
        with self._lock:
            now = self._clock()
            circuit = self._circuits.setdefault(permit.circuit, _Circuit())
            self._expire_cooldown(permit.circuit, circuit, now)
            if permit.generation != circuit.generation:
                return  # admitted under an earlier state: its verdict is already spoken
            if permit.probe is not None:
                circuit.probes.pop(permit.probe, None)
            if code is None or code in _NEUTRAL_CODES:
                return
            failed = code in self.failure_codes
            if circuit.state is BreakerState.HALF_OPEN:
                if failed:
                    self._open(permit.circuit, circuit, now)
                    return
                circuit.probe_successes += 1
                if circuit.probe_successes >= self.half_open_probes:
                    self._transition(permit.circuit, circuit, BreakerState.CLOSED)
                return
            self._count(circuit, now, failed)
            if self._should_open(circuit):
                self._open(permit.circuit, circuit, now)

    def _count(self, circuit: _Circuit, now: float, failed: bool) -> None:
        circuit.consecutive_failures = circuit.consecutive_failures + 1 if failed else 0
        if self.failure_ratio is None:
            return
        width = self.window_s / _WINDOW_BUCKETS
        window = circuit.window
        while window and window[0].start <= now - self.window_s:
            window.popleft()
        if not window or now >= window[-1].start + width:
            window.append(_Bucket(start=now))
        window[-1].calls += 1
        window[-1].failures += failed

    def _should_open(self, circuit: _Circuit) -> bool:
        if (
            self.failure_threshold is not None
            and circuit.consecutive_failures >= self.failure_threshold
        ):
            return True
        if self.failure_ratio is None:
            return False
        calls = sum(bucket.calls for bucket in circuit.window)
        failures = sum(bucket.failures for bucket in circuit.window)
        return calls >= self.min_calls and failures >= self.failure_ratio * calls

    def _expire_cooldown(self, key: str, circuit: _Circuit, now: float) -> None:
        if circuit.state is BreakerState.OPEN and now >= circuit.opened_at + self.cooldown_s:
            self._transition(key, circuit, BreakerState.HALF_OPEN)

    def _open(self, key: str, circuit: _Circuit, now: float) -> None:
        circuit.opened_at = now
        self._transition(key, circuit, BreakerState.OPEN)

    def _transition(self, key: str, circuit: _Circuit, new: BreakerState) -> None:
        old, circuit.state = circuit.state, new
        circuit.generation += 1
        circuit.consecutive_failures = 0
        circuit.window.clear()
        circuit.probes.clear()
        circuit.probe_successes = 0
        if self._on_state_change is not None:
            self._on_state_change(key, old, new)


def status_of(error: BaseException | None) -> grpc.StatusCode | None:
    """The status of a finished call from its error: OK for none, None for an exception that is
    not an RPC error (the call never got an answer to judge by)."""
    if error is None:
        return grpc.StatusCode.OK
    if isinstance(error, grpc.RpcError):
        code_of = getattr(error, "code", None)
        code = code_of() if callable(code_of) else None
        if isinstance(code, grpc.StatusCode):
            return code
    return None


def _refusal(circuit: str, retry_after: float, why: str) -> CentrumError:
    """The error of a refused call, with the google.rpc details a server would send."""
    retry_after = max(retry_after, 0.0)
    message = f"circuit breaker {why} for {circuit}; the call was not sent"
    info = error_details_pb2.ErrorInfo(
        reason=_REASON, domain=_DOMAIN, metadata={"circuit": circuit}
    )
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration())
    retry.retry_delay.FromNanoseconds(round(retry_after * 1e9))
    status = status_pb2.Status(code=grpc.StatusCode.UNAVAILABLE.value[0], message=message)
    for detail in (info, retry):
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return CentrumError(
        status=grpc.StatusCode.UNAVAILABLE,
        message=message,
        reason=_REASON,
        domain=_DOMAIN,
        metadata={"circuit": circuit},
        retry_after=retry_after,
        trailers=(("grpc-status-details-bin", status.SerializeToString()),),
    )
