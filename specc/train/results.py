"""Test-set results shared by both backends: loss, accuracy, per-class accuracy, confusion."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(handle)
    figure.savefig(temp, dpi=100)
    plt.close(figure)
    os.replace(temp, path)
