"""`make demo`: the main job end to end, on whatever machine it runs on.

1. validate every spec in specs/;
2. build every spec with both backends and gate them (the seed's gate table is shown);
3. train: the seed's full recipe on a GPU; on a CPU, a short, clearly labelled run of the
   small spec on the CIFAR-10 data it finds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from specc.cli import main as specc

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "specs").glob("*.yaml"))
SEED = "specs/alexnet.yaml"
CPU_SPEC = "specs/cifar_small.yaml"


def _step(title: str, argv: list[str]) -> None:
    print(f"\n=== {title}\n$ specc {' '.join(argv)}", flush=True)
    code = specc(argv)
    if code != 0:
        print(f"demo: `specc {' '.join(argv)}` exited {code}", file=sys.stderr)
        sys.exit(code)


def _find_data() -> str | None:
    """$SPECC_DATA, else the image-folder archive beside the checkout, else the cache."""
    candidates = [
        os.environ.get("SPECC_DATA"),
        str(ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"),
        str(Path.home() / ".cache" / "specc"),
    ]
    return next((c for c in candidates if c and Path(c).exists()), None)


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
    if data is None:
        print("\n=== Training skipped: no CIFAR-10 found. Set SPECC_DATA or pass --data to "
              "`specc train` (see README, 'Data').")
        return
    if _has_cuda():
        _step("Train the seed with its full recipe on the GPU", ["train", SEED, "--data", data])
        return
    print("\n*** CPU ONLY: a SHORT demonstration run (3 epochs of the small spec), not the "
          "seed's full recipe; train the seed on a GPU. ***")
    _step(
        "Train the small spec briefly on the CPU",
        ["train", CPU_SPEC, "--data", data, "--epochs", "3", "--out", "runs/demo"],
    )


if __name__ == "__main__":
    run()
