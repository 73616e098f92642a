"""Health per service, derived from its backends and kept current by a probe loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import structlog
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health_pb2

from centrum.interceptors.lifecycle import cancel_and_wait
from centrum.services.runtime import Probe

__all__ = ["HealthMonitor"]


_log = structlog.get_logger("centrum.health")
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthMonitor:
    """Sets each gRPC service SERVING while all its backends answer, NOT_SERVING otherwise."""

    def __init__(
        self,
        servicer: health_aio.HealthServicer,
        probes: Mapping[str, Sequence[tuple[str, Probe]]],
        interval_s: float,
    ) -> None:
        self._servicer = servicer
        self._probes = probes
        self._interval_s = interval_s
        self._down: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def check_once(self) -> None:
        """Probes every backend once and publishes the statuses."""
        results: dict[str, bool] = {}
        all_serving = True
        for service, probes in self._probes.items():
            serving = True
            for backend, probe in probes:
                if backend not in results:
                    results[backend] = await _safe(probe)
                serving = serving and results[backend]
            all_serving = all_serving and serving
            await self._servicer.set(service, SERVING if serving else NOT_SERVING)
        await self._servicer.set("", SERVING if all_serving else NOT_SERVING)
        down = {name for name, ok in results.items() if not ok}
        for backend in down - self._down:
            _log.warning("backend unreachable", backend=backend)
        for backend in self._down - down:
            _log.info("backend reachable again", backend=backend)
        self._down = down

    def start(self) -> None:
        """Starts probing in the background."""
        self._task = asyncio.create_task(self._loop(), name="health-monitor")

    async def stop(self) -> None:
        """Stops probing and marks every service NOT_SERVING."""
        await cancel_and_wait(self._task)
        await self._servicer.enter_graceful_shutdown()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.check_once()


async def _safe(probe: Probe) -> bool:
    try:
        async with asyncio.timeout(2.0):
            return await probe()
    except Exception:
        return False
