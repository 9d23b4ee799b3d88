"""Shared fixtures: the repository's specs and a helper to write small specs."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_support import TINY_SPEC

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))


def spec_id(path: Path) -> str:
    return path.stem


@pytest.fixture(params=SPECS, ids=spec_id)
def spec_path(request: pytest.FixtureRequest) -> Path:
    """Every spec in specs/, one test each."""
    return request.param


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data cache ($SPECC_DATA) and a download URL nothing answers: the tests never
    touch ~/.cache/specc or the network. Modules that train use it for every test."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("SPECC_DATA", str(cache))
    monkeypatch.setenv("SPECC_CIFAR10_URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    return cache


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    """train_support.TINY_SPEC written to a file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SPEC)
    return path
