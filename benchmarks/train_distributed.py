"""`specc train --nproc 2` against one process, on this machine's CPU, in one run:

    python benchmarks/train_distributed.py [--data ARCHIVE] [--rounds 2] [--limit-train 10240]

Trains `specs/cifar_small.yaml` (its recipe's global batch of 512) for 2 epochs on the first
`--limit-train` CIFAR-10 images in three set-ups, interleaved round by round (the machine is
shared, so each figure is the median of the rounds): one process with 2 threads (specc's
default on 2 cores), one process with 1 thread, and `--nproc 2` (gloo, 1 thread per rank).
The figure is the training images/s of the second epoch (the first includes the warm-up),
as `metrics.jsonl` records it; the ratios are against the two one-process set-ups.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
SETUPS = {  # name: (extra flags, OMP_NUM_THREADS)
    "1 process, 2 threads": ([], "2"),
    "1 process, 1 thread": ([], "1"),
    "--nproc 2 (1 thread each)": (["--nproc", "2"], "1"),
}


def run_once(data: Path, limit: int, flags: list[str], threads: str, cache: str) -> float:
    with tempfile.TemporaryDirectory(prefix="specc-bench-ddp-") as out:
        environment = {**os.environ, "OMP_NUM_THREADS": threads, "SPECC_DATA": cache}
        done = subprocess.run(
            [sys.executable, "-m", "specc", "train", str(ROOT / "specs" / "cifar_small.yaml"),
             "--data", str(data), "--limit-train", str(limit), "--limit-test", "1000",
             "--epochs", "2", "--device", "cpu", "--out", out, *flags],
            env=environment, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"specc train failed ({done.returncode}): {done.stderr.strip()}")
        (run,) = list(Path(out).iterdir())
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        return float(rows[-1]["images_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--limit-train", type=int, default=10240)
    args = parser.parse_args()
    results: dict[str, list[float]] = {name: [] for name in SETUPS}
    with tempfile.TemporaryDirectory(prefix="specc-bench-cache-") as cache:
        for round_index in range(args.rounds):
            for name, (flags, threads) in SETUPS.items():
                rate = run_once(args.data, args.limit_train, flags, threads, cache)
                results[name].append(rate)
                print(f"round {round_index + 1}: {name}: {rate:,.0f} images/s", flush=True)
    medians = {name: statistics.median(rates) for name, rates in results.items()}
    two = medians["--nproc 2 (1 thread each)"]
    print(f"\n## cifar_small, {args.limit_train:,} images, global batch 512, epoch 2 "
          f"(median of {args.rounds} interleaved rounds, CPU, {os.cpu_count()} cores)")
    print("| set-up | images/s | --nproc 2 / this |")
    print("| --- | --- | --- |")
    for name, rate in medians.items():
        print(f"| {name} | {rate:,.0f} | {two / rate:.2f} |")


if __name__ == "__main__":
    main()
