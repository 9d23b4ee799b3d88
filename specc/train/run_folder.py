"""The run folder: everything a run needs to be understood, compared and resumed.

    runs/<spec>-<UTC time>/
      spec.yaml          the spec, byte for byte
      recipe.json        the resolved recipe (spec's train: section + flags) and run options
      environment.json   versions, device, precision, threads
      metrics.jsonl      one JSON object per epoch
      metrics.csv        the same, as CSV
      learning_curve.png loss and accuracy per epoch
      checkpoints/last.ckpt
      result.json        the final test loss and accuracy, beside the spec's reference
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from specc.errors import SpeccError
from specc.files import atomic_path, strict_json, write_text_atomic

MAX_RECORD_BYTES = 16 << 20  # recipe.json, metrics.jsonl: a few KiB in a real run

# The recorded run options a resume relies on, as `specc train` writes them.
OPTION_CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "backend": ("torch or keras", lambda v: v in ("torch", "keras")),
    "device": ("auto, cpu or cuda", lambda v: v in ("auto", "cpu", "cuda")),
    "precision": ("null, fp32, bf16 or fp16", lambda v: v in (None, "fp32", "bf16", "fp16")),
    "compile": ("true or false", lambda v: type(v) is bool),
    "limit_train": ("null or a positive integer", lambda v: v is None or _positive_int(v)),
    "limit_test": ("null or a positive integer", lambda v: v is None or _positive_int(v)),
    "peak_tflops": ("null or a positive number", lambda v: v is None or (
        type(v) in (int, float) and math.isfinite(v) and v > 0)),
    "nan_check_every": ("a positive integer", lambda v: _positive_int(v)),
}


def _positive_int(value: object) -> bool:
    return type(value) is int and value > 0


METRIC_FIELDS = (
    "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr",
    "images_per_s", "epoch_time_s", "mfu",
)


def _is_metrics_row(row: dict) -> bool:
    return type(row.get("epoch")) is int and row["epoch"] > 0 and all(
        row.get(key) is None or type(row[key]) in (int, float) for key in METRIC_FIELDS)


class RunFolder:
    """`writable` is False for the ranks other than 0 of a multi-process run: they read the
    folder (to resume) while rank 0 alone writes it."""

    def __init__(self, path: Path, writable: bool = True) -> None:
        self.path = path
        self.writable = writable

    @classmethod
    def read_only(cls, path: Path) -> RunFolder:
        return cls(path, writable=False)

    @classmethod
    def create(cls, out: Path, spec_name: str) -> RunFolder:
        if out.exists() and not out.is_dir():
            raise SpeccError(f"--out {out}: is a file, not a folder")
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        for attempt in range(100):
            path = out / (f"{spec_name}-{stamp}" + (f"-{attempt}" if attempt else ""))
            try:
                path.mkdir(parents=True)
            except FileExistsError:
                continue
            except OSError as error:
                raise SpeccError(f"--out {out}: cannot create a run folder ({error.strerror})") from None
            (path / "checkpoints").mkdir()
            return cls(path)
        raise SpeccError(f"--out {out}: too many runs started this second")

    @classmethod
    def existing(cls, path: Path) -> RunFolder:
        if not path.is_dir():
            raise SpeccError(f"--resume {path}: no such run folder")
        if not (path / "checkpoints" / "last.ckpt").is_file():
            raise SpeccError(f"--resume {path}: the run folder has no checkpoints/last.ckpt yet")
        return cls(path)

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.ckpt"

    def write_json(self, name: str, value: object) -> None:
        if not self.writable:
            return
        write_text_atomic(self.path / name, strict_json(value, indent=2, sort_keys=True) + "\n")

    def write_text(self, name: str, text: str) -> None:
        if not self.writable:
            return
        write_text_atomic(self.path / name, text)

    def metrics(self) -> list[dict]:
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return []
        rows = []
        for number, line in enumerate(self._read_record("metrics.jsonl").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):
                row = None
            if not isinstance(row, dict) or not _is_metrics_row(row):
                raise SpeccError(f"damaged metrics: line {number} is not an epoch's metrics",
                                 file=str(path))
            rows.append(row)
        return rows

    def _read_record(self, name: str) -> str:
        from specc.train.bounded import read_capped

        try:
            return read_capped(self.path / name, MAX_RECORD_BYTES, name).decode("utf-8")
        except UnicodeDecodeError:
            raise SpeccError(f"{self.path / name}: damaged, not UTF-8 text") from None

    def recorded_run(self, option_fields: Collection[str]) -> dict[str, Any]:
        """recipe.json, checked: the recipe, the run options (`option_fields` are the ones
        this specc knows), the spec's name and hash and the data source."""
        from pydantic import ValidationError

        from specc.spec.recipe import TrainRecipe

        where = self.path / "recipe.json"
        if not where.is_file():
            raise SpeccError(f"--resume {self.path}: the run folder has no recipe.json; it was not "
                             "made by `specc train`, or it is damaged")
        try:
            recorded = json.loads(self._read_record("recipe.json"))
        except (ValueError, RecursionError) as error:
            raise SpeccError(f"{where}: damaged, not JSON ({error})") from None
        spec, data, options = (recorded.get(k) if isinstance(recorded, dict) else None
                               for k in ("spec", "data", "options"))
        if not (isinstance(spec, dict) and isinstance(spec.get("name"), str)
                and isinstance(spec.get("sha256"), str) and isinstance(data, dict)
                and isinstance(data.get("source"), str) and isinstance(options, dict)):
            raise SpeccError(f"{where}: damaged: `spec`, `data` or `options` is missing or "
                             "malformed")
        unknown = sorted(set(options) - set(option_fields))
        if unknown:
            raise SpeccError(f"{where}: unknown run option {unknown[0]!r}; recorded by another "
                             "version of specc?")
        for key, (expected, check) in OPTION_CHECKS.items():
            if key in options and not check(options[key]):
                raise SpeccError(f"{where}: options.{key} is {options[key]!r}; expected "
                                 f"{expected}")
        try:
            TrainRecipe.model_validate(recorded.get("recipe"))
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise SpeccError(f"{where}: recipe.{field}: {first['msg']}") from None
        return recorded

    def record_epoch(self, row: dict) -> None:
        """Append one epoch, dropping rows of epochs that a resumed run is redoing."""
        if not self.writable:
            return
        rows = [r for r in self.metrics() if r["epoch"] < row["epoch"]] + [row]
        self.write_text("metrics.jsonl", "".join(strict_json(r) + "\n" for r in rows))
        self._write_csv(rows)
        self._plot(rows)

    def _write_csv(self, rows: list[dict]) -> None:
        with atomic_path(self.path / "metrics.csv") as temp, \
                open(temp, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=METRIC_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

    def _plot(self, rows: list[dict]) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        epochs = [r["epoch"] for r in rows]
        figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
        for key, label in (("train_loss", "train"), ("test_loss", "test")):
            loss_axes.plot(epochs, [r[key] for r in rows], marker="o", label=label)
        for key, label in (("train_accuracy", "train"), ("test_accuracy", "test")):
            accuracy_axes.plot(epochs, [r[key] for r in rows], marker="o", label=label)
        loss_axes.set(xlabel="epoch", ylabel="loss", title="loss")
        accuracy_axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
        for axes in (loss_axes, accuracy_axes):
            axes.grid(alpha=0.3)
            axes.legend()
        figure.tight_layout()
        try:
            with atomic_path(self.path / "learning_curve.png", suffix=".png") as temp:
                figure.savefig(temp, dpi=100)
        finally:
            plt.close(figure)
