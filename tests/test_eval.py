"""`specc eval`: the checkpoint's test results, per-class accuracy and confusion matrix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from train_support import CLASSES, TINY_SPEC, train_tiny_runs

from specc.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eval")
    (root / "cache").mkdir()
    patch = pytest.MonkeyPatch()
    patch.setenv("SPECC_DATA", str(root / "cache"))
    yield train_tiny_runs(root, train=192, test=64)
    patch.undo()


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_eval_reproduces_the_training_result(backend: str, trained: dict[str, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = trained[backend]
    capsys.readouterr()
    assert main(["eval", str(trained["spec"]), "--checkpoint", str(run / "checkpoints" /
                 "last.ckpt"), "--data", str(trained["data"])]) == 0
    printed = capsys.readouterr().out
    evaluated = json.loads((run / "eval.json").read_text())
    result = json.loads((run / "result.json").read_text())
    assert evaluated["test_accuracy"] == pytest.approx(result["test_accuracy"], abs=1e-9)
    assert evaluated["test_loss"] == pytest.approx(result["test_loss"], rel=1e-4)
    assert f"Test accuracy: {evaluated['test_accuracy']}" in printed
    assert "Per-class accuracy:" in printed and "Confusion matrix" in printed
    for name in CLASSES:
        assert name in printed
    matrix = evaluated["confusion_matrix"]
    assert sum(map(sum, matrix)) == 64
    assert sum(matrix[i][i] for i in range(4)) / 64 == evaluated["test_accuracy"]
    assert (run / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_accepts_a_run_folder_and_another_output(trained: dict[str, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(trained["spec"]), "--checkpoint", str(trained["torch"]),
                 "--data", str(trained["data"]), "--out", str(tmp_path / "report"),
                 "--limit-test", "16"]) == 0
    assert sum(map(sum, json.loads((tmp_path / "report" / "eval.json").read_text())[
        "confusion_matrix"])) == 16


def test_eval_refuses_a_checkpoint_of_another_spec(trained: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(TINY_SPEC.replace("rate: 0.2", "rate: 0.3"))
    capsys.readouterr()
    assert main(["eval", str(other), "--checkpoint", str(trained["torch"]),
                 "--data", str(trained["data"])]) == 2
    assert "trained from spec 'tiny' with a different text" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_eval_refuses_data_whose_classes_have_other_names(
        backend: str, trained: dict[str, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """As many classes under other names: the labels, class indices in sorted name order, would
    be scored against the checkpoint's classes of those indices."""
    renamed = tmp_path / "renamed"
    shutil.copytree(trained["data"], renamed)
    for split in ("train", "test"):
        (renamed / split / CLASSES[0]).rename(renamed / split / "zebra")
    capsys.readouterr()
    assert main(["eval", str(trained["spec"]), "--checkpoint", str(trained[backend]),
                 "--data", str(renamed), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert f"class 0 is {CLASSES[0]!r} in the checkpoint, {CLASSES[1]!r} in the data" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "out" / "eval.json").exists()


def test_eval_detects_a_damaged_checkpoint(trained: dict[str, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "last.ckpt"
    content = bytearray((trained["torch"] / "checkpoints" / "last.ckpt").read_bytes())
    content[len(content) // 2] ^= 0xFF
    damaged.write_bytes(bytes(content))
    capsys.readouterr()
    assert main(["eval", str(trained["spec"]), "--checkpoint", str(damaged),
                 "--data", str(trained["data"])]) == 2
    assert "corrupted checkpoint (sha256 checksum mismatch)" in capsys.readouterr().err


def test_eval_of_a_keras_checkpoint_keeps_stderr_clean(trained: dict[str, Path]) -> None:
    # A fresh process, so TensorFlow is really imported by `specc eval`.
    result = subprocess.run(
        [sys.executable, "-m", "specc", "eval", str(trained["spec"]), "--checkpoint",
         str(trained["keras"]), "--data", str(trained["data"]), "--limit-test", "16"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "SPECC_DATA": str(trained["spec"].parent / "cache")})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Test accuracy: " in result.stdout
