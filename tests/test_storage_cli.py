"""`centrum storage` against a running server: put, ls, get, url, rm, and one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

from centrum.sdk import aio
from centrum.storage.v1 import storage_service_pb2 as pb
from harness.centrum import StartCentrum, run_cli
from harness.tokens import TokenMint


async def test_put_ls_get_url_rm_round_trip(
    start_centrum: StartCentrum, token_mint: TokenMint, tmp_path: Path
) -> None:
    """A file goes up, is listed, comes back identical (`get --json` prints its metadata), gets
    a signed URL and is removed; getting it then exits 3 (NOT_FOUND) and leaves no partial file."""
    app = await start_centrum(storage={"http_listen": "127.0.0.1:0"})
    token = token_mint.token(scopes=["storage.admin"])
    async with aio.connect(f"127.0.0.1:{app.port}", token=token) as client:
        await client.storage.CreateBucket(pb.CreateBucketRequest(name="docs"))
    code, _, err = await run_cli(
        app, token, "storage", "put", "docs", "a/hello.txt", str(_file(tmp_path))
    )
    assert code == 0, err
    code, out, err = await run_cli(app, token, "storage", "ls", "docs", "--json")
    assert code == 0, err
    assert [o["key"] for o in json.loads(out)["objects"]] == ["a/hello.txt"]
    copy = tmp_path / "copy.txt"
    code, out, err = await run_cli(
        app, token, "storage", "get", "docs", "a/hello.txt", str(copy), "--json"
    )
    assert code == 0, err
    assert copy.read_bytes() == _file(tmp_path).read_bytes()
    assert int(json.loads(out)["size_bytes"]) == copy.stat().st_size
    code, out, err = await run_cli(app, token, "storage", "url", "docs", "a/hello.txt")
    assert code == 0 and out.startswith("http"), err
    code, _, err = await run_cli(app, token, "storage", "rm", "docs", "a/hello.txt")
    assert code == 0, err
    code, _, err = await run_cli(app, token, "storage", "get", "docs", "a/hello.txt", str(copy))
    assert code == 3  # NOT_FOUND
    assert err.strip().startswith("error: NOT_FOUND") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not copy.with_name("copy.txt.partial").exists()


async def test_bad_method_is_a_usage_error(
    start_centrum: StartCentrum, token_mint: TokenMint
) -> None:
    """A wrong --method exits 2 with one line, before any call is made."""
    app = await start_centrum()
    code, _, err = await run_cli(
        app, token_mint.token(), "storage", "url", "docs", "k", "--method", "DELETE"
    )
    assert code == 2 and "GET or PUT" in err


def _file(directory: Path) -> Path:
    path = directory / "hello.txt"
    if not path.exists():
        path.write_bytes(b"hello from the cli\n" * 1000 + os.urandom(16).hex().encode())
    return path
