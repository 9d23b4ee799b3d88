"""Wall time of `specc build SPEC --backend torch` as a user runs it: a fresh process each time.

    python benchmarks/build_speed.py [--runs N] [--backend torch|keras] [SPEC]

Writes the generated file into a temporary folder, gates it (imports the file, builds the
model, runs one forward pass with hooks) and prints the median and spread, with how much
of it is importing torch alone. Target for specs/alexnet.yaml with torch: at most 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_time(command: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, result.returncode


def median_of(command: list[str], runs: int) -> tuple[float, float, float]:
    wall_time(command)  # warm the file cache and .pyc files
    times = []
    for _ in range(runs):
        seconds, code = wall_time(command)
        if code != 0:
            raise SystemExit(f"{' '.join(command)} exited {code}")
        times.append(seconds)
    return statistics.median(times), min(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", nargs="?", default="specs/alexnet.yaml")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", default="torch", choices=("torch", "keras"))
    args = parser.parse_args()

    framework = "torch" if args.backend == "torch" else "keras"
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as out:
        build = [sys.executable, "-m", "specc", "build", args.spec, "--backend", args.backend,
                 "--out", out]
        median, low, high = median_of(build, args.runs)
        imports, _, _ = median_of([sys.executable, "-c", f"import {framework}"], args.runs)
    print(f"specc build {args.spec} --backend {args.backend}: median {median:.2f} s wall over "
          f"{args.runs} runs (min {low:.2f}, max {high:.2f}); `import {framework}` alone: "
          f"{imports:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
