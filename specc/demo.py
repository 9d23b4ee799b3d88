"""`make demo`: the main job end to end, on whatever machine it runs on.

1. validate every spec in specs/;
2. build every spec with both backends and gate them (the seed's gate table is shown);
3. train: the seed's full recipe on a GPU; on a CPU, a short, clearly labelled run of the
   small spec on the CIFAR-10 data it finds (a machine with none skips this step, saying why).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from specc.cli import main as specc
from specc.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "specs").glob("*.yaml"))
SEED = "specs/alexnet.yaml"
CPU_SPEC = "specs/cifar_small.yaml"


def _run(title: str, argv: list[str]) -> int:
    print(f"\n=== {title}\n$ specc {' '.join(argv)}", flush=True)
    return specc(argv)


def _step(title: str, argv: list[str]) -> None:
    code = _run(title, argv)
    if code != 0:
        print(f"demo: `specc {' '.join(argv)}` exited {code}", file=sys.stderr)
        sys.exit(code)


def _find_data() -> list[str]:
    """`--data` for the archive beside the checkout; otherwise specc looks for the data itself
    ($SPECC_DATA, then ~/.cache/specc, downloading the official archive when online)."""
    if os.environ.get("SPECC_DATA"):
        return []
    beside = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"
    return ["--data", str(beside)] if beside.exists() else []


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def run() -> None:
    os.chdir(ROOT)
    _step("Validate every spec (no framework imported)", ["validate", *SPECS])
    others = [spec for spec in SPECS if spec != SEED]
    _step("Build and gate every other spec, both backends", ["build", *others, "--backend", "all"])
    _step("Build and gate the seed: spec against the built models", ["build", SEED, "--backend", "all"])
    _step("Parity: Keras and PyTorch compute the same function", ["parity", SEED])
    data = _find_data()
    if _has_cuda():
        _train("Train the seed with its full recipe on the GPU", ["train", SEED, *data])
        return
    print("\n*** CPU ONLY: a SHORT demonstration run (3 epochs of the small spec), not the "
          "seed's full recipe; train the seed on a GPU. ***")
    _train(
        "Train the small spec briefly on the CPU",
        ["train", CPU_SPEC, *data, "--epochs", "3", "--out", "runs/demo"],
    )


def _train(title: str, argv: list[str]) -> None:
    """Like _step, but a machine without CIFAR-10 (exit 2, already explained) ends the demo."""
    code = _run(title, argv)
    if code == ExitCode.INVALID_INPUT:
        print("demo: training skipped: see the line above and the README's 'Data' section.")
    elif code != 0:
        sys.exit(code)


if __name__ == "__main__":
    run()
