"""`specc train SPEC`: build, gate and train the spec's model on CIFAR-10-style data."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from specc.errors import SpeccError

HELP = (
    "Train the spec's generated model (after the build gate) with its train: recipe; flags "
    "override the recipe. Writes a run folder (metrics, learning curve, checkpoints, result) "
    "and prints the test loss and accuracy beside the spec's reference result. Ctrl-C saves a "
    "checkpoint and exits 130; a NaN or infinite loss stops the run with exit 1, naming the "
    "step; --resume RUN_DIR continues a run."
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"seeds are 0 .. 2**31-1, got {text!r}")
    return value


RECIPE_FLAGS = ("epochs", "batch_size", "lr", "seed")
RUN_FLAGS = ("backend", "limit_train", "limit_test", "weights")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", type=Path, help="the spec file (YAML)")
    parser.add_argument("--backend", choices=("torch", "keras"), default=None,
                        help="framework to train with (default: torch)")
    parser.add_argument("--data", default=None,
                        help="CIFAR-10: cifar-10-python.tar.gz or its folder, or an image folder "
                        "train/<class>/*, test/<class>/* (folder or .tar.gz); default $SPECC_DATA "
                        "or ~/.cache/specc (downloaded when online)")
    parser.add_argument("--epochs", type=_positive_int, help="override the recipe's epochs")
    parser.add_argument("--batch-size", type=_positive_int, help="override the recipe's batch size")
    parser.add_argument("--lr", type=_positive_float, help="override the recipe's peak learning rate")
    parser.add_argument("--seed", type=_seed, help="override the recipe's seed")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                        help="default: auto (a GPU when there is one); with --resume, the device "
                        "the run trained on")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default=None,
                        help="PyTorch autocast or Keras mixed precision; default: bf16 where the "
                        "hardware computes it natively (GPUs of compute capability 8.0+, CPUs "
                        "with AVX512-BF16 or AMX), else fp32 (PyTorch: fp16 with loss scaling on GPUs that "
                        "only emulate bf16)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the model (Keras: XLA-compile the training step)")
    parser.add_argument("--limit-train", type=_positive_int, metavar="N",
                        help="train on the first N training images only")
    parser.add_argument("--limit-test", type=_positive_int, metavar="N",
                        help="evaluate on the first N test images only")
    parser.add_argument("--peak-tflops", type=_positive_float, metavar="T",
                        help="device peak TFLOP/s for the FLOPs-utilisation figure (known GPUs "
                        "are looked up; a CPU's peak is measured once with a matmul and cached)")
    parser.add_argument("--out", type=Path, default=Path("runs"),
                        help="parent folder of run folders (default runs/)")
    parser.add_argument("--weights", metavar="WEIGHTS.safetensors",
                        help="start from these weights (from `specc import keras --weights`): "
                        "fine-tuning; frozen layers stay frozen")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR",
                        help="continue the run in RUN_DIR from its last checkpoint")
    parser.add_argument("--nproc", type=_positive_int, metavar="N",
                        help="data-parallel training in N local processes (torchrun, "
                        "DistributedDataParallel; one per GPU, or gloo on the CPU); the recipe's "
                        "batch is the global batch. Several machines: run `torchrun ... -m specc "
                        "train SPEC` on each")
    parser.add_argument("--sync-bn", action="store_true",
                        help="with several processes, BatchNormalization over the whole global "
                        "batch (SyncBatchNorm, GPUs only), as one process computes it; default: "
                        "per-rank statistics")


def run(args: argparse.Namespace) -> int:
    from specc.train.common import RunOptions
    from specc.train.session import TrainRequest, train

    if args.resume is not None:
        conflicting = [f"--{name.replace('_', '-')}" for name in (*RECIPE_FLAGS, *RUN_FLAGS)
                       if getattr(args, name) is not None]
        if conflicting:
            raise SpeccError(f"--resume continues a run with its recorded recipe and options; "
                             f"it cannot be combined with {', '.join(conflicting)}")
    if not args.spec.is_file():
        raise SpeccError(f"{args.spec}: no such spec file")
    if args.nproc is not None and args.nproc > 1:
        return _launch(args)
    options = RunOptions(
        backend=args.backend or "torch", device=args.device, precision=args.precision,
        compile=args.compile, limit_train=args.limit_train, limit_test=args.limit_test,
        peak_tflops=args.peak_tflops, sync_bn=args.sync_bn, weights=args.weights,
    )
    overrides = _overrides(args)
    return train(TrainRequest(args.spec, options, overrides, args.data, args.out, args.resume))


def _launch(args: argparse.Namespace) -> int:
    """Check what can be checked here, then start the ranks through torchrun."""
    from specc.spec.load import load_spec
    from specc.train.distributed import World, local_batch, world_from_environment
    from specc.train.launch import launch
    from specc.train.session import (
        refuse_cpu_sync_bn,
        refuse_keras_ranks,
        resolve_recipe,
        resume_recipe,
    )

    if world_from_environment().distributed:
        raise SpeccError("--nproc starts torchrun itself; under torchrun, leave it out")
    loaded = load_spec(args.spec)
    if args.resume is not None:
        recipe, backend = resume_recipe(args.resume, loaded)
    else:
        recipe, backend = resolve_recipe(loaded, _overrides(args)), args.backend or "torch"
    world = World(0, args.nproc, 0)
    refuse_keras_ranks(backend, world)
    refuse_cpu_sync_bn(args.sync_bn, args.device, world)
    local_batch(recipe.batch_size, world)
    threads = max((os.cpu_count() or 1) // args.nproc, 1)
    return launch(args.nproc, _worker_argv(args), threads)


def _overrides(args: argparse.Namespace) -> dict:
    return {name: getattr(args, name) for name in RECIPE_FLAGS if getattr(args, name) is not None}


def _worker_argv(args: argparse.Namespace) -> list[str]:
    """This command line for each rank, without --nproc."""
    argv = ["train", str(args.spec), "--out", str(args.out)]
    for name in ("backend", "data", "device", "epochs", "batch_size", "lr", "seed", "precision",
                 "limit_train", "limit_test", "peak_tflops", "resume"):
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", repr(value) if isinstance(value, float)
                     else str(value)]
    argv += [flag for flag, on in (("--compile", args.compile), ("--sync-bn", args.sync_bn)) if on]
    return argv
