"""The README stays true: every setting is documented and the documented commands exist."""

from __future__ import annotations

import re

from centrum.server.settings import Settings
from harness.centrum import ROOT

README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_settings_table() -> None:
    """Each field of Settings appears in the README's settings table."""
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([a-z0-9_]+)`", table))
    missing = sorted(set(Settings.model_fields) - documented)
    assert missing == [], f"settings missing from README.md: {missing}"


def test_ci_runs_the_readme_test_command() -> None:
    """`.ci/run` runs exactly the test command the README shows."""
    assert "bash scripts/test" in README
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec bash scripts/test")
