"""Property: a damaged data archive or checkpoint (random bytes, bit flips, truncations of a
valid one) is read or refused with specc's own one-line error, never anything else.

A small, seeded number of examples for CI; `python benchmarks/fuzz.py --target archives`
(or `checkpoints`) runs thousands.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_data.fuzz_targets import ArchiveTarget, CheckpointTarget

EXAMPLES = 60


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz_files")
    patch = pytest.MonkeyPatch()
    (root / "cache").mkdir()
    patch.setenv("SPECC_DATA", str(root / "cache"))
    yield root
    patch.undo()


@pytest.mark.parametrize("target_type", [ArchiveTarget, CheckpointTarget],
                         ids=["archives", "checkpoints"])
def test_damaged_files_are_read_or_refused_in_one_line(target_type: type,
                                                       workspace: Path) -> None:
    root = workspace / target_type.__name__
    root.mkdir()
    target = target_type(root)
    rng = random.Random(2026)
    outcomes = {True: 0, False: 0}
    for _ in range(EXAMPLES):
        _, content = target.example(rng)
        outcomes[target.check(content)] += 1  # FuzzFailure fails the test
    assert outcomes[False] > 0, "the damage must be noticed at least sometimes"
