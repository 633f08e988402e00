"""Shared fixtures: the real-data mirror (skipped with a reason when absent) and the repo root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _mirror() -> Path | None:
    env = os.environ.get("COWORKING_GEO_MIRROR")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    for c in candidates:
        if (c / "SOURCES.md").exists():
            return c.resolve()
    return None


MIRROR = _mirror()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real-data mirror folder; the test is skipped when it is absent."""
    if MIRROR is None:
        pytest.skip("real-data mirror not found: set COWORKING_GEO_MIRROR or place ../shared/data beside the repo")
    return MIRROR
