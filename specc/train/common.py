"""What both training engines share: run options, the engine's context, logits, MFU."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from specc.errors import ExitCode, SpeccError
from specc.spec.load import LoadedSpec
from specc.spec.recipe import TrainRecipe
from specc.train.data import Dataset
from specc.train.progress import EpochProgress
from specc.train.run_folder import RunFolder

Precision = Literal["fp32", "bf16", "fp16"]

# Dense peak throughput in TFLOP/s per GPU model: (bf16/fp16 tensor cores, fp32 as TF32).
# Matched as substrings of the device name, most specific first.
GPU_PEAK_TFLOPS: tuple[tuple[str, float, float], ...] = (
    ("H100 PCIe", 756.0, 378.0),
    ("H100", 989.4, 494.7),
    ("H200", 989.4, 494.7),
    ("GH200", 989.4, 494.7),
    ("A100", 312.0, 156.0),
    ("L40S", 362.1, 183.0),
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
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Precision | None = None  # None: bf16 on a GPU that has it, else fp32
    compile: bool = False
    limit_train: int | None = None
    limit_test: int | None = None
    peak_tflops: float | None = None
    nan_check_every: int = 50


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
    if override_tflops is not None:
        return override_tflops * 1e12
    for key, half, single in GPU_PEAK_TFLOPS:
        if key in device_name:
            return (single if precision == "fp32" else half) * 1e12
    return None


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


def epoch_summary(row: dict) -> str:
    mfu_text = f" mfu {row['mfu']:.1%}" if row.get("mfu") is not None else ""
    return (
        f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f}"
        f" | test loss {row['test_loss']:.4f} acc {row['test_accuracy']:.4f} | lr {row['lr']:.4g}"
        f" | {row['images_per_s']:,.0f} img/s{mfu_text} | {row['epoch_time_s']:.1f} s"
    )
