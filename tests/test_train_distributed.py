"""`specc train --nproc N`: DistributedDataParallel through torchrun, gloo on the CPU.

Two processes end with the weights one process reaches with the same global batch (a spec
without BatchNormalization or Dropout, whose per-rank computation differs), a run whose rank
dies is ended with one line naming it and resumes with one process, SIGTERM to the launcher
stops both ranks after rank 0 saved; bad input is refused before any process starts.
"""

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

from specc.cli import main
from specc.errors import ExitCode
from specc.train.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parent.parent
EPOCHS = 3

# No BatchNormalization (per-rank statistics) and no Dropout (per-rank masks): the ranks
# together compute exactly what one process computes on the whole batch.
PLAIN_SPEC = """\
name: plain
input:
  shape: [8, 8, 3]
layers:
  - {name: conv1, type: Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
  - {name: conv2, type: Conv2D, filters: 8, kernel_size: 3, strides: 2, padding: same}
  - {name: norm, type: LayerNormalization}
  - {name: relu2, type: Activation, activation: relu}
  - {name: pool, type: GlobalAveragePooling2D}
  - {name: logits, type: Dense, units: 4}
  - {name: softmax, type: Activation, activation: softmax}
train:
  epochs: 3
  batch_size: 32
  lr: 0.05
  schedule: {name: onecycle, warmup_epochs: 1}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("distributed")
    spec = root / "plain.yaml"
    spec.write_text(PLAIN_SPEC)
    tiny = root / "tiny.yaml"
    tiny.write_text(TINY_SPEC)
    data = write_image_folder(root / "shapes", train=768, test=64)
    (root / "cache").mkdir()
    environment = {**os.environ, "SPECC_DATA": str(root / "cache"), "OMP_NUM_THREADS": "1",
                   "PYTHONUNBUFFERED": "1"}
    setup = {"root": root, "spec": spec, "tiny": tiny, "data": data, "env": environment}
    reference_out = root / "reference"
    reference, _ = start(setup, *train_args(setup, reference_out))
    assert reference.wait(timeout=300) == 0
    return {**setup, "reference": run_folder(reference_out)}


def start(setup: dict, *args: str) -> tuple[subprocess.Popen, Path]:
    log = setup["root"] / f"log-{time.monotonic_ns()}.txt"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "specc", "train", str(setup["spec"]), *args],
            cwd=ROOT, env=setup["env"], stdout=output, stderr=subprocess.PIPE, text=True)
    return process, log


def train_args(setup: dict, out: Path, *extra: str) -> list[str]:
    return ["--data", str(setup["data"]), "--out", str(out), "--epochs", str(EPOCHS),
            "--seed", "7", "--device", "cpu", *extra]


def run_folder(out: Path) -> Path:
    (run,) = list(out.iterdir())
    return run


def finished(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def model_state(run: Path) -> tuple[int, dict[str, np.ndarray]]:
    backend, payload = read_checkpoint(run / "checkpoints" / "last.ckpt")
    assert backend == "torch"
    state = torch.load(io.BytesIO(payload), weights_only=True)
    return state["epoch"], {name: value.numpy() for name, value in state["model"].items()}


def assert_same_run(run: Path, reference: Path) -> None:
    """The same weights and per-epoch metrics, within float32 tolerance (the ranks' gradients
    are summed in another order than one process sums them)."""
    epoch, arrays = model_state(run)
    reference_epoch, expected = model_state(reference)
    assert epoch == reference_epoch == EPOCHS
    assert arrays.keys() == expected.keys()
    for name, value in arrays.items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-4, atol=1e-5, err_msg=name)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    reference_rows = [json.loads(line)
                      for line in (reference / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, EPOCHS + 1))
    for row, expected_row in zip(rows, reference_rows, strict=True):
        for key in ("train_loss", "test_loss", "lr"):
            assert row[key] == pytest.approx(expected_row[key], rel=1e-4), (row["epoch"], key)
        for key in ("train_accuracy", "test_accuracy"):
            assert row[key] == pytest.approx(expected_row[key], abs=1.5 / 64), (row["epoch"], key)


def wait_for_epochs(out: Path, process: subprocess.Popen, epochs: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, "training ended before it could be interrupted"
        metrics = next(iter(out.glob("*/metrics.jsonl")), None)
        if metrics is not None and len(metrics.read_text().splitlines()) >= epochs:
            return
        time.sleep(0.02)
    raise AssertionError("no epoch finished in time")


def rank_pid(launcher: subprocess.Popen, rank: int) -> int:
    """The pid of a rank that the launcher started (torchrun puts RANK in its environment)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == launcher.pid and f"RANK={rank}".encode() in environment:
            return int(entry.name)
    raise AssertionError(f"no rank {rank} under pid {launcher.pid}")


@pytest.mark.slow
def test_two_processes_reach_the_weights_of_one(setup: dict) -> None:
    out = setup["root"] / "two"
    code, stderr = finished(start(setup, *train_args(setup, out), "--nproc", "2")[0])
    assert code == 0, stderr
    run = run_folder(out)
    assert_same_run(run, setup["reference"])
    environment = json.loads((run / "environment.json").read_text())
    assert environment["world_size"] == 2 and environment["process_group"] == "gloo"
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.ckpt"]


@pytest.mark.slow
def test_a_dead_rank_ends_the_job_and_the_run_resumes_with_one_process(setup: dict) -> None:
    out = setup["root"] / "killed"
    launcher, _ = start(setup, *train_args(setup, out), "--nproc", "2")
    wait_for_epochs(out, launcher, 1)
    os.kill(rank_pid(launcher, 1), signal.SIGKILL)
    killed_at = time.monotonic()
    code, stderr = finished(launcher, timeout=120)
    assert time.monotonic() - killed_at < 60  # bounded: no rank waits in a collective
    assert code == ExitCode.RANK_FAILED
    assert stderr.strip().count("\n") == 0 and "rank 1" in stderr and "SIGKILL" in stderr
    run = run_folder(out)
    assert model_state(run)[0] < EPOCHS
    code, stderr = finished(start(setup, "--resume", str(run))[0])
    assert code == 0, stderr
    assert_same_run(run, setup["reference"])


@pytest.mark.slow
def test_sigterm_to_the_launcher_saves_and_resume_finishes_the_run(setup: dict) -> None:
    out = setup["root"] / "stopped"
    launcher, _ = start(setup, *train_args(setup, out), "--nproc", "2")
    wait_for_epochs(out, launcher, 1)
    launcher.send_signal(signal.SIGTERM)
    code, stderr = finished(launcher, timeout=120)
    assert code == 130, stderr
    assert "checkpoint saved to" in stderr and "--resume" in stderr
    run = run_folder(out)
    assert model_state(run)[0] < EPOCHS
    code, stderr = finished(start(setup, "--resume", str(run), "--nproc", "2")[0])
    assert code == 0, stderr
    assert_same_run(run, setup["reference"])


# --- refused before any process starts: one line, exit 2, nothing written ------------------

def refused(setup: dict, *args: str, capsys: pytest.CaptureFixture) -> str:
    out = setup["root"] / "refused"
    try:
        code = main(["train", str(args[0]), "--data", str(setup["data"]), "--out", str(out),
                     *args[1:]])
    except SystemExit as stop:  # argparse's usage errors
        code = int(stop.code)
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    return err


def test_bad_distributed_flags_are_refused(setup: dict, capsys: pytest.CaptureFixture) -> None:
    spec, tiny = setup["spec"], setup["tiny"]
    assert "expected a positive integer, got '0'" in refused(setup, spec, "--nproc", "0",
                                                             capsys=capsys)
    assert "Expected a multiple of the world size 2" in refused(
        setup, spec, "--nproc", "2", "--batch-size", "33", capsys=capsys)
    assert "use --backend torch" in refused(setup, spec, "--nproc", "2", "--backend", "keras",
                                            capsys=capsys)
    assert "SyncBatchNorm runs on GPUs only" in refused(
        setup, tiny, "--nproc", "2", "--sync-bn", "--device", "cpu", capsys=capsys)
