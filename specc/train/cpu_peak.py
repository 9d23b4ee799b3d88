"""A CPU's peak FLOP/s for the FLOPs-utilisation figure, measured once per machine and cached.

A CPU has no data-sheet figure that the kernels reach, so specc measures what they do reach:
the best of a few timed square matrix products (up to 2048 x 2048) in the run's precision, on
the threads the training uses. The result is cached in `~/.cache/specc/cpu_peak.json` (or under
`$XDG_CACHE_HOME`), keyed by processor, thread count, PyTorch version and precision, so the
few seconds are spent once per machine.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # common imports this module (lazily) for the CPU's peak
    from specc.train.common import Precision

MATMUL_SIZE = 2048
MEASURE_SECONDS = 1.0


def cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "specc" / "cpu_peak.json"


def processor_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_key(precision: Precision) -> str:
    import torch

    return f"{processor_name()} | {torch.get_num_threads()} threads | torch {torch.__version__} | {precision}"


def measure_matmul_flops(precision: Precision, size: int = MATMUL_SIZE,
                         seconds: float = MEASURE_SECONDS) -> float:
    """FLOP/s of the fastest of repeated square matrix products, `size` x `size` at most.

    The size grows from 256 while one product takes under a tenth of `seconds`: a CPU that
    only emulates bf16 computes it some hundred times slower than fp32, and one 2048 product
    would then take minutes."""
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    generator = torch.Generator().manual_seed(0)
    n = min(256, size)
    while True:
        a = torch.randn(n, n, generator=generator).to(dtype)
        b = torch.randn(n, n, generator=generator).to(dtype)
        started = time.perf_counter()
        torch.mm(a, b)  # also the warm-up: thread pool, kernel selection
        if n >= size or time.perf_counter() - started > seconds / 10:
            break
        n *= 2
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return 2.0 * n**3 / best


def cpu_peak_flops(precision: Precision) -> float:
    """The cached peak for this machine and precision, measured on first use."""
    key = machine_key(precision)
    cached = _read_cache()
    if isinstance(cached.get(key), float):
        return cached[key]
    peak = measure_matmul_flops(precision)
    _write_cache({**cached, key: peak})
    return peak


def forget_cpu_peak(precision: Precision) -> None:
    """Drop this machine's cached peak for `precision` (it proved too low)."""
    cached = _read_cache()
    if cached.pop(machine_key(precision), None) is not None:
        _write_cache(cached)


def _read_cache() -> dict:
    try:
        data = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(data: dict) -> None:
    """Best effort: a read-only home only costs a new measurement next time."""
    path = cache_file()
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n")
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
