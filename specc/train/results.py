"""Test-set results shared by both backends: loss, accuracy, per-class accuracy, confusion."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from specc.files import atomic_path


@dataclass(frozen=True)
class EvalResult:
    loss: float
    accuracy: float
    confusion: np.ndarray  # [true class, predicted class] counts
    classes: tuple[str, ...]

    @property
    def per_class_accuracy(self) -> np.ndarray:
        totals = self.confusion.sum(axis=1)
        return np.divide(np.diag(self.confusion), totals, out=np.zeros(len(totals)),
                         where=totals > 0)

    def report(self) -> str:
        width = max(len(name) for name in self.classes)
        lines = [f"Test loss: {self.loss}", f"Test accuracy: {self.accuracy}", "",
                 "Per-class accuracy:"]
        totals = self.confusion.sum(axis=1)
        for name, accuracy, total in zip(self.classes, self.per_class_accuracy, totals,
                                         strict=True):
            lines.append(f"  {name:<{width}}  {accuracy:.4f}  ({int(total)} images)")
        lines += ["", "Confusion matrix (rows: true class, columns: predicted):"]
        cell = max(len(str(int(self.confusion.max()))), 3) + 1
        header = " " * (width + 2) + "".join(f"{i:>{cell}}" for i in range(len(self.classes)))
        lines.append(header)
        for i, name in enumerate(self.classes):
            row = "".join(f"{int(n):>{cell}}" for n in self.confusion[i])
            lines.append(f"  {name:<{width}}{row}  [{i}]")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {
            "test_loss": self.loss, "test_accuracy": self.accuracy,
            "per_class_accuracy": dict(zip(self.classes, map(float, self.per_class_accuracy),
                                           strict=True)),
            "confusion_matrix": self.confusion.astype(int).tolist(), "classes": list(self.classes),
        }


def confusion_from_predictions(labels: np.ndarray, predictions: np.ndarray, classes: int) -> np.ndarray:
    return np.bincount(labels * classes + predictions, minlength=classes * classes).reshape(
        classes, classes
    )


def plot_confusion(result: EvalResult, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(result.classes)
    figure, axes = plt.subplots(figsize=(2 + 0.6 * count, 1.5 + 0.6 * count))
    image = axes.imshow(result.confusion, cmap="Blues")
    figure.colorbar(image, ax=axes)
    axes.set(xticks=range(count), yticks=range(count), xlabel="predicted", ylabel="true",
             title=f"{title}\naccuracy {result.accuracy:.4f}")
    axes.set_xticklabels(result.classes, rotation=45, ha="right")
    axes.set_yticklabels(result.classes)
    threshold = result.confusion.max() / 2 if result.confusion.size else 0
    for i in range(count):
        for j in range(count):
            value = int(result.confusion[i, j])
            axes.text(j, i, str(value), ha="center", va="center", fontsize=7,
                      color="white" if value > threshold else "black")
    figure.tight_layout()
    try:
        with atomic_path(path, suffix=".png") as temp:
            figure.savefig(temp, dpi=100)
    finally:
        plt.close(figure)


@dataclass(frozen=True)
class Milestone:
    """When a run's test accuracy first reached `accuracy` (None: it never did)."""

    name: str  # "reference" or "target"
    accuracy: float
    epoch: int | None
    train_time_s: float | None  # summed training time of the epochs up to that one
    elapsed_s: float | None  # the same plus their evaluations


def time_to_accuracy(rows: list[dict], name: str, accuracy: float) -> Milestone:
    train_time = elapsed = 0.0
    for row in rows:
        train_time += row["epoch_time_s"]
        elapsed += row["epoch_time_s"] + row.get("eval_time_s", 0.0)
        if row["test_accuracy"] >= accuracy:
            return Milestone(name, accuracy, row["epoch"], train_time, elapsed)
    return Milestone(name, accuracy, None, None, None)


def training_summary(rows: list[dict], milestones: dict[str, float]) -> dict:
    """Totals over a run's epochs: time, throughput and FLOPs utilisation, and the time to
    each named accuracy. Throughput and utilisation leave out the first epoch when there are
    others (it includes cuDNN autotuning and `torch.compile`)."""
    if not rows:
        return {"epochs": 0, "train_time_s": 0.0, "eval_time_s": 0.0, "images_per_s": None,
                "mfu": None, "best_test_accuracy": None, "best_epoch": None,
                "time_to_accuracy": []}
    steady = rows[1:] or rows
    mfus = [row["mfu"] for row in steady if row.get("mfu") is not None]
    best = max(rows, key=lambda row: row["test_accuracy"])
    return {
        "epochs": len(rows),
        "train_time_s": sum(row["epoch_time_s"] for row in rows),
        "eval_time_s": sum(row.get("eval_time_s", 0.0) for row in rows),
        "images_per_s": sum(row["images_per_s"] for row in steady) / len(steady),
        "mfu": sum(mfus) / len(mfus) if mfus else None,
        "best_test_accuracy": best["test_accuracy"], "best_epoch": best["epoch"],
        "time_to_accuracy": [asdict(time_to_accuracy(rows, name, accuracy))
                             for name, accuracy in milestones.items()],
    }


def describe_summary(summary: dict) -> list[str]:
    if not summary["epochs"]:
        return ["Training: no epoch finished"]
    mfu = f", model FLOPs utilisation {summary['mfu']:.1%}" if summary["mfu"] is not None else ""
    totals = (f"Training: {summary['epochs']} epochs, {_seconds(summary['train_time_s'])} "
              f"training + {_seconds(summary['eval_time_s'])} evaluation; "
              f"{summary['images_per_s']:,.0f} "
              f"images/s{mfu}; best test accuracy {summary['best_test_accuracy']:.4f} (epoch "
              f"{summary['best_epoch']})")
    lines = [totals]
    for milestone in summary["time_to_accuracy"]:
        what = f"Time to {milestone['accuracy']} test accuracy ({milestone['name']}): "
        if milestone["epoch"] is None:
            lines.append(what + "not reached")
        else:
            lines.append(what + f"epoch {milestone['epoch']}, {_seconds(milestone['train_time_s'])}"
                         f" of training ({_seconds(milestone['elapsed_s'])} with evaluation)")
    return lines


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 1 else f"{value:.3f} s"
