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
import os
import tempfile
import time
from pathlib import Path

from specc.errors import SpeccError

METRIC_FIELDS = (
    "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr",
    "images_per_s", "epoch_time_s", "mfu",
)


def write_text_atomic(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
        write_text_atomic(self.path / name, json.dumps(value, indent=2, sort_keys=True) + "\n")

    def write_text(self, name: str, text: str) -> None:
        if not self.writable:
            return
        write_text_atomic(self.path / name, text)

    def metrics(self) -> list[dict]:
        path = self.path / "metrics.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def record_epoch(self, row: dict) -> None:
        """Append one epoch, dropping rows of epochs that a resumed run is redoing."""
        if not self.writable:
            return
        rows = [r for r in self.metrics() if r["epoch"] < row["epoch"]] + [row]
        self.write_text("metrics.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
        self._write_csv(rows)
        self._plot(rows)

    def _write_csv(self, rows: list[dict]) -> None:
        handle, temp = tempfile.mkstemp(dir=self.path, prefix=".metrics.csv.")
        with os.fdopen(handle, "w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=METRIC_FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temp, self.path / "metrics.csv")

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
        handle, temp = tempfile.mkstemp(dir=self.path, prefix=".learning_curve.", suffix=".png")
        os.close(handle)
        figure.savefig(temp, dpi=100)
        plt.close(figure)
        os.replace(temp, self.path / "learning_curve.png")
