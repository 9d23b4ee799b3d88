"""What the time-to-accuracy contenders share (benchmarks/time_to_accuracy.py): the spec, its
recipe, the data exactly as `specc train` loads and normalises it, the schedule, and the
per-epoch record every contender reports.

The baselines (tta_torch_loop.py, tta_keras_fit.py) use specc only for what a user would
copy from it: the generated model, the decoded pixels, the normalisation statistics and the
learning-rate schedule, so that the recipe is the same and only the training loop differs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specc.spec.load import LoadedSpec, load_spec
from specc.spec.recipe import TrainRecipe
from specc.train.common import final_softmax_layer, normalization_stats
from specc.train.data import Dataset, load_dataset
from specc.train.schedule import Schedule
from specc.train.session import resolve_recipe

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "specs" / "cifar_small.yaml"


def default_data() -> Path:
    """$SPECC_DATA, else ../shared/data/cifar10-jpeg.tar.gz beside the repository (as
    benchmarks/gpu_smoke.sh)."""
    configured = os.environ.get("SPECC_DATA")
    return Path(configured) if configured else ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


@dataclass(frozen=True)
class Setup:
    """One contender's inputs: the same for all four."""

    loaded: LoadedSpec
    recipe: TrainRecipe
    data: Dataset
    mean: np.ndarray  # per channel, in [0, 1] pixel units (specc's normalization_stats)
    std: np.ndarray
    logits_layer: str | None  # the final softmax layer that training replaces by the identity

    @property
    def batch_size(self) -> int:
        return min(self.recipe.batch_size, len(self.data.y_train))

    @property
    def steps_per_epoch(self) -> int:
        return len(self.data.y_train) // self.batch_size  # the last partial batch is dropped

    @property
    def padding(self) -> int:
        return self.recipe.augmentation.random_crop_padding

    @property
    def flip(self) -> bool:
        return self.recipe.augmentation.horizontal_flip

    def schedule(self) -> Schedule:
        """specc's schedule, built as both engines build it."""
        return Schedule(self.recipe.schedule, self.recipe.lr,
                        self.recipe.epochs * self.steps_per_epoch, self.steps_per_epoch)


def read_run(out: Path) -> tuple[list[dict], dict]:
    """The one run folder `specc train --out OUT` made: metrics.jsonl rows, environment.json."""
    (run,) = [path for path in out.iterdir() if (path / "metrics.jsonl").is_file()]
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return metrics, json.loads((run / "environment.json").read_text())


def recipe_for(loaded: LoadedSpec, epochs: int | None) -> TrainRecipe:
    """The spec's `train:` recipe (with --epochs applied), refused unless the baselines can
    reproduce it: they are written for SGD."""
    recipe = resolve_recipe(loaded, {"epochs": epochs} if epochs else {})
    if recipe.optimizer.name != "sgd":
        raise SystemExit(f"{loaded.path}: the recipe's optimizer is {recipe.optimizer.name}; this "
                         "benchmark's baselines are written for SGD (with or without Nesterov)")
    return recipe


def prepare(spec: Path, data: Path, epochs: int | None, limit_train: int | None,
            limit_test: int | None) -> Setup:
    loaded = load_spec(spec)
    recipe = recipe_for(loaded, epochs)
    dataset = load_dataset(data).limited(limit_train, limit_test)
    mean, std = normalization_stats(recipe, dataset.x_train)
    return Setup(loaded, recipe, dataset, mean, std, final_softmax_layer(loaded))


def epoch_row(epoch: int, test_accuracy: float, train_s: float, eval_s: float) -> dict:
    """One epoch, with the keys of specc's metrics.jsonl (so specc.train.results reads it)."""
    return {"epoch": epoch, "test_accuracy": test_accuracy, "epoch_time_s": train_s,
            "eval_time_s": eval_s}


def print_epoch(name: str, row: dict, images: int) -> None:
    print(f"[{name}] epoch {row['epoch']}: test accuracy {row['test_accuracy']:.4f} | "
          f"train {row['epoch_time_s']:.1f} s ({images / row['epoch_time_s']:,.0f} img/s) | "
          f"eval {row['eval_time_s']:.1f} s", flush=True)
