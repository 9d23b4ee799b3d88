"""The bad-input corpus: every file gets its exact one-line error and exit code, nothing else.

tests/bad_inputs/expected.txt lists, for each file, the exit code and the exact line
`specc validate FILE` prints on stderr. The run is in-process through the real CLI entry
point (and through a subprocess for the most hostile files), in a copy of the corpus so
that "nothing written" can be checked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from specc.cli import main
from specc.layers.registry import LAYER_TYPES
from specc.limits import MAX_LAYERS, MAX_SPEC_BYTES, MAX_YAML_VALUES

CORPUS = Path(__file__).parent / "bad_inputs"
MEMORY_BOUND = 64 << 20  # bytes allocated by Python while reading any one bad input


def _expectations() -> dict[str, tuple[int, str]]:
    known = ", ".join(sorted(LAYER_TYPES))
    table: dict[str, tuple[int, str]] = {}
    for line in (CORPUS / "expected.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, code, message = line.split("\t")
        table[name] = (int(code), message.replace("{LAYER_TYPES}", known))
    return table


EXPECTED = _expectations()


def test_corpus_is_complete() -> None:
    files = {path.name for path in CORPUS.glob("*.yaml")}
    assert files == set(EXPECTED), "every corpus file needs one line in expected.txt"
    assert len(files) >= 40


@pytest.fixture()
def corpus_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS, copy)
    monkeypatch.chdir(copy)
    return copy


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input_gives_its_exact_line(
    name: str, corpus_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, message = EXPECTED[name]
    before = _snapshot(corpus_copy)
    tracemalloc.start()
    try:
        exit_code = main(["validate", name])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    captured = capsys.readouterr()
    assert exit_code == code
    assert captured.err.splitlines() == [message]
    assert "Traceback" not in captured.out + captured.err
    assert peak < MEMORY_BOUND
    assert _snapshot(corpus_copy) == before, "validate must write nothing"


@pytest.mark.parametrize(
    "name",
    [
        "15_billion_laughs.yaml",
        "17_deep_nesting.yaml",
        "25_python_tag.yaml",
        "43_name_code_injection.yaml",
        "06_not_utf8.yaml",
    ],
)
def test_bad_input_through_a_real_process(name: str, corpus_copy: Path) -> None:
    code, message = EXPECTED[name]
    result = subprocess.run(
        [sys.executable, "-m", "specc", "validate", name],
        check=False,
        capture_output=True,
        text=True,
        cwd=corpus_copy,
        timeout=60,
    )
    assert result.returncode == code
    assert result.stderr.splitlines() == [message]
    assert "pwned" not in result.stdout  # nothing in the file was ever executed


def test_file_over_the_size_cap(corpus_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = corpus_copy / "big.yaml"
    padding = "#" * 99 + "\n"
    big.write_text("name: big\n" + padding * (MAX_SPEC_BYTES // len(padding) + 1))
    size = big.stat().st_size
    assert main(["validate", "big.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"big.yaml:1:1: file is {size:,} bytes; a spec is at most {MAX_SPEC_BYTES:,} bytes (1 MiB)"
    ]


def test_too_many_layers(corpus_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = "name: deep\ninput:\n  shape: [8]\nlayers:\n"
    body = "".join(f"  - {{name: d{i}, type: Dropout, rate: 0.1}}\n" for i in range(MAX_LAYERS + 1))
    (corpus_copy / "deep.yaml").write_text(header + body)
    assert main(["validate", "deep.yaml"]) == 2
    line = 4 + MAX_LAYERS + 1  # the first layer past the limit
    assert capsys.readouterr().err.splitlines() == [
        f"deep.yaml:{line}:5: {MAX_LAYERS + 1:,} layers; a spec has at most {MAX_LAYERS:,}"
    ]


def test_too_many_values(corpus_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    count = MAX_YAML_VALUES + 10
    (corpus_copy / "wide.yaml").write_text("name: wide\ndescription: [" + "1, " * count + "]\n")
    assert main(["validate", "wide.yaml"]) == 2
    # The root mapping, `name` and the list are values too: item MAX - 3 is one too many.
    column = len("description: [") + 3 * (MAX_YAML_VALUES - 3) + 1
    expected = (
        f"wide.yaml:2:{column}: more than {MAX_YAML_VALUES:,} values in one spec; "
        "a spec needs far fewer"
    )
    assert capsys.readouterr().err.splitlines() == [expected]
