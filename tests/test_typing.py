"""The package type-checks: ``python -m mypy src/coworking_geo`` with the [tool.mypy] settings of pyproject.toml."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed (pip install -e '.[test]')")
def test_mypy_passes_on_the_package(repo_root: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "mypy", "src/coworking_geo"], cwd=repo_root,
                         capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]
    assert "Success: no issues found" in res.stdout
