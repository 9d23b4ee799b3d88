"""What both training engines share: run options, the engine's context, logits, MFU, and the
epoch loop."""

from __future__ import annotations

import math
import os
import random
import re
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np

from specc.errors import ExitCode, SpeccError
from specc.spec.load import LoadedSpec
from specc.spec.recipe import TrainRecipe
from specc.train.data import Dataset
from specc.train.distributed import SINGLE, World
from specc.train.progress import EpochProgress
from specc.train.results import EvalResult
from specc.train.run_folder import RunFolder
from specc.train.schedule import Schedule

Precision = Literal["fp32", "bf16", "fp16"]

CHECKPOINT_FORMAT = 1

# A test hook: after this many optimiser steps (counted over the whole run) the process sends
# itself SIGINT, so a test can stop a run at a known step inside an epoch through the real
# Ctrl-C path. Unset in normal use.
INTERRUPT_AFTER_STEP_VARIABLE = "SPECC_TEST_INTERRUPT_AFTER_STEP"

# Dense (not sparse) peak throughput in TFLOP/s per GPU model, from NVIDIA's data sheets:
# (bf16/fp16 tensor cores, fp32 as TF32). Names are matched as whole words of the name CUDA
# reports (so `L4` is not `L40`, `H200` is not `GH200`), most specific first.
GPU_PEAK_TFLOPS: tuple[tuple[str, float, float], ...] = (
    ("GH200", 989.4, 494.7),
    ("H200 NVL", 835.5, 417.5),
    ("H200", 989.4, 494.7),
    ("H100 NVL", 835.5, 417.5),
    ("H100 PCIe", 756.0, 378.0),
    ("H100", 989.4, 494.7),
    ("A100", 312.0, 156.0),
    ("L40S", 362.1, 183.0),
    ("L40", 181.0, 90.5),
    ("L4", 121.0, 60.0),
    ("A10", 125.0, 62.5),
    ("RTX 4090", 165.2, 82.6),
    ("RTX 3090", 71.0, 35.6),
    ("V100", 125.0, 15.7),
    ("T4", 65.0, 8.1),
)


class DivergedError(SpeccError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""

    exit_code = ExitCode.EXPECTATION_FAILED


@dataclass(frozen=True)
class RunOptions:
    backend: Literal["torch", "keras"] = "torch"
    # None: not given (a new run uses auto, a resumed run its recorded device); the session
    # resolves it to cpu or cuda before anything is decoded or written.
    device: Literal["auto", "cpu", "cuda"] | None = None
    precision: Precision | None = None  # None: what the hardware computes natively
    compile: bool = False
    limit_train: int | None = None
    limit_test: int | None = None
    peak_tflops: float | None = None
    nan_check_every: int = 50
    sync_bn: bool = False  # several processes: BatchNorm statistics over the global batch
    weights: str | None = None  # a spec weights file (safetensors) to start from


@dataclass
class EngineContext:
    loaded: LoadedSpec
    recipe: TrainRecipe
    data: Dataset
    run: RunFolder
    options: RunOptions
    progress: EpochProgress
    mean: np.ndarray  # per channel, in [0, 1] pixel units
    std: np.ndarray
    resume_payload: bytes | None = None
    environment: dict = field(default_factory=dict)
    world: World = SINGLE  # this process's rank in a multi-process run

    @property
    def flops_per_example(self) -> int:
        return self.loaded.info.flops


@dataclass(frozen=True)
class Outcome:
    test_loss: float
    test_accuracy: float
    epochs_done: int
    interrupted: bool


def normalization_stats(recipe: TrainRecipe, x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    channels = x_train.shape[-1]
    if recipe.normalization.name == "none":
        return np.zeros(channels), np.ones(channels)
    pixels = x_train.reshape(-1, channels)
    # Exact per-channel moments in float64, a slice at a time to bound memory.
    total = np.zeros(channels)
    squares = np.zeros(channels)
    for start in range(0, len(pixels), 1 << 22):
        chunk = pixels[start : start + (1 << 22)].astype(np.float64) / 255.0
        total += chunk.sum(axis=0)
        squares += (chunk * chunk).sum(axis=0)
    mean = total / len(pixels)
    std = np.sqrt(np.maximum(squares / len(pixels) - mean * mean, 1e-12))
    return mean, std


def final_softmax_layer(loaded: LoadedSpec) -> str | None:
    """The name of the spec's final softmax layer, which training replaces by the identity to
    train on logits (a softmax applied twice, or a loss on probabilities, trains badly)."""
    last = loaded.spec.layers[-1]
    activation = getattr(last, "activation", None)
    if last.type == "Activation" and activation == "softmax":
        return last.name
    if activation == "softmax":
        raise SpeccError(
            f"layer {last.name!r} ({last.type}) applies softmax inside the layer; training needs "
            "it as a separate final Activation(softmax) layer so that it can train on logits",
            file=str(loaded.path),
        )
    return None


def peak_flops(device_name: str, precision: Precision, override_tflops: float | None) -> float | None:
    """The device's peak FLOP/s for MFU: --peak-tflops if given, else the table's row for the
    GPU. A MIG slice has a fraction of the GPU's peak that its name does not tell: none."""
    if override_tflops is not None:
        return override_tflops * 1e12
    if re.search(r"\bMIG\b", device_name):
        return None
    for key, half, single in GPU_PEAK_TFLOPS:
        if re.search(rf"(?<!\w){re.escape(key)}(?!\w)", device_name):
            return (single if precision == "fp32" else half) * 1e12
    return None


def device_peak_flops(device_type: str, device_name: str, precision: Precision,
                      override_tflops: float | None) -> tuple[float | None, str]:
    """The peak for MFU and where it came from: --peak-tflops, the GPU table, or on a CPU a
    matmul measured once per machine (specc.train.cpu_peak)."""
    if override_tflops is not None:
        return override_tflops * 1e12, "--peak-tflops"
    if device_type == "cpu":
        try:
            from specc.train.cpu_peak import cpu_peak_flops
        except ImportError:  # the Keras engine without PyTorch installed
            return None, "unknown (the CPU peak is measured with PyTorch, not installed)"
        return cpu_peak_flops(precision), (f"measured: the best {precision} square matmul on "
                                           "this CPU (cached)")
    peak = peak_flops(device_name, precision, None)
    return peak, "the GPU table (dense data-sheet peak)" if peak is not None else \
        f"unknown for {device_name!r}: pass --peak-tflops"


def mfu(flops_per_example: int, images_per_s: float, peak: float | None) -> float | None:
    """Model FLOPs utilisation: forward + backward (about 3x forward) over the peak."""
    if peak is None:
        return None
    return 3.0 * flops_per_example * images_per_s / peak


class StopRequest:
    """Ctrl-C (SIGINT) or SIGTERM asks the loop to stop at the next step boundary, where the
    state is consistent and can be saved; a second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        try:
            previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        except ValueError:  # not the main thread: signals cannot be caught here
            yield self
            return
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _interrupt_after_step() -> int | None:
    value = os.environ.get(INTERRUPT_AFTER_STEP_VARIABLE, "")
    return int(value) if value.isdigit() else None


def epoch_summary(row: dict) -> str:
    mfu_text = f" mfu {row['mfu']:.1%}" if row.get("mfu") is not None else ""
    return (
        f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f}"
        f" | test loss {row['test_loss']:.4f} acc {row['test_accuracy']:.4f} | lr {row['lr']:.4g}"
        f" | {row['images_per_s']:,.0f} img/s{mfu_text} | {row['epoch_time_s']:.1f} s"
    )


def python_rng_state() -> list:
    """Python's `random` state as plain lists, for a checkpoint."""
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def restore_python_rng(state: list) -> None:
    version, internal, gauss = state
    random.setstate((version, tuple(internal), gauss))


Plan = TypeVar("Plan")


class EpochLoop(ABC, Generic[Plan]):
    """The epoch loop of both engines: progress, stop requests, per-step accounting, host checks,
    the per-epoch metrics row and checkpoint. An engine supplies the batches and steps,
    evaluation and checkpoints."""

    ctx: EngineContext
    schedule: Schedule
    peak: float | None
    peak_source: str
    batch_size: int
    steps_per_epoch: int
    epoch: int  # completed epochs
    step_in_epoch: int
    global_step: int
    last_row: dict | None  # the last finished epoch's metrics
    precision: Precision

    @abstractmethod
    def epoch_plan(self) -> Plan:
        """This epoch's augmentation, drawn from (seed, epoch); the model set to train."""

    @abstractmethod
    def run_step(self, plan: Plan, start: int) -> None:
        """One optimiser step on the plan's batch [start, start + batch_size) at global_step."""

    @abstractmethod
    def host_check(self) -> tuple[float, float]:
        """The running train loss and accuracy; DivergedError if the loss became NaN or inf."""

    @abstractmethod
    def evaluate(self) -> EvalResult: ...

    def stop_requested(self, stop: StopRequest) -> bool:
        """Whether to stop before the next step (in a multi-process run, all ranks agree)."""
        return stop.requested

    @abstractmethod
    def reset_accumulators(self) -> None: ...

    @abstractmethod
    def save(self) -> None: ...

    @abstractmethod
    def weights_finite(self) -> bool:
        """Whether every floating-point weight and buffer of the model is finite."""

    def require_finite(self, test_loss: float | None = None) -> None:
        """DivergedError if the weights (or the test loss) are NaN or infinite; called before
        every save, so such a checkpoint never replaces the last good one."""
        problems = []
        if test_loss is not None and not math.isfinite(test_loss):
            problems.append(f"the test loss is {test_loss}")
        if not self.weights_finite():
            problems.append("the weights hold NaN or infinite values")
        if problems:
            checkpoint = self.ctx.run.checkpoint
            kept = (f"the last good checkpoint is {checkpoint}" if checkpoint.is_file()
                    else "no epoch completed before, so there is no checkpoint")
            raise DivergedError(
                f"training diverged in epoch {self.epoch + 1}: {' and '.join(problems)}; stopped "
                f"without saving ({kept}); try a lower --lr")

    def checkpoint_meta(self, backend: str) -> dict[str, Any]:
        """What both engines' checkpoints record besides their framework's state."""
        ctx = self.ctx
        return {
            "format": CHECKPOINT_FORMAT, "backend": backend,
            "spec_sha256": ctx.loaded.sha256, "spec_name": ctx.loaded.spec.name,
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step, "scheduler": self.schedule.state(self.global_step),
            "normalization": {"mean": [float(v) for v in ctx.mean],
                              "std": [float(v) for v in ctx.std]},
            "classes": list(ctx.data.classes),
            "recipe": ctx.recipe.model_dump(mode="json"),
            "precision": self.precision,
            "last_row": self.last_row,
        }

    def check_same_spec(self, meta: dict[str, Any], path: object) -> None:
        if meta["spec_sha256"] != self.ctx.loaded.sha256:
            raise SpeccError(f"{path}: the checkpoint was made from another spec "
                             f"({meta['spec_name']!r}); refusing to resume")

    def restore_position(self, meta: dict[str, Any]) -> None:
        """Where the checkpointed run stood: epoch, step, and the last epoch's metrics."""
        self.epoch = int(meta["epoch"])
        self.step_in_epoch = int(meta["step_in_epoch"])
        self.global_step = int(meta["global_step"])
        self.last_row = meta.get("last_row")

    def train(self, stop: StopRequest) -> Outcome:
        recipe, progress = self.ctx.recipe, self.ctx.progress
        result: EvalResult | None = None
        while self.epoch < recipe.epochs:
            plan = self.epoch_plan()
            progress.start_epoch(self.epoch + 1, recipe.epochs, self.steps_per_epoch)
            first_step = self.step_in_epoch
            started = time.perf_counter()
            if not self._run_steps(plan, stop):
                return Outcome(float("nan"), float("nan"), self.epoch, interrupted=True)
            result = self._end_epoch(first_step, started)
        if result is None:  # resumed a finished run: evaluate once more
            result = self.evaluate()
        return Outcome(result.loss, result.accuracy, self.epoch, interrupted=False)

    def _run_steps(self, plan: Plan, stop: StopRequest) -> bool:
        """Steps to the epoch's end; False if a stop was requested (then saved first)."""
        check_every = max(self.ctx.options.nan_check_every, 1)
        interrupt_after = _interrupt_after_step()
        while self.step_in_epoch < self.steps_per_epoch:
            if self.stop_requested(stop):
                self.require_finite()
                self.save()
                self.ctx.progress.end_epoch(f"stopped at epoch {self.epoch + 1}, step "
                                            f"{self.step_in_epoch}; checkpoint saved")
                return False
            self.run_step(plan, self.step_in_epoch * self.batch_size)
            self.global_step += 1
            self.step_in_epoch += 1
            self._report_step(check_every)
            if self.global_step == interrupt_after:
                os.kill(os.getpid(), signal.SIGINT)
        return True

    def _report_step(self, check_every: int) -> None:
        if self.step_in_epoch % check_every == 0:
            loss, accuracy = self.host_check()
            self.ctx.progress.update(self.step_in_epoch, self.batch_size, loss, accuracy)
        else:
            self.ctx.progress.update(self.step_in_epoch, self.batch_size)

    def _utilisation(self, images_per_s: float) -> float | None:
        """MFU of an epoch. Above 100% the peak is wrong: a CPU peak measured while other work
        loaded the machine. Then it is forgotten (the next run measures again) and this run
        reports none."""
        value = mfu(self.ctx.flops_per_example, images_per_s, self.peak)
        if value is not None and value > 1.0 and self.peak_source.startswith("measured"):
            from specc.train.cpu_peak import forget_cpu_peak

            forget_cpu_peak(self.precision)
            self.peak = None
            self.peak_source = ("the measured CPU peak was below the reached throughput "
                                "(measured under load?); measured again on the next run")
            return None
        return value

    def _end_epoch(self, first_step: int, started: float) -> EvalResult:
        train_loss, train_accuracy = self.host_check()  # also waits for the device
        train_time = time.perf_counter() - started
        images_per_s = (self.step_in_epoch - first_step) * self.batch_size / max(train_time, 1e-9)
        eval_started = time.perf_counter()
        result = self.evaluate()
        self.require_finite(result.loss)
        row = {
            "epoch": self.epoch + 1, "train_loss": train_loss,
            "train_accuracy": train_accuracy, "test_loss": result.loss,
            "test_accuracy": result.accuracy,
            "lr": self.schedule.lr(max(self.global_step - 1, 0)),
            "images_per_s": images_per_s, "epoch_time_s": train_time,
            "eval_time_s": time.perf_counter() - eval_started,
            "mfu": self._utilisation(images_per_s),
        }
        self.epoch += 1
        self.last_row = row
        self.step_in_epoch = 0
        self.reset_accumulators()
        self.save()
        self.ctx.run.record_epoch(row)
        self.ctx.progress.end_epoch(epoch_summary(row))
        return result
