"""Inference of one exported model on this machine's CPU: ONNX Runtime against PyTorch eager.

    python benchmarks/export_inference.py [--spec specs/cifar_small.yaml] [--rounds 5]
                                          [--threads 1]

Exports the spec's model (fresh weights: speed does not depend on their values) with
`specc export --format onnx`, then times the same computation, raw pixels in and the final
softmax out, in ONNX Runtime and in the PyTorch wrapper it was exported from (eager,
`torch.inference_mode`), at batch 1 and batch 256. The two run interleaved round by round
(the machine is shared, so each figure is the median of the rounds) and the ratio is
reported. Both get the same number of threads (`--threads`, default 1): on a CPU shared with
other work, a 2-thread PyTorch run waits at every OpenMP barrier for a thread that is not
scheduled, and its figures then say more about the neighbours than about the model.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def images_per_second(run: Callable[[], object], batch: int, min_seconds: float) -> float:
    run()  # warm-up
    calls, started = 0, time.perf_counter()
    while True:
        run()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return calls * batch / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "cifar_small.yaml")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    parser.add_argument("--threads", type=int, default=1, help="for both runtimes")
    args = parser.parse_args()

    import onnxruntime
    import torch

    from specc.export.formats import write_onnx
    from specc.export.job import prepare_job
    from specc.spec.load import load_spec

    loaded = load_spec(args.spec)
    with tempfile.TemporaryDirectory(prefix="specc-bench-export-") as folder:
        output = Path(folder) / "model.onnx"
        job = prepare_job(loaded, None, None, True, output, Path(folder))
        print(write_onnx(job).check)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(output), options,
                                               providers=["CPUExecutionProvider"])
    torch.set_num_threads(args.threads)
    model = job.deployed
    shape = tuple(loaded.spec.input.shape)
    results: dict[tuple[str, int], list[float]] = {}
    for batch in (1, 256):
        pixels = np.random.default_rng(0).uniform(0, 255, (batch, *shape)).astype(np.float32)
        tensor = torch.from_numpy(pixels)

        def run_onnx(pixels: np.ndarray = pixels) -> object:
            return session.run(None, {"pixels": pixels})

        def run_torch(tensor: torch.Tensor = tensor) -> object:
            with torch.inference_mode():
                return model(tensor)

        for _ in range(args.rounds):
            for name, run in (("onnxruntime", run_onnx), ("pytorch", run_torch)):
                rate = images_per_second(run, batch, args.seconds)
                results.setdefault((name, batch), []).append(rate)
    print(f"\n## {loaded.spec.name}: inference on the CPU, pixels in, softmax out "
          f"(median of {args.rounds} interleaved rounds; {args.threads} thread(s) each)")
    print("| batch | ONNX Runtime images/s | PyTorch eager images/s | ONNX Runtime / PyTorch |")
    print("| --- | --- | --- | --- |")
    for batch in (1, 256):
        onnx_rate = statistics.median(results[("onnxruntime", batch)])
        torch_rate = statistics.median(results[("pytorch", batch)])
        print(f"| {batch} | {onnx_rate:,.0f} | {torch_rate:,.0f} | {onnx_rate / torch_rate:.2f} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
