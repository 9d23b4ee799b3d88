"""`specc build` and `specc parity` through the real CLI entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from specc.backends.quiet_keras import TENSORFLOW_CHATTER
from specc.cli import main

SMALL = """name: small
input: {shape: [8, 8, 3]}
layers:
  - {name: conv, type: Conv2D, filters: 4, kernel_size: 3, strides: 2, padding: same,
     expect: {shape: [4, 4, 4], params: PARAMS}}
  - {name: pool, type: MaxPooling2D, pool_size: 2}
  - {name: flat, type: Flatten}
  - {name: logits, type: Dense, units: 3, activation: softmax}
"""


def _spec(folder: Path, text: str = SMALL, params: int = 112, name: str = "small.yaml") -> Path:
    path = folder / name
    path.write_text(text.replace("PARAMS", str(params)), encoding="utf-8")
    return path


def test_build_writes_both_backends_and_prints_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path)
    out = tmp_path / "out"
    assert main(["build", str(spec), "--backend", "all", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["small_keras.py", "small_torch.py"]
    assert "small (torch) matches its spec" in printed
    assert "small (keras) matches its spec" in printed
    assert "(None, 4, 4, 4)" in printed
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["build", str(spec), "--out", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # byte-identical


def test_build_without_spec_builds_every_spec_in_specs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "specs").mkdir()
    _spec(tmp_path / "specs", name="a.yaml")
    _spec(tmp_path / "specs", SMALL.replace("name: small", "name: other"), name="b.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--backend", "torch"]) == 0
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == [
        "other_torch.py", "small_torch.py"]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_unknown_backend_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["build", str(_spec(tmp_path)), "--backend", "jax", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--backend 'jax': unknown backend; choose torch, keras or all" in _one_line_error(capsys)
    assert not (tmp_path / "o").exists()


def test_two_specs_of_one_name_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copied spec whose `name` was not changed would write the same files as the original."""
    first, copy = _spec(tmp_path), _spec(tmp_path, name="small_copy.yaml")
    assert main(["build", str(first), str(copy), "--out", str(tmp_path / "o")]) == 2
    error = _one_line_error(capsys)
    assert error.startswith(f"{copy}:1:7: spec name 'small' is also {first}'s"), error
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert main(["build", str(_spec(tmp_path)), "--out", str(a_file)]) == 2
    assert f"--out {a_file}: exists and is not a folder" in _one_line_error(capsys)
    assert main(["build", str(_spec(tmp_path)), "--out", str(a_file / "below")]) == 2
    assert f"--out {a_file / 'below'}: cannot create the folder" in _one_line_error(capsys)


def test_out_that_is_not_writable_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere: a read-only bind is not available
        locked = Path("/proc/self")  # a folder nobody may create files in
    assert main(["build", str(_spec(tmp_path)), "--backend", "torch", "--out", str(locked)]) == 2
    assert f"--out {locked}: the folder is not writable" in _one_line_error(capsys)


def test_a_spec_whose_expectations_fail_is_refused_like_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path, params=999)
    assert main(["validate", str(spec)]) == 1
    validate_err = capsys.readouterr().err.strip().splitlines()[-1]
    out = tmp_path / "out"
    assert main(["build", str(spec), "--out", str(out)]) == 1
    build_err = _one_line_error(capsys)
    assert build_err == validate_err
    assert f"{spec}:5:" in build_err and "999" in build_err
    assert not out.exists()


def test_a_configuration_torch_cannot_express_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SMALL.replace("  - {name: flat, type: Flatten}\n",
                         "  - {name: norm, type: UpSampling2D, interpolation: bicubic}\n"
                         "  - {name: flat, type: Flatten}\n")
    spec = _spec(tmp_path, text)
    out = tmp_path / "out"
    assert main(["build", str(spec), "--backend", "torch", "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert err.startswith(f"{spec}:7:")
    assert "layer 'norm' (UpSampling2D): the torch backend cannot express" in err
    assert list(out.iterdir()) == []  # nothing half-written
    assert main(["build", str(spec), "--backend", "keras", "--out", str(out)]) == 0


def test_parity_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _spec(tmp_path)
    assert main(["parity", str(spec), "--out", str(tmp_path / "out"), "--batch-size", "3"]) == 0
    printed = capsys.readouterr().out
    assert "parity holds" in printed
    for layer in ("conv", "pool", "flat", "logits", "(model output)"):
        assert layer in printed
    assert main(["parity", str(spec), "--tolerance", "2"]) == 2
    assert "--tolerance 2.0: expected a value between 0 and 1" in _one_line_error(capsys)


def test_keras_build_keeps_stderr_free_of_tensorflow_start_up_chatter(tmp_path: Path) -> None:
    # A fresh process, so TensorFlow is really imported by specc (not already by pytest).
    spec = _spec(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "specc", "build", str(spec), "--backend", "keras",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "small (keras) matches its spec" in result.stdout


def test_only_tensorflow_start_up_chatter_is_filtered() -> None:
    chatter = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        "I0000 00:00:1795632648.379705   20166 port.cc:153] oneDNN custom operations are on.",
        "To enable the following instructions: AVX2 AVX512F, in other operations, rebuild",
    ]
    kept = ["E0000 00:00:1795632648.379705   20166 cuda.cc:12] failed call to cuInit",
            "Traceback (most recent call last):", "I am a user's print"]
    assert all(TENSORFLOW_CHATTER.match(line) for line in chatter)
    assert not any(TENSORFLOW_CHATTER.match(line) for line in kept)
