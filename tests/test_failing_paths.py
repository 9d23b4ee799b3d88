"""The paths that must fail, exercised: parity with a tampered PyTorch weight, a final Dense
with softmax given to `specc train` and `specc eval`, and generation that must not depend on
the process (string hashing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from train_support import TINY_SPEC, write_image_folder

from specc.backends import parity
from specc.cli import main
from specc.train.checkpoint import write_checkpoint

ROOT = Path(__file__).resolve().parent.parent

CHAIN_SPEC = """\
name: chain
input:
  shape: [8, 8, 3]
layers:
  - {name: conv1, type: Conv2D, filters: 4, kernel_size: 3, activation: relu}
  - {name: conv2, type: Conv2D, filters: 6, kernel_size: 3, padding: same}
  - {name: bn, type: BatchNormalization}
  - {name: pool, type: GlobalAveragePooling2D}
  - {name: dense, type: Dense, units: 5}
"""


@pytest.mark.parametrize("tampered", ["conv2", "dense"])
def test_parity_with_a_tampered_torch_weight_fails_naming_the_layer(
        tampered: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "chain.yaml"
    spec.write_text(CHAIN_SPEC)
    assert main(["parity", str(spec), "--out", str(tmp_path / "build")]) == 0
    assert "parity holds" in capsys.readouterr().out

    def copy_then_tamper(keras_model: Any, torch_model: Any, loaded: Any) -> None:
        import torch

        copy_weights(keras_model, torch_model, loaded)
        with torch.no_grad():
            getattr(torch_model, tampered).weight.view(-1)[0] += 0.5  # one weight of one layer

    copy_weights = parity.keras_to_torch
    monkeypatch.setattr(parity, "keras_to_torch", copy_then_tamper)
    assert main(["parity", str(spec), "--out", str(tmp_path / "build")]) == 1
    captured = capsys.readouterr()
    error = captured.err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith(
        f"specc: {spec}: parity fails: layer {tampered!r}")
    rows = {line.split()[0]: line.split()[-1] for line in captured.out.splitlines()
            if line.split() and line.split()[-1] in ("ok", "DIFFERS")}
    layers = ["conv1", "conv2", "bn", "pool", "dense"]
    first_bad = layers.index(tampered)
    assert [rows[name] for name in layers] == ["ok"] * first_bad + ["DIFFERS"] * (
        len(layers) - first_bad)


SOFTMAX_IN_DENSE = TINY_SPEC.replace(
    "  - {name: logits, type: Dense, units: 4}\n  - {name: softmax, type: Activation, "
    "activation: softmax}\n", "  - {name: logits, type: Dense, units: 4, activation: softmax}\n")


@pytest.fixture
def softmax_in_dense(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    assert SOFTMAX_IN_DENSE != TINY_SPEC
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("SPECC_DATA", str(tmp_path / "cache"))
    spec = tmp_path / "dense_softmax.yaml"
    spec.write_text(SOFTMAX_IN_DENSE)
    images = write_image_folder(tmp_path / "images", train=32, test=8)
    return {"spec": spec, "images": images, "root": tmp_path}


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_train_refuses_a_final_dense_with_softmax(
        backend: str, softmax_in_dense: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    out = softmax_in_dense["root"] / "runs"
    code = main(["train", str(softmax_in_dense["spec"]), "--data",
                 str(softmax_in_dense["images"]), "--out", str(out), "--epochs", "1",
                 "--device", "cpu", "--backend", backend])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error[-1].startswith(f"{softmax_in_dense['spec']}: layer 'logits' (Dense) applies "
                                "softmax inside the layer")
    assert len(error) == 1
    assert not out.exists() or not list(out.iterdir()), "nothing trained, no run folder left"


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_eval_refuses_a_final_dense_with_softmax(
        backend: str, softmax_in_dense: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = softmax_in_dense["root"] / "last.ckpt"
    write_checkpoint(checkpoint, backend, b"whatever the engine wrote")
    code = main(["eval", str(softmax_in_dense["spec"]), "--checkpoint", str(checkpoint),
                 "--data", str(softmax_in_dense["images"]), "--device", "cpu"])
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith(f"{softmax_in_dense['spec']}: layer 'logits' (Dense) applies "
                               "softmax inside the layer")


GENERATE_ALL = """
import hashlib, sys
sys.path.insert(0, "tests")
from layer_examples import EXAMPLES, load_example
from specc.backends.gate import generate
from specc.spec.load import load_spec
loaded = [load_spec(path) for path in sorted(__import__("glob").glob("specs/*.yaml"))]
loaded += [load_example(type_name, example, index) for type_name, index, example in EXAMPLES]
for spec in loaded:
    for backend in ("keras", "torch"):
        try:
            source = generate(spec, backend)
        except Exception as error:  # a backend that cannot express the example: also compared
            source = type(error).__name__ + str(error)
        print(spec.spec.name, backend, hashlib.sha256(source.encode()).hexdigest())
"""


def test_generation_is_byte_identical_across_processes_and_hash_seeds() -> None:
    outputs = []
    for hash_seed in ("1", "2", "random"):
        result = subprocess.run(
            [sys.executable, "-c", GENERATE_ALL], cwd=ROOT, capture_output=True, text=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed}, check=False, timeout=300)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert len(outputs[0].splitlines()) > 2 * 6
    assert outputs[0] == outputs[1] == outputs[2]


def _seed_table_test(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", "-n", "0",
         "tests/test_specs.py::test_alexnet_reproduces_the_seed_table"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
        env={**env, **extra_env})


def test_the_seed_table_comparison_fails_in_ci_and_skips_elsewhere_when_the_seed_is_missing(
        tmp_path: Path) -> None:
    missing = tmp_path / "no-seed" / "alexnet-keras-summary.md"
    reason = f"{missing}: the seed's Keras summary is missing"
    in_ci = _seed_table_test({"CI": "true", "SPECC_SEED_SUMMARY": str(missing)})
    assert in_ci.returncode == 1, in_ci.stdout
    assert "1 failed" in in_ci.stdout and reason in in_ci.stdout
    elsewhere = _seed_table_test({"SPECC_SEED_SUMMARY": str(missing)})
    assert elsewhere.returncode == 0, elsewhere.stdout
    assert "1 skipped" in elsewhere.stdout and reason in elsewhere.stdout
