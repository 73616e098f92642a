"""The principal cache of the auth service's hot paths (clocks injected, no backends)."""

from __future__ import annotations

from centrum.interceptors.credentials import MemoryRevocations
from centrum.services.auth.principal_cache import PrincipalCache, principal_marker


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """A stand-in for the database: counts reads, returns the current value."""

    def __init__(self) -> None:
        self.value: str | None = "v1"
        self.reads = 0

    async def load(self) -> tuple[str, tuple[str, ...]] | None:
        self.reads += 1
        return None if self.value is None else (self.value, (principal_marker("sa_1"),))


def _cache(clock: Clock, ttl_s: float = 2.0) -> PrincipalCache[str]:
    return PrincipalCache(
        MemoryRevocations(clock=clock), ttl_s=ttl_s, clock=clock, wall_clock=clock
    )


async def test_a_read_is_kept_for_the_ttl_then_read_again() -> None:
    """Within the TTL the database is read once; after it, the next call reads it again."""
    clock, source = Clock(), Source()
    cache = _cache(clock)
    assert [await cache.get("k", source.load) for _ in range(3)] == ["v1"] * 3
    assert source.reads == 1
    source.value = "v2"
    clock.now += 2.5
    assert await cache.get("k", source.load) == "v2"
    assert source.reads == 2


async def test_a_change_marker_bypasses_the_cache_until_it_lapses() -> None:
    """After `changed`, reads depending on the marker go to the database and are not kept;
    once the marker has outlived every entry, caching resumes."""
    clock, source = Clock(), Source()
    cache = _cache(clock)
    await cache.get("k", source.load)
    source.value = "v2"
    await cache.changed(principal_marker("sa_1"))
    assert await cache.get("k", source.load) == "v2"
    await cache.get("k", source.load)
    assert source.reads == 3
    clock.now += 3.5
    await cache.get("k", source.load)
    await cache.get("k", source.load)
    assert source.reads == 4


async def test_missing_principals_and_a_zero_ttl_are_never_kept() -> None:
    """A read that found nothing is not cached (a new principal works at once), and a TTL of
    zero reads the database on every call."""
    clock, source = Clock(), Source()
    source.value = None
    cache = _cache(clock)
    assert await cache.get("k", source.load) is None
    source.value = "v1"
    assert await cache.get("k", source.load) == "v1"
    uncached = _cache(clock, ttl_s=0)
    await uncached.get("k", source.load)
    await uncached.get("k", source.load)
    assert source.reads == 4
