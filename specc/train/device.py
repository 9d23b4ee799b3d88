"""Which device and precision a run uses, decided once, before anything is decoded or written.

Both engines and `specc eval` ask here: `resolve_device` turns `auto` into `cpu` or `cuda` (or
refuses `cuda` without a GPU) and `choose_precision` picks the default precision from what the
hardware computes natively, with the reason recorded in `environment.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from specc.errors import SpeccError
from specc.train.common import Precision

Device = Literal["cpu", "cuda"]
Backend = Literal["torch", "keras"]


def _torch_has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def _keras_has_gpu() -> bool:
    from specc.backends.quiet_keras import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def has_gpu(backend: Backend) -> bool:
    return _torch_has_gpu() if backend == "torch" else _keras_has_gpu()


def resolve_device(backend: Backend, requested: str, *, recorded: bool = False) -> Device:
    """`auto` -> `cuda` when the backend sees a GPU, else `cpu`; `cuda` without one is an error
    (`recorded`: the device came from the run being resumed, not from --device)."""
    if requested == "cpu":
        return "cpu"
    gpu = has_gpu(backend)
    if requested == "auto":
        return "cuda" if gpu else "cpu"
    if requested != "cuda":
        raise SpeccError(f"--device {requested}: expected auto, cpu or cuda")
    if not gpu:
        if recorded:
            raise SpeccError("--resume: this run trained on cuda and no CUDA device is available "
                             "now; pass --device cpu to continue it on the CPU (much slower)")
        framework = "PyTorch" if backend == "torch" else "TensorFlow"
        raise SpeccError(f"--device cuda: {framework} sees no CUDA device (use --device cpu or "
                         "auto)")
    return "cuda"


@dataclass(frozen=True)
class PrecisionChoice:
    precision: Precision
    reason: str


@dataclass(frozen=True)
class GpuCapability:
    name: str
    compute_capability: tuple[int, int]
    native_bf16: bool  # computes bf16 in hardware (not emulated through fp32)


@dataclass(frozen=True)
class CpuCapability:
    isa: str  # what PyTorch dispatches to: "AVX512", "AVX2", ...
    avx512_bf16: bool
    amx: bool

    @property
    def native_bf16(self) -> bool:
        return self.avx512_bf16 or self.amx

    def describe(self) -> str:
        extras = [name for name, present in (("AVX512_BF16", self.avx512_bf16),
                                             ("AMX", self.amx)) if present]
        return " + ".join([self.isa, *extras])


def torch_gpu_capability(index: int = 0) -> GpuCapability:
    import torch

    # including_emulation=False: V100 and T4 "support" bf16 only by emulating it in fp32.
    return GpuCapability(torch.cuda.get_device_name(index),
                         tuple(torch.cuda.get_device_capability(index)),
                         torch.cuda.is_bf16_supported(including_emulation=False))


def cpu_capability() -> CpuCapability:
    import torch

    return CpuCapability(torch.backends.cpu.get_cpu_capability(),
                         bool(torch.cpu._is_avx512_bf16_supported()),
                         bool(torch.cpu._is_amx_tile_supported()))


def default_gpu_precision(gpu: GpuCapability) -> PrecisionChoice:
    where = f"{gpu.name} (compute capability {gpu.compute_capability[0]}.{gpu.compute_capability[1]})"
    if gpu.native_bf16:
        return PrecisionChoice("bf16", f"{where} computes bf16 natively")
    if gpu.compute_capability >= (7, 0):
        return PrecisionChoice("fp16", f"{where} has fp16 tensor cores but only emulates bf16: "
                                       "fp16 with loss scaling")
    return PrecisionChoice("fp32", f"{where} has no tensor cores: fp32")


def default_cpu_precision(cpu: CpuCapability) -> PrecisionChoice:
    if cpu.native_bf16:
        return PrecisionChoice("bf16", f"the CPU computes bf16 natively ({cpu.describe()})")
    return PrecisionChoice("fp32", f"the CPU has no native bf16 ({cpu.describe()}); bf16 would "
                                   "be emulated and slower: fp32")


def choose_precision(device: Device, requested: Precision | None) -> PrecisionChoice:
    """The PyTorch engine's precision: the flag if given, else what the hardware does natively."""
    if requested is not None:
        return PrecisionChoice(requested, f"--precision {requested}")
    if device == "cuda":
        return default_gpu_precision(torch_gpu_capability())
    return default_cpu_precision(cpu_capability())
