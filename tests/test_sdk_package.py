"""The SDK installs on its own: grpcio, protobuf and googleapis-common-protos, nothing else."""

from __future__ import annotations

import json
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
print(json.dumps(sorted(mods)))
"""
DISTRIBUTIONS = """
import importlib.metadata as md, json
print(json.dumps(sorted(d.metadata["Name"].lower().replace("_", "-") for d in md.distributions())))
"""


SDK_DISTRIBUTIONS = {
    "centrum-sdk",
    "grpcio",
    "protobuf",
    "googleapis-common-protos",
    "typing-extensions",
}
"""What `pip install ./sdk` may install (besides pip and setuptools)."""


def sdk_virtualenv(env_dir: Path, *projects: Path) -> Path:
    """A fresh venv with ./sdk (and `projects`) pip-installed; returns its python."""
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    paths = [str(ROOT / "sdk"), *map(str, projects)]
    install = run([str(python), "-m", "pip", "install", "--quiet", *paths])
    assert install.returncode == 0, install.stdout + install.stderr
    assert sys.executable != str(python)
    return python


def installed_distributions(python: Path) -> set[str]:
    """The distributions installed in the venv of `python`, except pip and setuptools."""
    probe = run([str(python), "-c", DISTRIBUTIONS])
    assert probe.returncode == 0, probe.stderr
    return set(json.loads(probe.stdout)) - {"pip", "setuptools"}


def test_sdk_installs_into_an_empty_virtualenv(tmp_path: Path) -> None:
    """`pip install ./sdk` into a fresh venv imports every generated module and centrum.sdk."""
    python = sdk_virtualenv(tmp_path / "venv")
    probe = run([str(python), "-c", IMPORTS], cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    modules = json.loads(probe.stdout)
    assert "centrum.config.v1.flag_service_pb2_grpc" in modules
    assert "centrum.audit.v1.audit_service_pb2" in modules
    extra = installed_distributions(python) - SDK_DISTRIBUTIONS
    assert not extra, f"the SDK pulled in more than it should: {extra}"
