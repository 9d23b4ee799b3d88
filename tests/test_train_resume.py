"""Never lose a run: a training process killed with SIGKILL after an epoch, or stopped with
Ctrl-C at a known step in the middle of one, resumes to exactly the weights and metrics of an
uninterrupted run (CPU, fixed seed, real subprocesses), with either backend."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from train_support import TINY_SPEC, write_image_folder

from specc.train.checkpoint import read_checkpoint
from specc.train.common import INTERRUPT_AFTER_STEP_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 3
TRAIN_IMAGES = 768  # 24 steps of TINY_SPEC's batch of 32 per epoch
STEPS_PER_EPOCH = TRAIN_IMAGES // 32
STOP_IN_EPOCH = 10  # the Ctrl-C lands after this many steps of the second epoch


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("resume")
    spec = root / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    data = write_image_folder(root / "shapes", train=TRAIN_IMAGES, test=32)
    (root / "cache").mkdir()
    environment = {**os.environ, "SPECC_DATA": str(root / "cache"), "OMP_NUM_THREADS": "1",
                   "PYTHONUNBUFFERED": "1"}
    return {"root": root, "spec": spec, "data": data, "env": environment}


def start(setup: dict, *args: str, env: dict[str, str] | None = None
          ) -> tuple[subprocess.Popen, Path]:
    log = setup["root"] / f"log-{time.monotonic_ns()}.txt"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "specc", "train", str(setup["spec"]), *args],
            cwd=ROOT, env={**setup["env"], **(env or {})}, stdout=output,
            stderr=subprocess.STDOUT)
    return process, log


def train_args(setup: dict, out: Path, backend: str) -> list[str]:
    return ["--data", str(setup["data"]), "--out", str(out), "--epochs", str(EPOCHS),
            "--seed", "7", "--device", "cpu", "--backend", backend]


def run_folder(out: Path) -> Path:
    (run,) = list(out.iterdir())
    return run


def wait_for_epochs(out: Path, process: subprocess.Popen, epochs: int) -> int:
    """Wait until `epochs` epochs are recorded (their checkpoint is written first)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "training ended before it could be interrupted"
        runs = list(out.iterdir()) if out.exists() else []
        metrics = runs[0] / "metrics.jsonl" if runs else None
        if metrics is not None and metrics.exists():
            done = len(metrics.read_text().splitlines())
            if done >= epochs:
                return done
        time.sleep(0.02)
    raise AssertionError("no epoch finished in time")


def saved_state(run: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The last checkpoint's position (epoch, step_in_epoch, global_step) and model arrays
    (weights, BN statistics, RNG seeds)."""
    backend, payload = read_checkpoint(run / "checkpoints" / "last.ckpt")
    if backend == "torch":
        state = torch.load(io.BytesIO(payload), weights_only=True)
        meta, arrays = state, {name: value.numpy() for name, value in state["model"].items()}
    else:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(str(arrays.pop("meta")))
        arrays = {name: value for name, value in arrays.items() if name.startswith("model_")}
    position = {key: int(meta[key]) for key in ("epoch", "step_in_epoch", "global_step")}
    return position, arrays


def weights(run: Path) -> dict[str, np.ndarray]:
    position, arrays = saved_state(run)
    assert position == {"epoch": EPOCHS, "step_in_epoch": 0,
                        "global_step": EPOCHS * STEPS_PER_EPOCH}
    return arrays


def assert_same_weights(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    assert left.keys() == right.keys()
    for name, value in left.items():
        assert np.array_equal(value, right[name]), name


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_killed_and_interrupted_runs_resume_to_the_same_weights(setup: dict, backend: str) -> None:
    setup = {**setup, "root": setup["root"] / backend}
    setup["root"].mkdir()
    reference_out = setup["root"] / "reference"
    reference, _ = start(setup, *train_args(setup, reference_out, backend))
    assert reference.wait(timeout=300) == 0
    expected = weights(run_folder(reference_out))

    # SIGKILL after the first epoch's checkpoint, then --resume
    killed_out = setup["root"] / "killed"
    killed, _ = start(setup, *train_args(setup, killed_out, backend))
    done = wait_for_epochs(killed_out, killed, 1)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=60) == -signal.SIGKILL
    assert done < EPOCHS
    resumed, _ = start(setup, "--resume", str(run_folder(killed_out)))
    assert resumed.wait(timeout=300) == 0
    assert_same_weights(weights(run_folder(killed_out)), expected)

    # Ctrl-C (SIGINT, sent by the test hook) after a known step inside the second epoch:
    # saves that position, exits 130; --resume finishes the same run
    stopped_out = setup["root"] / "stopped"
    stop_after = STEPS_PER_EPOCH + STOP_IN_EPOCH
    stopped, stopped_log = start(setup, *train_args(setup, stopped_out, backend),
                                 env={INTERRUPT_AFTER_STEP_VARIABLE: str(stop_after)})
    assert stopped.wait(timeout=300) == 130
    log = stopped_log.read_text()
    assert f"stopped at epoch 2, step {STOP_IN_EPOCH}; checkpoint saved" in log
    assert "checkpoint saved to" in log
    assert "--resume" in log
    run = run_folder(stopped_out)
    position, _ = saved_state(run)
    assert position == {"epoch": 1, "step_in_epoch": STOP_IN_EPOCH, "global_step": stop_after}
    assert position["step_in_epoch"] > 0
    resumed, _ = start(setup, "--resume", str(run))
    assert resumed.wait(timeout=300) == 0
    assert_same_weights(weights(run), expected)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    reference_rows = [json.loads(line) for line in
                      (run_folder(reference_out) / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, EPOCHS + 1))
    for row, reference_row in zip(rows, reference_rows, strict=True):
        for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr"):
            assert row[key] == reference_row[key], (row["epoch"], key)
