"""The hand-written PyTorch baseline of benchmarks/time_to_accuracy.py, as tutorials write it.

A `torch.utils.data.Dataset` over the decoded uint8 images whose `__getitem__` augments one
image at a time as torchvision's `RandomCrop(32, padding=4)`, `RandomHorizontalFlip()`,
`ToTensor()` and `Normalize(mean, std)` do (torchvision is not installed, so they are written
out in numpy and torch), a `DataLoader(shuffle=True, num_workers=2, drop_last=True)` (its
workers start again every epoch, the default; drop_last gives specc's steps per epoch and so
its schedule), the default collate into NCHW float32 batches, `torch.optim.SGD` with
its default (non-fused, per-parameter) implementation, `nn.CrossEntropyLoss`, float32,
contiguous (NCHW) memory, and a test-set evaluation after every epoch.

What it takes from specc is what a user would copy: the generated model (its final softmax
replaced by the identity, as `specc train` trains on logits), the decoded pixels, the
normalisation statistics, the weight-decay groups (kernels only, as the recipe says) and the
learning rate of every step from specc's own schedule function.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tta_common import Setup, epoch_row, print_epoch

from specc.backends.gate import build_checked
from specc.train.engine_torch import parameter_groups
from specc.train.schedule import Schedule
from specc.train.session import seed_everything

NAME = "torch-dataloader"


def augment(image: np.ndarray, top: int, left: int, flip: bool, padding: int) -> np.ndarray:
    """Zero-pad (fill 0, as RandomCrop's default), crop at (top, left), flip: uint8 HWC."""
    height, width = image.shape[:2]
    if padding:
        image = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
        image = image[top : top + height, left : left + width]
    return image[:, ::-1] if flip else image


def to_tensor(image: np.ndarray, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """ToTensor() then Normalize(mean, std): uint8 HWC -> float32 CHW."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255.0)
    return (tensor - mean) / std


class CifarImages(Dataset):
    """Decoded uint8 images; training images are augmented one at a time in __getitem__."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: np.ndarray, std: np.ndarray,
                 padding: int = 0, flip: bool = False) -> None:
        self.images, self.labels = images, labels
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
        self.padding, self.flip = padding, flip

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        if self.padding or self.flip:
            image = self.random_crop_and_flip(image)
        return to_tensor(image, self.mean, self.std), int(self.labels[index])

    def random_crop_and_flip(self, image: np.ndarray) -> np.ndarray:
        span = 2 * self.padding + 1  # RandomCrop's offsets: uniform over [0, 2 * padding]
        top, left = (int(v) for v in torch.randint(0, span, (2,)))
        flip = self.flip and bool(torch.rand(1) < 0.5)  # RandomHorizontalFlip(p=0.5)
        return augment(image, top, left, flip, self.padding)


def loaders(setup: Setup, workers: int) -> tuple[DataLoader, DataLoader]:
    data = setup.data
    train = CifarImages(data.x_train, data.y_train, setup.mean, setup.std, setup.padding,
                        setup.flip)
    test = CifarImages(data.x_test, data.y_test, setup.mean, setup.std)
    # drop_last: the same number of steps per epoch (and so the same schedule) as specc
    return (DataLoader(train, batch_size=setup.batch_size, shuffle=True, num_workers=workers,
                       drop_last=True),
            DataLoader(test, batch_size=max(setup.batch_size, 256), num_workers=workers))


def build_model(setup: Setup) -> nn.Module:
    """The generated model, seeded as `specc train` seeds it, trained on logits."""
    seed_everything(setup.recipe.seed, "torch")
    with tempfile.TemporaryDirectory(prefix="specc-tta-") as folder:
        model = build_checked(setup.loaded, "torch", Path(folder)).model
    if setup.logits_layer is not None:
        setattr(model, setup.logits_layer, nn.Identity())
    return model


def make_optimizer(model: nn.Module, setup: Setup) -> torch.optim.Optimizer:
    recipe = setup.recipe.optimizer
    groups = parameter_groups(model, recipe.weight_decay, recipe.decay_norm_and_bias)
    return torch.optim.SGD(groups, lr=setup.recipe.lr, momentum=recipe.momentum,
                           nesterov=recipe.nesterov and recipe.momentum > 0)


def train_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                loss_fn: nn.Module, schedule: Schedule, step: int) -> tuple[int, float]:
    """One epoch; returns the next step and the mean training loss."""
    model.train()
    running_loss = 0.0
    batches = 0
    for images, labels in loader:
        for group in optimizer.param_groups:
            group["lr"] = schedule.lr(step)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        batches += 1
        step += 1
    return step, running_loss / max(batches, 1)


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(1) == labels).sum().item()
            total += len(labels)
    return correct / max(total, 1)


def run(setup: Setup, workers: int = 2) -> dict:
    model = build_model(setup)
    train_loader, test_loader = loaders(setup, workers)
    optimizer = make_optimizer(model, setup)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=setup.recipe.label_smoothing)
    schedule, step, rows = setup.schedule(), 0, []
    images = setup.steps_per_epoch * setup.batch_size
    for epoch in range(1, setup.recipe.epochs + 1):
        started = time.perf_counter()
        step, _ = train_epoch(model, train_loader, optimizer, loss_fn, schedule, step)
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        accuracy = evaluate(model, test_loader)
        rows.append(epoch_row(epoch, accuracy, train_s, time.perf_counter() - started))
        print_epoch(NAME, rows[-1], images)
    return {"precision": "fp32", "rows": rows, "images_per_epoch": images,
            "threads": torch.get_num_threads(), "data_workers": workers,
            "memory_format": "contiguous", "fused_optimizer": False,
            "last_lr": optimizer.param_groups[0]["lr"]}
