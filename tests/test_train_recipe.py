"""The training recipe as behaviour, with both engines: random crops of the zero-padded image
and flips (which pixels move where; the same plan for the same seed), the per-channel
normalisation, the label-smoothed loss on the logits, and weight decay on kernels only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_support import (
    CLASSES,
    assign_weights,
    capture_training_inputs,
    dataset,
    logits_of,
    make_trainer,
    model_weights,
    random_images,
    with_random_biases,
)

from specc.spec.recipe import TrainRecipe
from specc.train.common import StopRequest, normalization_stats

BACKENDS = ["torch", "keras"]
SIZE, PADDING, IMAGES = 6, 2, 32
NO_NORMALIZATION = (np.zeros(3), np.ones(3))  # the model then sees pixels / 255


def position_coded_images(count: int) -> np.ndarray:
    """Image i: channel 0 codes the pixel's position (1 + row * SIZE + col), channel 1 the
    image (100 + i), channel 2 is 255; no pixel is 0, so padding shows as 0 in all three."""
    rows, cols = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    images = np.empty((count, SIZE, SIZE, 3), dtype=np.uint8)
    images[..., 0] = 1 + rows * SIZE + cols
    images[..., 1] = (100 + np.arange(count))[:, None, None]
    images[..., 2] = 255
    return images


def crop(image: np.ndarray, flip: bool, dy: int, dx: int) -> np.ndarray:
    """By hand: flip (mirror the columns), then take the window whose top-left corner is
    (dy, dx) in the image padded with PADDING zeros on every side."""
    source = image[:, ::-1] if flip else image
    out = np.zeros_like(image)
    for row in range(SIZE):
        for col in range(SIZE):
            y, x = row + dy - PADDING, col + dx - PADDING
            if 0 <= y < SIZE and 0 <= x < SIZE:
                out[row, col] = source[y, x]
    return out


def explain(seen: np.ndarray, images: np.ndarray) -> tuple[int, bool, int, int]:
    """(image, flipped, dy, dx) of the one crop that produced `seen`; fails if none does."""
    ids = {int(v) - 100 for v in np.unique(seen[..., 1]) if v}
    assert len(ids) == 1, f"pixels of several images in one crop: {ids}"
    (index,) = ids
    matches = [(flip, dy, dx) for flip in (False, True) for dy in range(2 * PADDING + 1)
               for dx in range(2 * PADDING + 1)
               if np.array_equal(crop(images[index], flip, dy, dx), seen)]
    assert matches, f"image {index} was not cropped from its zero-padded self"
    flip, dy, dx = matches[0]
    return index, flip, dy, dx


def pixels_seen(backend: str, tmp_path: Path, overrides: dict, epochs: int = 2
                ) -> list[list[np.ndarray]]:
    """Every training batch of a run, per epoch, as uint8 pixels."""
    images = position_coded_images(IMAGES)
    labels = np.arange(IMAGES) % len(CLASSES)
    trainer = make_trainer(backend, dataset(images, labels), tmp_path, {
        "epochs": epochs, "batch_size": 8, "seed": 3, **overrides}, stats=NO_NORMALIZATION)
    batches = capture_training_inputs(trainer)
    trainer.train(StopRequest())
    pixels = [np.rint(batch * 255.0).astype(np.uint8) for batch in batches]
    per_epoch = len(pixels) // epochs
    return [pixels[e * per_epoch:(e + 1) * per_epoch] for e in range(epochs)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_crops_and_flips_move_pixels_as_drawn(backend: str, tmp_path: Path) -> None:
    images = position_coded_images(IMAGES)
    epochs = pixels_seen(backend, tmp_path / "a", {
        "augmentation": {"random_crop_padding": PADDING, "horizontal_flip": True}})
    for epoch in epochs:
        explained = [explain(seen, images) for batch in epoch for seen in batch]
        # every image once per epoch, each a crop of its own zero-padded, maybe flipped self
        assert sorted(index for index, *_ in explained) == list(range(IMAGES))
        flips = [flip for _, flip, _, _ in explained]
        assert 0 < sum(flips) < IMAGES, "flips are drawn per image"
        offsets = {(dy, dx) for *_, dy, dx in explained}
        assert len(offsets) > 5, f"crop offsets are drawn per image: {offsets}"
        assert {dy for dy, _ in offsets} | {dx for _, dx in offsets} <= set(
            range(2 * PADDING + 1))
    first, second = ([explain(seen, images) for batch in epoch for seen in batch]
                     for epoch in epochs)
    every_offset = set(range(2 * PADDING + 1))  # 64 draws: each offset shows up
    assert {dy for *_, dy, _ in first + second} == every_offset
    assert {dx for *_, dx in first + second} == every_offset
    assert first != second, "each epoch draws a new plan"
    again = pixels_seen(backend, tmp_path / "b", {
        "augmentation": {"random_crop_padding": PADDING, "horizontal_flip": True}})
    assert all(np.array_equal(a, b) for a, b in zip(
        [b for e in epochs for b in e], [b for e in again for b in e], strict=True)), \
        "the same seed draws the same plan"


@pytest.mark.parametrize("backend", BACKENDS)
def test_without_augmentation_images_pass_unchanged(backend: str, tmp_path: Path) -> None:
    images = position_coded_images(IMAGES)
    (epoch,) = pixels_seen(backend, tmp_path, {
        "augmentation": {"random_crop_padding": 0, "horizontal_flip": False}}, epochs=1)
    seen = np.concatenate(epoch)
    order = [int(image[0, 0, 1]) - 100 for image in seen]
    assert sorted(order) == list(range(IMAGES))
    assert order != list(range(IMAGES)), "the epoch is shuffled"
    assert np.array_equal(seen, images[order])


@pytest.mark.parametrize("backend", BACKENDS)
def test_flips_alone_mirror_columns(backend: str, tmp_path: Path) -> None:
    images = position_coded_images(IMAGES)
    (epoch,) = pixels_seen(backend, tmp_path, {
        "augmentation": {"random_crop_padding": 0, "horizontal_flip": True}}, epochs=1)
    flipped = 0
    for seen in np.concatenate(epoch):
        source = images[int(seen[0, 0, 1]) - 100]
        if np.array_equal(seen, source[:, ::-1]):
            flipped += 1
        else:
            assert np.array_equal(seen, source)
    assert 0 < flipped < IMAGES


def test_per_channel_statistics_of_a_known_data_set() -> None:
    # Two 1x2 images. Channel 0: 0, 255, 255, 0 -> mean 0.5, std 0.5. Channel 1: all 51 ->
    # mean 0.2, std 0 (floored at 1e-6). Channel 2: 0, 0, 0, 255 -> mean 0.25,
    # variance 0.25 - 0.0625 = 0.1875, std 0.4330127.
    images = np.zeros((2, 1, 2, 3), dtype=np.uint8)
    images[..., 0] = [[[0, 255]], [[255, 0]]]
    images[..., 1] = 51
    images[1, 0, 1, 2] = 255
    mean, std = normalization_stats(TrainRecipe(), images)
    assert mean == pytest.approx([0.5, 0.2, 0.25], rel=1e-12)
    assert std == pytest.approx([0.5, 1e-6, 0.4330127018922193], rel=1e-9)
    mean, std = normalization_stats(TrainRecipe(normalization={"name": "none"}), images)
    assert list(mean) == [0.0] * 3 and list(std) == [1.0] * 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_inputs_are_normalised_per_channel(backend: str, tmp_path: Path) -> None:
    images, labels = random_images(16)
    images[..., 1] //= 4  # channels with different statistics
    trainer = make_trainer(backend, dataset(images, labels), tmp_path, {
        "epochs": 1, "batch_size": 16,
        "augmentation": {"random_crop_padding": 0, "horizontal_flip": False}})
    mean, std = trainer.ctx.mean, trainer.ctx.std
    assert mean[1] < mean[0] / 2
    batches = capture_training_inputs(trainer)
    trainer.train(StopRequest())
    (seen,) = batches
    expected = (images / 255.0 - mean) / std
    for image in seen:
        errors = np.abs(expected - image).max(axis=(1, 2, 3))
        assert errors.min() < 1e-5, "every input is (pixels / 255 - mean) / std per channel"


def smoothed_cross_entropy(logits: np.ndarray, labels: np.ndarray, smoothing: float) -> float:
    """Mean over the batch of -sum(target * log_softmax(logits)), the target one-hot moved
    toward uniform: (1 - smoothing) * one_hot + smoothing / classes."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    classes = logits.shape[1]
    target = np.full(logits.shape, smoothing / classes)
    target[np.arange(len(labels)), labels] += 1.0 - smoothing
    return float(-(target * log_probs).sum(axis=1).mean())


def test_smoothed_cross_entropy_by_hand() -> None:
    # logits (2, 0, 0, 0), label 0, smoothing 0.1: log-sum-exp = ln(e^2 + 3) = 2.34075295;
    # target (0.925, 0.025, 0.025, 0.025): 0.925 * 0.34075295 + 0.075 * 2.34075295
    assert smoothed_cross_entropy(np.array([[2.0, 0, 0, 0]]), np.array([0]), 0.1) == \
        pytest.approx(0.925 * 0.34075295 + 0.075 * 2.34075295, rel=1e-7)
    assert smoothed_cross_entropy(np.zeros((1, 4)), np.array([2]), 0.1) == \
        pytest.approx(np.log(4.0), rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_training_loss_is_label_smoothed_cross_entropy_on_the_logits(
        backend: str, tmp_path: Path) -> None:
    images, labels = random_images(16, seed=5)
    trainer = make_trainer(backend, dataset(images, labels), tmp_path, {
        "epochs": 1, "batch_size": 16, "label_smoothing": 0.2,
        "augmentation": {"random_crop_padding": 0, "horizontal_flip": False}})
    # One step on the whole (shuffled) set: its loss is the mean over these 16 images, taken
    # on the output of the last Dense (the logits), not on the softmax after it.
    normalised = ((images / 255.0 - trainer.ctx.mean) / trainer.ctx.std).astype(np.float32)
    logits = logits_of(trainer, normalised)
    expected = smoothed_cross_entropy(logits, labels, 0.2)
    trainer.train(StopRequest())
    (row,) = trainer.ctx.run.metrics()
    assert row["train_loss"] == pytest.approx(expected, rel=1e-5)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert abs(smoothed_cross_entropy(probabilities, labels, 0.2) - expected) > 1e-3


def one_step(backend: str, tmp_path: Path, optimizer: dict) -> tuple[dict, dict]:
    """Weights before and after one SGD step on 16 images (lr 0.5, no augmentation)."""
    images, labels = random_images(16, seed=2)
    trainer = make_trainer(backend, dataset(images, labels), tmp_path, {
        "epochs": 1, "batch_size": 16, "lr": 0.5, "label_smoothing": 0.0,
        "optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True, **optimizer},
        "augmentation": {"random_crop_padding": 0, "horizontal_flip": False}})
    assign_weights(trainer, with_random_biases(model_weights(trainer)))
    before = model_weights(trainer)
    trainer.train(StopRequest())
    return before, model_weights(trainer)


KERNELS = {"conv1/kernel", "logits/kernel"}
NORM_AND_BIAS = {"conv1/bias", "bn1/gamma", "bn1/beta", "logits/bias"}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("decay_norm_and_bias", [False, True])
def test_weight_decay_reaches_kernels_only_unless_asked(
        backend: str, decay_norm_and_bias: bool, tmp_path: Path) -> None:
    """With Nesterov momentum 0.9 the first step moves a weight by -lr * (1 + 0.9) *
    (gradient + decay * weight); the same step without decay differs by exactly
    lr * 1.9 * decay * weight where decay applies, and not at all elsewhere."""
    decay = 0.01
    before, decayed = one_step(backend, tmp_path / "decay", {
        "weight_decay": decay, "decay_norm_and_bias": decay_norm_and_bias})
    _, plain = one_step(backend, tmp_path / "plain", {"weight_decay": 0.0})
    assert KERNELS | NORM_AND_BIAS <= before.keys()
    decayed_names = KERNELS | (NORM_AND_BIAS if decay_norm_and_bias else set())
    for name, initial in before.items():
        difference = plain[name] - decayed[name]
        if name in decayed_names:
            expected = 0.5 * 1.9 * decay * initial
            assert np.abs(expected).max() > 1e-3, name  # big enough to tell apart
            np.testing.assert_allclose(difference, expected, rtol=1e-3, atol=2e-6, err_msg=name)
        else:
            np.testing.assert_allclose(difference, 0.0, atol=2e-6, err_msg=name)
