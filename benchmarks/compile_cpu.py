"""`--compile` (Inductor) against eager on this machine's CPU, per spec and precision, with
what compiling costs and what it would save over a whole run:

    python benchmarks/compile_cpu.py                       # cifar_small and the seed, fp32
    python benchmarks/compile_cpu.py --precisions fp32 bf16 --specs specs/cifar_small.yaml

Each set-up is one `specc train --device cpu` subprocess (a fresh process, so compilation is
paid in full; Inductor's on-disk cache is pointed at an empty folder), eager and compiled
interleaved round by round. From the run's metrics: the steady rate is the mean images/s of
the epochs after the first; the compilation cost is the first epoch's time beyond what the
steady rate accounts for, minus the same excess of the eager run (warm-up both pay). The
projection is that cost plus the recipe's epochs over the full training split at the steady
rate: a whole-run figure, since a compiled graph is reused by every later epoch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tta_common import ROOT, default_data, read_run

TRAIN_SPLIT = 50_000


@dataclass(frozen=True)
class Setup:
    spec: str
    precision: str
    batch_size: int
    limit_train: int


@dataclass(frozen=True)
class Measured:
    first_epoch_s: float
    first_epoch_images: int
    steady_images_per_s: float

    @property
    def first_epoch_excess_s(self) -> float:
        return self.first_epoch_s - self.first_epoch_images / self.steady_images_per_s


def train_once(setup: Setup, compiled: bool, data: str, epochs: int, folder: Path) -> Measured:
    out = Path(tempfile.mkdtemp(prefix="run-", dir=folder))
    command = [sys.executable, "-m", "specc", "train", setup.spec, "--data", data,
               "--device", "cpu", "--precision", setup.precision, "--epochs", str(epochs),
               "--batch-size", str(setup.batch_size), "--limit-train", str(setup.limit_train),
               "--limit-test", "100", "--out", str(out)]
    if compiled:
        command.append("--compile")
    environment = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(out / "inductor-cache")}
    subprocess.run(command, check=True, capture_output=True, env=environment)
    rows, run_environment = read_run(out)
    images = run_environment["steps_per_epoch"] * run_environment["batch_size"]
    return Measured(rows[0]["epoch_time_s"], images,
                    statistics.mean(row["images_per_s"] for row in rows[1:]))


def recipe_epochs(spec: str) -> int:
    from specc.spec.load import load_spec

    return load_spec(Path(spec)).spec.train.epochs


def report(setup: Setup, eager: list[Measured], compiled: list[Measured]) -> str:
    eager_rate = statistics.median(m.steady_images_per_s for m in eager)
    compiled_rate = statistics.median(m.steady_images_per_s for m in compiled)
    compile_cost = statistics.median(m.first_epoch_excess_s for m in compiled) - statistics.median(
        m.first_epoch_excess_s for m in eager)
    epochs = recipe_epochs(setup.spec)
    eager_run = epochs * TRAIN_SPLIT / eager_rate
    compiled_run = compile_cost + epochs * TRAIN_SPLIT / compiled_rate
    return (f"| {Path(setup.spec).stem} | {setup.precision} | {setup.batch_size} | "
            f"{eager_rate:,.1f} | {compiled_rate:,.1f} | {compiled_rate / eager_rate:.2f} | "
            f"{compile_cost:.0f} s | {epochs} epochs: {eager_run / 60:.1f} against "
            f"{compiled_run / 60:.1f} min ({eager_run / compiled_run:.2f}) |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(default_data()))
    parser.add_argument("--specs", nargs="+", default=["specs/cifar_small.yaml",
                                                       "specs/alexnet.yaml"])
    parser.add_argument("--precisions", nargs="+", default=["fp32"], choices=("fp32", "bf16"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3, help="per run; the first compiles")
    parser.add_argument("--images", type=int, default=None,
                        help="training images per run (default: 16 batches of cifar_small's "
                             "recipe, 8 of the seed's at batch 128)")
    args = parser.parse_args()
    os.chdir(ROOT)
    rows = []
    with tempfile.TemporaryDirectory(prefix="specc-compile-") as name:
        for spec in args.specs:
            seed = Path(spec).stem == "alexnet"
            batch_size = 128 if seed else 256
            images = args.images or batch_size * (8 if seed else 16)
            for precision in args.precisions:
                setup = Setup(spec, precision, batch_size, images)
                runs: dict[bool, list[Measured]] = {False: [], True: []}
                for round_index in range(args.rounds):
                    for compiled in (False, True):
                        measured = train_once(setup, compiled, args.data, args.epochs, Path(name))
                        runs[compiled].append(measured)
                        print(f"{spec} {precision} round {round_index + 1} "
                              f"{'compiled' if compiled else 'eager'}: first epoch "
                              f"{measured.first_epoch_s:.1f} s, then "
                              f"{measured.steady_images_per_s:,.1f} images/s", flush=True)
                rows.append(report(setup, runs[False], runs[True]))
    print("\n| spec | precision | batch | eager images/s | compiled images/s | compiled / eager "
          "| compilation | projected whole run, eager against compiled (ratio) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
