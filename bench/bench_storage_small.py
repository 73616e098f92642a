"""Benchmark: small objects through a server on the embedded defaults (SQLite, local disk).

    .venv/bin/python bench/bench_storage_small.py [--seconds 5] [--rounds 3]

One server subprocess on the embedded backends (`bench/soak.py`'s `mix_server`), rate limits
raised so that nothing is refused. 64 objects of 4 KiB are uploaded first; per round, in turn,
32 callers send **stat** (StatObject: the object's metadata row) and **download** (Download of
the whole object: the metadata row, then the bytes from disk). Where `bench_storage.py` measures
bytes per second of one large object, this measures the per-call cost that many small objects
(avatars, attachments, thumbnails) meet. Reported: calls per second and the server's CPU per
call (all its threads, `/proc`), medians over rounds.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import AsyncIterator

from soak import Caller, bench_main, measure_callers, setup_mix

from centrum.sdk import aio
from centrum.storage.v1 import storage_service_pb2 as pb

CALLERS = 32
OBJECTS = 64
SIZE = 4096
BUCKET = "soak"  # made by `setup_mix`


async def _upload(client: aio.AsyncClient, key: str) -> None:
    async def requests() -> AsyncIterator[pb.UploadRequest]:
        yield pb.UploadRequest(
            header=pb.UploadHeader(
                bucket=BUCKET, key=key, content_type="application/octet-stream", size_bytes=SIZE
            )
        )
        yield pb.UploadRequest(chunk=os.urandom(SIZE))

    await client.storage.Upload(requests())


async def _run(
    target: str, tokens: list[str], pid: int, seconds: float, rounds: int
) -> dict[str, object]:
    clients = [aio.connect(target, token=token) for token in tokens[:1]]
    client = clients[0]  # one principal owns the objects; private objects are its own to read

    async def stat(k: int, n: int) -> None:
        key = f"small/{(k * 7 + n) % OBJECTS}"
        await client.storage.StatObject(pb.StatObjectRequest(bucket=BUCKET, key=key))

    async def download(k: int, n: int) -> None:
        key = f"small/{(k * 7 + n) % OBJECTS}"
        async for _ in client.storage.Download(pb.DownloadRequest(bucket=BUCKET, key=key)):
            pass

    stat_call: Caller = stat
    download_call: Caller = download
    cases = {"stat": [stat_call] * CALLERS, "download": [download_call] * CALLERS}
    rates: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    try:
        await setup_mix(client)
        for i in range(OBJECTS):
            await _upload(client, f"small/{i}")
        await measure_callers(pid, 1.0, cases["stat"])  # warm-up
        for _ in range(rounds):
            for name, callers in cases.items():
                per_caller, cpu_per_call = await measure_callers(pid, seconds, callers)
                rates[name].append(sum(per_caller))
                cpu[name].append(cpu_per_call)
    finally:
        for one in clients:
            await one.close()
    report: dict[str, object] = {"bench": "storage_small", "seconds": seconds, "rounds": rounds}
    for name in cases:
        report[f"{name}_per_s"] = round(statistics.median(rates[name]))
        report[f"{name}_server_cpu_us_per_call"] = round(statistics.median(cpu[name]))
    report["load_avg_1m"] = os.getloadavg()[0]
    return report


def main() -> None:
    """Starts the server, runs the rounds, prints one JSON line."""
    buckets = ["storage.read", "storage.download", "storage.write", "storage.admin"]
    bench_main(__doc__.split("\n")[0], buckets, _run)


if __name__ == "__main__":
    main()
