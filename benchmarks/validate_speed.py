"""Wall time of `specc validate` as a user runs it: a fresh process each time.

    python benchmarks/validate_speed.py [--runs N] [SPEC]

Prints the median and the spread for SPEC (default specs/alexnet.yaml; target: at most
0.3 s), and the slowest file of the bad-input corpus (target: under 1 s each).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "bad_inputs"


def wall_time(*arguments: str) -> tuple[float, int]:
    """Seconds for one `specc` process, and its exit code."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "specc", *arguments],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start, result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", nargs="?", default="specs/alexnet.yaml")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--corpus-runs", type=int, default=3, help="runs per corpus file")
    args = parser.parse_args()

    wall_time("validate", args.spec)  # warm the file cache and .pyc files
    times = []
    for _ in range(args.runs):
        seconds, code = wall_time("validate", args.spec)
        if code != 0:
            print(f"specc validate {args.spec} exited {code}", file=sys.stderr)
            return 1
        times.append(seconds)
    print(
        f"specc validate {args.spec}: median {statistics.median(times):.3f} s wall over "
        f"{args.runs} runs (min {min(times):.3f}, max {max(times):.3f})"
    )

    slowest = []
    for path in sorted(CORPUS.glob("*.yaml")):
        best = min(wall_time("validate", str(path))[0] for _ in range(args.corpus_runs))
        slowest.append((best, path.name))
    slowest.sort(reverse=True)
    print(
        f"bad-input corpus: {len(slowest)} files, slowest {slowest[0][1]} at "
        f"{slowest[0][0]:.3f} s (best of {args.corpus_runs}), median "
        f"{statistics.median(t for t, _ in slowest):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
