"""`specc parity`: the generated Keras and PyTorch models compute the same function."""

from __future__ import annotations

import argparse
from pathlib import Path

from specc.errors import ExpectationError, SpeccError

HELP = (
    "Build SPEC with both backends, copy the Keras weights into PyTorch, run both in inference "
    "mode on the same seeded random batch and report the max absolute and relative difference "
    "per layer (exit 1 beyond --tolerance)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="the spec file")
    parser.add_argument("--out", default="build", metavar="DIR",
                        help="where the generated files go (default: build/)")
    parser.add_argument("--batch-size", type=int, default=2, help="images in the batch (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the batch and the weights")
    parser.add_argument("--weights", metavar="WEIGHTS.safetensors",
                        help="compare with these weights (from `specc import keras --weights`) "
                        "instead of random ones")
    parser.add_argument("--tolerance", type=float, default=1e-4,
                        help="largest relative difference allowed (default 1e-4)")


def run(args: argparse.Namespace) -> int:
    from specc.backends.parity import run_parity
    from specc.expectations import require_expectations
    from specc.spec.load import load_spec

    if not 1 <= args.batch_size <= 1024:
        raise SpeccError(f"--batch-size {args.batch_size}: expected 1 to 1024")
    if not 0.0 < args.tolerance < 1.0:
        raise SpeccError(f"--tolerance {args.tolerance}: expected a value between 0 and 1")
    loaded = load_spec(args.spec)
    require_expectations(loaded)
    weights = None
    if args.weights:
        from specc.backends.weights import read_weights, torch_state

        weights = read_weights(args.weights)
        torch_state(loaded, weights, args.weights)  # every key fits the spec
    result = run_parity(loaded, Path(args.out), batch_size=args.batch_size, seed=args.seed,
                        tolerance=args.tolerance, weights=weights, weights_source=args.weights)
    print(result.table())
    print(f"\n{loaded.spec.name}: max abs difference {result.max_abs:.3e}, max relative "
          f"difference {result.max_rel:.3e} (tolerance {result.tolerance:g}, float32, batch of "
          f"{result.batch_size}, seed {args.seed})")
    if not result.passed:
        # The first layer that differs is where the two models part; the layers after it
        # inherit its difference, often magnified (a BatchNormalization, a pooling).
        first = result.failing()[0]
        raise ExpectationError(
            f"{loaded.file}: parity fails: layer {first.name!r} ({first.type}) is the first "
            f"to differ, by {first.max_rel:.3e} relative (tolerance {result.tolerance:g})"
        )
    print("parity holds")
    return 0
