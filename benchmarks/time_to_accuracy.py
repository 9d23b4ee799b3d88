"""Time to accuracy on this machine: specc against what a user would run instead.

    python benchmarks/time_to_accuracy.py [--data ARCHIVE] [--spec SPEC] [--threshold 0.80]
        [--epochs N] [--limit-train N] [--limit-test N] [--only NAME ...] [--threads N]
        [--json build/time_to_accuracy.json]

One invocation trains the same architecture (the model specc generates for --spec, default
specs/cifar_small.yaml) with the same recipe (the spec's `train:` section: epochs, batch size,
peak learning rate, SGD with Nesterov momentum and weight decay on kernels, specc's warm-up +
one-cycle schedule step by step, random crops of the zero-padded image and horizontal flips,
label smoothing, the loss on the logits) on the same data (the whole archive by default) four
ways, one after the other, each in its own process so that one framework's thread pools do
not slow the next:

- `specc-torch`: `specc train SPEC --device cpu` (the PyTorch engine, its default precision);
- `specc-keras`: the same with `--backend keras`;
- `torch-dataloader`: a plain PyTorch loop over a `DataLoader(num_workers=2)` whose
  `Dataset` augments one image at a time, as tutorials write it (tta_torch_loop.py);
- `keras-fit`: Keras `model.fit` on a `tf.data` pipeline doing the same augmentation per
  image (tta_keras_fit.py).

Every contender evaluates on the test set after every epoch. For each it reports training
images/s (training images / training time, evaluation excluded), the time to --threshold test
accuracy (the summed training time up to the end of the first epoch whose test accuracy
reaches it, and the same with evaluation time added; "not reached" otherwise), the final test
accuracy and the precision; then specc's ratios against the two baselines, a Markdown table
for the README, and every number in --json (rewritten after each contender, so a failure late
in a long run keeps the earlier results; a contender that fails is reported and the others
still run). --threads N sets OMP_NUM_THREADS, MKL_NUM_THREADS and TF_NUM_INTRAOP_THREADS in
every contender's process; by default each framework picks its own (PyTorch: one thread per
core; TensorFlow: one per logical CPU).

Differences in recipe that remain (also printed and recorded in the JSON): see RECIPE_NOTES.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tta_common import DEFAULT_SPEC, ROOT, Setup, default_data, epoch_row, prepare, read_run

from specc.train.results import time_to_accuracy

CONTENDERS = {
    "specc-torch": "specc, PyTorch engine",
    "specc-keras": "specc, Keras engine",
    "torch-dataloader": "plain PyTorch loop, DataLoader (2 workers)",
    "keras-fit": "Keras model.fit, tf.data",
}
COMPARISONS = (  # (faster candidate, baseline)
    ("specc-torch", "torch-dataloader"),
    ("specc-torch", "keras-fit"),
    ("specc-keras", "keras-fit"),
)
RECIPE_NOTES = (
    ("Augmentation randomness: specc's engines draw each epoch's permutation, crop offsets and "
     "flips from (seed, epoch) with numpy; the DataLoader loop draws them per image from "
     "torch's generator (DataLoader shuffle, torch.randint, torch.rand), tf.data from TF's "
     "(shuffle over the whole training set, random_crop, random_flip_left_right). Same "
     "distributions (offsets uniform over [0, 2 x padding], flips with probability 1/2, zero "
     "padding in pixel space before normalisation), different draws."),
    ("Weight decay in model.fit: an L2 penalty wd/2 x sum(w^2) on the kernels (each variable's "
     "regularizer), whose gradient wd x w is what torch.optim.SGD's weight_decay and specc's "
     "Keras engine add: the same update in exact arithmetic (Keras's own SGD(weight_decay=) is "
     "decoupled and about 10x weaker at momentum 0.9, so it is not used). model.fit's loss "
     "includes the penalty; accuracy does not."),
    ("SGD: both Keras contenders use keras.optimizers.SGD(nesterov=True), which keeps the "
     "learning rate inside the velocity (v = m v - lr g), torch.optim.SGD outside it "
     "(b = m b + g; w -= lr (g + m b)). Equal at a constant rate; under the per-step schedule "
     "past steps' momentum is weighted by their own rate in Keras, by the current one in torch."),
    ("Precision and layout: specc's PyTorch engine runs its default precision (bf16 autocast "
     "where the CPU computes bf16 natively, else fp32), channels_last and fused SGD; the "
     "baselines run float32, contiguous memory and the default (non-fused) optimizers, as a "
     "user would. That is part of what is measured, not a recipe difference."),
    ("Evaluation batch: max(batch size, 256) for all four; the last partial training batch is "
     "dropped by all four (drop_last / drop_remainder), so all take the same steps and rates."),
)


def child_environment(threads: int | None) -> dict[str, str]:
    """This environment, this checkout first on the path, and --threads for both frameworks."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])])
    if threads is not None:
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
            environment[variable] = str(threads)
    return environment


def common_flags(args: argparse.Namespace) -> list[str]:
    flags = ["--data", str(args.data)]
    for flag in ("epochs", "limit_train", "limit_test"):
        value = getattr(args, flag)
        if value is not None:
            flags += [f"--{flag.replace('_', '-')}", str(value)]
    return flags


def run_specc(backend: str, args: argparse.Namespace) -> dict:
    """`specc train` in a subprocess; its run folder's metrics.jsonl and environment.json."""
    with tempfile.TemporaryDirectory(prefix="specc-tta-") as out:
        command = [sys.executable, "-m", "specc", "train", str(args.spec), "--device", "cpu",
                   "--backend", backend, "--out", out, *common_flags(args)]
        subprocess.run(command, check=True, env=child_environment(args.threads))
        metrics, environment = read_run(Path(out))
    rows = [epoch_row(row["epoch"], row["test_accuracy"], row["epoch_time_s"],
                      row["eval_time_s"]) for row in metrics]
    return {"precision": environment["precision"], "rows": rows,
            "images_per_epoch": environment["steps_per_epoch"] * environment["batch_size"],
            "environment": environment}


def run_baseline(name: str, args: argparse.Namespace) -> dict:
    """This script again with --contender NAME, in its own process; its result file."""
    with tempfile.TemporaryDirectory(prefix="specc-tta-") as folder:
        result = Path(folder) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--contender", name,
                   "--result", str(result), "--spec", str(args.spec), *common_flags(args)]
        subprocess.run(command, check=True, env=child_environment(args.threads))
        return json.loads(result.read_text())


def run_contender(name: str, args: argparse.Namespace) -> dict:
    """One contender's result; {"error": ...} if its process failed (the others still run)."""
    print(f"\n## {name}: {CONTENDERS[name]}", flush=True)
    started = time.perf_counter()
    try:
        if name.startswith("specc-"):
            result = run_specc(name.removeprefix("specc-"), args)
        else:
            result = run_baseline(name, args)
    except subprocess.CalledProcessError as error:
        print(f"{name} failed (exit {error.returncode}); the other contenders still run",
              flush=True)
        result = {"error": f"exit {error.returncode}: {' '.join(error.cmd)}"}
    result["process_wall_s"] = time.perf_counter() - started  # start-up and setup included
    return result


def run_all(args: argparse.Namespace) -> dict[str, dict]:
    """The chosen contenders one after the other; the raw results so far are written to
    --json after each, so a late failure loses nothing."""
    results: dict[str, dict] = {}
    for name in CONTENDERS:
        if name in args.only:
            results[name] = run_contender(name, args)
            write_json(args.json, {"partial": True, "contenders": results})
    return results


def write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2))


def contender_main(name: str, setup: Setup, result: Path) -> None:
    """The hidden --contender mode: one baseline, its result written as JSON."""
    if name == "torch-dataloader":
        import tta_torch_loop as baseline
    else:
        import tta_keras_fit as baseline  # type: ignore[no-redef]
    result.write_text(json.dumps(baseline.run(setup)))


def images_per_s(rows: list[dict], images_per_epoch: int) -> float | None:
    train_s = sum(row["epoch_time_s"] for row in rows)
    return images_per_epoch * len(rows) / train_s if train_s else None


def summarise(result: dict, threshold: float) -> dict:
    """Training images/s over all epochs (the first's warm-up included, as a user waits for
    it) and after the first; the time to `threshold`; the final and best test accuracy."""
    rows, images = result["rows"], result["images_per_epoch"]
    milestone = time_to_accuracy(rows, "threshold", threshold)
    return {
        "precision": result["precision"], "epochs": len(rows),
        "train_time_s": sum(row["epoch_time_s"] for row in rows),
        "eval_time_s": sum(row["eval_time_s"] for row in rows),
        "images_per_s": images_per_s(rows, images),
        "images_per_s_after_first_epoch": images_per_s(rows[1:], images),
        "threshold_epoch": milestone.epoch,
        "time_to_threshold_s": milestone.train_time_s,
        "time_to_threshold_with_eval_s": milestone.elapsed_s,
        "final_test_accuracy": rows[-1]["test_accuracy"] if rows else None,
        "best_test_accuracy": max((row["test_accuracy"] for row in rows), default=None),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator and denominator else None


def comparisons(summaries: dict[str, dict]) -> list[dict]:
    """Speed-ups (above 1: the first is faster) for the pairs both present."""
    pairs = []
    for fast, slow in COMPARISONS:
        if fast in summaries and slow in summaries:
            a, b = summaries[fast], summaries[slow]
            pairs.append({
                "contender": fast, "baseline": slow,
                "time_to_threshold": ratio(b["time_to_threshold_s"], a["time_to_threshold_s"]),
                "time_to_threshold_with_eval": ratio(b["time_to_threshold_with_eval_s"],
                                                     a["time_to_threshold_with_eval_s"]),
                "images_per_s": ratio(a["images_per_s"], b["images_per_s"]),
            })
    return pairs


def seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:,.1f} s"


def times(value: float | None) -> str:
    return "n/a" if value is None else f"**{value:.2f}x**"


def markdown(summaries: dict[str, dict], pairs: list[dict], threshold: float) -> str:
    lines = [(f"| contender | precision | training images/s | time to {threshold:.2f} "
              "(training) | time to it with evaluation | epoch | final test accuracy |"),
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, s in summaries.items():
        rate = "n/a" if s["images_per_s"] is None else f"{s['images_per_s']:,.0f}"
        lines.append(f"| {CONTENDERS[name]} | {s['precision']} | {rate} | "
                     f"{seconds(s['time_to_threshold_s'])} | "
                     f"{seconds(s['time_to_threshold_with_eval_s'])} | "
                     f"{s['threshold_epoch'] or '-'} | {s['final_test_accuracy']:.4f} |")
    if pairs:
        lines += ["", (f"| speed-up | time to {threshold:.2f} (training) | with evaluation | "
                   "training images/s |"), "| --- | ---: | ---: | ---: |"]
        for p in pairs:
            lines.append(f"| {CONTENDERS[p['contender']]} / {CONTENDERS[p['baseline']]} | "
                         f"{times(p['time_to_threshold'])} | "
                         f"{times(p['time_to_threshold_with_eval'])} | "
                         f"{times(p['images_per_s'])} |")
    return "\n".join(lines)


def settings(args: argparse.Namespace, setup: Setup) -> dict:
    recipe = setup.recipe
    return {
        "spec": str(args.spec), "data": str(args.data), "threshold": args.threshold,
        "train_images": len(setup.data.y_train), "test_images": len(setup.data.y_test),
        "epochs": recipe.epochs, "batch_size": setup.batch_size, "lr": recipe.lr,
        "steps_per_epoch": setup.steps_per_epoch, "recipe": recipe.model_dump(mode="json"),
        "threads": args.threads, "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }


def report(args: argparse.Namespace, setup: Setup, results: dict[str, dict]) -> None:
    summaries = {name: summarise(result, args.threshold) for name, result in results.items()
                 if "error" not in result}
    pairs = comparisons(summaries)
    table = markdown(summaries, pairs, args.threshold)
    print(f"\n## Time to {args.threshold:.2f} test accuracy: {setup.loaded.spec.name}, "
          f"{len(setup.data.y_train):,} / {len(setup.data.y_test):,} images, "
          f"{setup.recipe.epochs} epochs, batch {setup.batch_size}\n")
    print(table)
    for name, result in results.items():
        if "error" in result:
            print(f"\n{name} FAILED: {result['error']}")
    print("\nRecipe differences that remain:\n" + "\n".join(f"- {n}" for n in RECIPE_NOTES))
    write_json(args.json, {
        "settings": settings(args, setup), "summaries": summaries, "comparisons": pairs,
        "contenders": results, "markdown": table, "recipe_notes": list(RECIPE_NOTES)})
    print(f"\nAll numbers: {args.json}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--threshold", type=float, default=0.80)
    parser.add_argument("--epochs", type=int, help="default: the recipe's")
    parser.add_argument("--limit-train", type=int, help="for smoke runs")
    parser.add_argument("--limit-test", type=int, help="for smoke runs")
    parser.add_argument("--only", nargs="+", choices=list(CONTENDERS), default=list(CONTENDERS),
                        metavar="NAME", help=f"contenders to run, of {', '.join(CONTENDERS)}")
    parser.add_argument("--threads", type=int, help="default: each framework's default")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "time_to_accuracy.json")
    parser.add_argument("--contender", choices=("torch-dataloader", "keras-fit"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    setup = prepare(args.spec, args.data, args.epochs, args.limit_train, args.limit_test)
    if args.contender:
        contender_main(args.contender, setup, args.result)
        return
    print(f"{setup.loaded.spec.name}: {len(setup.data.y_train):,} training and "
          f"{len(setup.data.y_test):,} test images, {setup.recipe.epochs} epochs, batch "
          f"{setup.batch_size}, lr {setup.recipe.lr}, threshold {args.threshold}", flush=True)
    report(args, setup, run_all(args))


if __name__ == "__main__":
    main()
