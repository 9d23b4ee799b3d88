"""Shared fixtures: the repository's specs and a helper to write small specs."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def spec_id(path: Path) -> str:
    return path.stem


@pytest.fixture(params=SPECS, ids=spec_id)
def spec_path(request: pytest.FixtureRequest) -> Path:
    """Every spec in specs/, one test each."""
    return request.param
