"""Small data sets and specs that the training tests make themselves.

`separable_images` draws a 4-class problem that a tiny network learns in a few epochs:
each class is a distinct colour, plus heavy per-pixel noise.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = ((220, 40, 40), (40, 200, 40), (40, 40, 220), (220, 220, 40))
CLASSES = ("apple", "leaf", "sea", "sun")

TINY_SPEC = """\
name: tiny
input:
  shape: [8, 8, 3]
layers:
  - {name: conv1, type: Conv2D, filters: 8, kernel_size: 3, padding: same}
  - {name: bn1, type: BatchNormalization}
  - {name: relu1, type: Activation, activation: relu}
  - {name: pool, type: GlobalAveragePooling2D}
  - {name: drop, type: Dropout, rate: 0.2}
  - {name: logits, type: Dense, units: 4}
  - {name: softmax, type: Activation, activation: softmax}
train:
  epochs: 3
  batch_size: 32
  lr: 0.1
  schedule: {name: onecycle, warmup_epochs: 1}
reference:
  source: a made-up reference for the test
  test_loss: 1.5
  test_accuracy: 0.25
"""


def separable_images(count: int, size: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(COLOURS)
    rng.shuffle(labels)
    means = np.array(COLOURS, dtype=np.float64)[labels][:, None, None, :]
    images = np.clip(rng.normal(means, 50.0, (count, size, size, 3)), 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


def write_image_folder(root: Path, train: int = 240, test: int = 80, size: int = 8,
                       suffix: str = ".png") -> Path:
    for split, count, seed in (("train", train, 0), ("test", test, 1)):
        images, labels = separable_images(count, size, seed)
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i:04d}{suffix}")
    return root


def tar_folder(folder: Path, archive: Path, prefix: str) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=prefix)
    return archive


def official_batches(per_batch: int = 12) -> dict[str, bytes]:
    """Pickled batches in the layout of cifar-10-python.tar.gz (32x32, rows of CHW bytes)."""
    batches = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(names):
        images, labels = separable_images(per_batch, 32, seed)
        rows = images.transpose(0, 3, 1, 2).reshape(per_batch, -1)
        batches[name] = pickle.dumps({b"data": rows, b"labels": labels.tolist()}, protocol=2)
    meta = {b"label_names": [name.encode() for name in CLASSES]}
    batches["batches.meta"] = pickle.dumps(meta, protocol=2)
    return batches


def write_official_folder(folder: Path, per_batch: int = 12) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in official_batches(per_batch).items():
        (folder / name).write_bytes(content)
    return folder


def write_official_archive(archive: Path, per_batch: int = 12) -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in official_batches(per_batch).items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return archive


def train_tiny_runs(root: Path, train: int, test: int) -> dict[str, Path]:
    """TINY_SPEC trained for 2 epochs by each backend on a generated image folder under `root`:
    {"spec", "data", "torch", "keras"} (the last two are run folders). The caller isolates
    $SPECC_DATA."""
    from specc.cli import main

    spec = root / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    data = write_image_folder(root / "shapes", train=train, test=test)
    runs = {}
    for backend in ("torch", "keras"):
        out = root / backend
        assert main(["train", str(spec), "--backend", backend, "--data", str(data),
                     "--out", str(out), "--epochs", "2"]) == 0
        (runs[backend],) = list(out.iterdir())
    return {"spec": spec, "data": data, **runs}
