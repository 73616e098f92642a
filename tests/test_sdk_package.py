"""The SDK installs on its own: grpcio, protobuf and googleapis-common-protos, nothing else."""

from __future__ import annotations

import sys
import venv
from pathlib import Path

from harness.centrum import ROOT, run

IMPORTS = """
import importlib, pkgutil, json
import centrum.sdk, centrum.sdk.aio
mods = []
for pkg in ("audit", "auth", "config", "notification", "policy", "storage"):
    base = importlib.import_module(f"centrum.{pkg}.v1")
    for info in pkgutil.iter_modules(base.__path__):
        mods.append(importlib.import_module(f"centrum.{pkg}.v1.{info.name}").__name__)
import importlib.metadata as md
dists = sorted(d.metadata["Name"].lower().replace("_", "-") for d in md.distributions())
print(json.dumps({"modules": sorted(mods), "dists": dists}))
"""


def test_sdk_installs_into_an_empty_virtualenv(tmp_path: Path) -> None:
    """`pip install ./sdk` into a fresh venv imports every generated module and centrum.sdk."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = run([str(python), "-m", "pip", "install", "--quiet", str(ROOT / "sdk")])
    assert install.returncode == 0, install.stdout + install.stderr
    probe = run([str(python), "-c", IMPORTS], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    import json

    found = json.loads(probe.stdout)
    assert "centrum.config.v1.flag_service_pb2_grpc" in found["modules"]
    assert "centrum.audit.v1.audit_service_pb2" in found["modules"]
    installed = set(found["dists"]) - {"pip", "setuptools"}
    allowed = {"centrum-sdk", "grpcio", "protobuf", "googleapis-common-protos", "typing-extensions"}
    assert installed <= allowed, f"the SDK pulled in more than it should: {installed - allowed}"
    assert sys.executable != str(python)
