"""`specc train` on data the tests make: it learns, writes its run folder, and refuses what
it must refuse (gate failures, wrong class count, divergence, foreign resumes)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import torch
from train_support import TINY_SPEC, write_image_folder

from specc.cli import main
from specc.train.checkpoint import read_checkpoint
from specc.train.engine_torch import memory_format_of

FOLDER_FILES = {"spec.yaml", "recipe.json", "environment.json", "metrics.jsonl", "metrics.csv",
                "learning_curve.png", "result.json", "checkpoints", "build"}

pytestmark = pytest.mark.usefixtures("isolated_cache")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("data") / "shapes", train=256, test=96)


def only_run(out: Path) -> Path:
    (run,) = list(out.iterdir())
    return run


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_a_short_run_learns_and_fills_its_run_folder(
    backend: str, tiny_spec: Path, images: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "runs"
    code = main(["train", str(tiny_spec), "--backend", backend, "--data", str(images),
                 "--out", str(out), "--epochs", "4", "--peak-tflops", "0.5"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    run = only_run(out)
    assert {p.name for p in run.iterdir()} == FOLDER_FILES
    result = json.loads((run / "result.json").read_text())
    assert result["test_accuracy"] >= 0.85  # 4 classes: chance is 0.25
    assert f"Test accuracy: {result['test_accuracy']}" in printed
    assert f"Test loss: {result['test_loss']}" in printed
    assert "Reference (a made-up reference for the test): test loss 1.5, test accuracy 0.25" in printed
    assert f"test accuracy {result['test_accuracy'] - 0.25:+.4f}" in printed
    (reference_milestone,) = result["training"]["time_to_accuracy"]
    assert reference_milestone["name"] == "reference" and reference_milestone["epoch"] >= 1
    assert "Time to 0.25 test accuracy (reference): epoch " in printed
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2, 3, 4]
    reached = reference_milestone["epoch"]
    assert reference_milestone["train_time_s"] == pytest.approx(
        sum(row["epoch_time_s"] for row in rows[:reached]))
    assert rows[reached - 1]["test_accuracy"] >= 0.25
    assert all(row["test_accuracy"] < 0.25 for row in rows[: reached - 1])
    assert result["training"]["train_time_s"] == pytest.approx(
        sum(row["epoch_time_s"] for row in rows))
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert rows[-1]["test_accuracy"] == result["test_accuracy"]
    flops = json.loads((run / "recipe.json").read_text())["spec"]["flops_per_example"]
    for row in rows:
        assert row["images_per_s"] > 0 and row["epoch_time_s"] > 0 and row["lr"] > 0
        # forward + backward is taken as 3x the spec's forward FLOPs, over the given peak
        assert row["mfu"] == pytest.approx(3 * flops * row["images_per_s"] / 0.5e12)
    with (run / "metrics.csv").open() as table:
        csv_rows = list(csv.DictReader(table))
    assert [float(r["test_accuracy"]) for r in csv_rows] == [r["test_accuracy"] for r in rows]
    assert (run / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "spec.yaml").read_text() == TINY_SPEC
    described = json.loads((run / "recipe.json").read_text())
    assert described["recipe"]["epochs"] == 4 and described["recipe"]["lr"] == 0.1
    assert described["options"]["backend"] == backend
    assert len(described["normalization"]["mean"]) == 3
    environment = json.loads((run / "environment.json").read_text())
    assert environment["backend"] == backend and environment["precision"] == "fp32"
    if backend == "torch":  # the GPU's fast path is the CPU's path too, so CI exercises it
        assert environment["memory_format"] == "channels_last"
        assert environment["fused_optimizer"] is True
    assert (run / "build" / f"tiny_{backend}.py").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_learns_and_its_checkpoint_evaluates(
    backend: str, precision: str, tiny_spec: Path, images: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "runs"
    code = main(["train", str(tiny_spec), "--backend", backend, "--precision", precision,
                 "--data", str(images), "--out", str(out), "--epochs", "4"])
    assert code == 0, capsys.readouterr().err
    run = only_run(out)
    assert json.loads((run / "result.json").read_text())["test_accuracy"] >= 0.85
    environment = json.loads((run / "environment.json").read_text())
    assert environment["precision"] == precision
    if backend == "torch":  # autocast computes in low precision; the weights and the
        # BatchNorm statistics stay float32
        payload = read_checkpoint(run / "checkpoints" / "last.ckpt")[1]
        state = torch.load(io.BytesIO(payload), weights_only=True)["model"]
        assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float32}
        assert any(name.endswith("running_var") for name in state)
    if backend == "keras":
        import keras

        policy = {"bf16": "mixed_bfloat16", "fp16": "mixed_float16"}[precision]
        assert environment["dtype_policy"] == policy  # read from the built model
        assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    capsys.readouterr()
    assert main(["eval", str(tiny_spec), "--checkpoint", str(run), "--data", str(images)]) == 0
    assert "accuracy" in capsys.readouterr().out.lower()


def test_a_spec_whose_expectations_fail_is_not_trained(tiny_spec: Path, images: Path,
                                                       tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    tiny_spec.write_text(TINY_SPEC.replace("train:", "expect: {total_params: 999}\ntrain:"))
    out = tmp_path / "runs"
    code = main(["train", str(tiny_spec), "--data", str(images), "--out", str(out)])
    assert code == 1
    assert "999" in capsys.readouterr().err
    assert not out.exists() or not list(out.iterdir())  # nothing trained, no run folder left


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_the_gate_refuses_a_generated_model_that_differs_from_the_spec(
    backend: str, tiny_spec: Path, images: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from specc.backends import gate

    real_generate = gate.generate
    wrong = {"torch": ("momentum=0.01)", "momentum=0.01, affine=False)"),
             "keras": ("Conv2D(8, 3", "Conv2D(6, 3")}[backend]

    def miscompiled(loaded: object, which: str) -> str:  # a code generator with a bug
        source = real_generate(loaded, which)
        assert wrong[0] in source
        return source.replace(*wrong)

    monkeypatch.setattr(gate, "generate", miscompiled)
    out = tmp_path / "runs"
    code = main(["train", str(tiny_spec), "--backend", backend, "--data", str(images),
                 "--out", str(out)])
    assert code == 1
    assert ("bn1" if backend == "torch" else "conv1") in capsys.readouterr().err
    assert not list(out.iterdir())


def test_class_count_must_match_the_spec(tiny_spec: Path, images: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    tiny_spec.write_text(TINY_SPEC.replace("units: 4", "units: 10"))
    code = main(["train", str(tiny_spec), "--data", str(images), "--out", str(tmp_path / "r")])
    assert code == 2
    error = capsys.readouterr().err
    assert "the data has 4 classes" in error and "10 units" in error


def test_divergence_stops_with_the_step(tiny_spec: Path, images: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", str(tiny_spec), "--data", str(images), "--out", str(tmp_path / "r"),
                 "--lr", "1e30", "--epochs", "2"])
    error = capsys.readouterr().err
    assert code == 1, error
    assert "the training loss became" in error and "at step " in error
    assert "(epoch 1, batch" in error


def test_resume_refuses_another_spec_and_conflicting_flags(
    tiny_spec: Path, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "runs"
    assert main(["train", str(tiny_spec), "--data", str(images), "--out", str(out),
                 "--epochs", "1", "--limit-train", "64", "--limit-test", "32"]) == 0
    run = only_run(out)
    other = tmp_path / "other.yaml"
    other.write_text(TINY_SPEC.replace("filters: 8", "filters: 6"))
    capsys.readouterr()
    assert main(["train", str(other), "--resume", str(run)]) == 2
    assert "that run was made from spec 'tiny'" in capsys.readouterr().err
    assert main(["train", str(tiny_spec), "--resume", str(run), "--epochs", "3"]) == 2
    assert "cannot be combined with --epochs" in capsys.readouterr().err


def test_resume_records_an_epoch_whose_metrics_were_lost(
    tiny_spec: Path, images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "runs"
    assert main(["train", str(tiny_spec), "--data", str(images), "--out", str(out),
                 "--epochs", "2", "--limit-train", "64", "--limit-test", "32"]) == 0
    run = only_run(out)
    metrics = run / "metrics.jsonl"
    rows = metrics.read_text().splitlines()
    metrics.write_text(rows[0] + "\n")  # killed after epoch 2's checkpoint, before its metrics
    assert main(["train", str(tiny_spec), "--resume", str(run)]) == 0
    assert metrics.read_text().splitlines() == rows
    assert "Test accuracy: " in capsys.readouterr().out


def test_bad_flags_are_usage_errors(tiny_spec: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for flags in (["--epochs", "0"], ["--lr", "-1"], ["--backend", "jax"], ["--lr", "nan"]):
        with pytest.raises(SystemExit) as caught:
            main(["train", str(tiny_spec), *flags])
        assert caught.value.code == 2
    assert main(["train", str(tiny_spec.parent / "missing.yaml")]) == 2
    a_file = tiny_spec.parent / "a_file"
    a_file.write_text("")
    capsys.readouterr()
    assert main(["train", str(tiny_spec), "--out", str(a_file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(("backend", "recorded"), [("torch", True), ("keras", "xla")])
def test_compile_trains_and_is_recorded(backend: str, recorded: object, tiny_spec: Path,
                                        images: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "runs"
    code = main(["train", str(tiny_spec), "--backend", backend, "--data", str(images),
                 "--out", str(out), "--epochs", "3", "--device", "cpu", "--compile"])
    assert code == 0, capsys.readouterr().err
    run = only_run(out)
    assert json.loads((run / "environment.json").read_text())["compile"] == recorded
    assert json.loads((run / "result.json").read_text())["test_accuracy"] >= 0.85


def test_the_memory_format_is_read_from_the_weights() -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 1))
    assert memory_format_of(model) == "contiguous"
    assert memory_format_of(model.to(memory_format=torch.channels_last)) == "channels_last"
    # a 1x1 kernel is laid out the same either way, so it cannot tell
    assert memory_format_of(torch.nn.Conv2d(3, 4, 1)).startswith("not applicable")
