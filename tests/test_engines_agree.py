"""The Keras and PyTorch engines make the same update: from the same weights, on the same
batch without augmentation, two SGD-Nesterov steps with weight decay and label smoothing give
the same weights within float32 tolerance, and the same BatchNorm running statistics up to
the documented factor n / (n - 1) between PyTorch's unbiased and Keras's biased batch
variance (which also checks the momentum conversion, Keras 0.99 -> torch 0.01)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from engine_support import (
    assign_weights,
    dataset,
    make_trainer,
    model_weights,
    random_images,
    with_random_biases,
)

from specc.train.common import StopRequest

STEPS = 2  # the second step also uses the momentum buffers the first one filled
IMAGES = 16  # one batch: the whole set, so both engines step on the same images
RECIPE = {
    "epochs": STEPS, "batch_size": IMAGES, "lr": 0.5, "label_smoothing": 0.1,
    "optimizer": {"name": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 5e-3},
    "augmentation": {"random_crop_padding": 0, "horizontal_flip": False},
}
KERAS_MOMENTUM = 0.99  # BatchNormalization's default


# Keras's SGD keeps the learning rate inside its velocity (v = m * v - lr * g), PyTorch's
# applies the current rate to its buffer (p -= lr * (g + m * b)); the two agree only while the
# rate is constant. Under a changing rate the Keras engine's momentum carries the earlier
# rates: the second step differs (a known gap, recorded by this strict xfail).
CHANGING_RATE = pytest.param(
    {"name": "onecycle", "warmup_epochs": 0.0}, marks=pytest.mark.xfail(
        strict=True, reason="Keras's SGD velocity holds lr * gradient; torch's buffer does not"))


@pytest.mark.parametrize("schedule", [{"name": "constant", "warmup_epochs": 0.0},
                                      CHANGING_RATE], ids=["constant-rate", "changing-rate"])
def test_keras_and_torch_engines_make_the_same_steps(schedule: dict, tmp_path: Path) -> None:
    images, labels = random_images(IMAGES, seed=11)
    data = dataset(images, labels)
    recipe = {**RECIPE, "schedule": schedule}
    keras_trainer = make_trainer("keras", data, tmp_path / "keras", recipe)
    torch_trainer = make_trainer("torch", data, tmp_path / "torch", recipe)
    start = with_random_biases(model_weights(keras_trainer), seed=4)
    assign_weights(keras_trainer, start)
    assign_weights(torch_trainer, start)
    for name, value in model_weights(torch_trainer).items():
        assert np.array_equal(value, start[name]), name

    keras_trainer.train(StopRequest())
    torch_trainer.train(StopRequest())
    keras_weights, torch_weights = model_weights(keras_trainer), model_weights(torch_trainer)

    assert keras_weights.keys() == torch_weights.keys() == start.keys()
    for name in start:
        if "moving_" in name:
            continue
        moved = np.abs(keras_weights[name] - start[name]).max()
        # conv1's bias feeds BatchNorm, which subtracts it again: its gradient is zero
        if name != "conv1/bias":
            assert moved > 1e-3, f"{name} hardly moved ({moved:.1e}): the check would be vacuous"
        np.testing.assert_allclose(torch_weights[name], keras_weights[name], rtol=1e-4,
                                   atol=1e-5, err_msg=name)

    # Running mean: both engines keep 0.99 of the old value per step.
    np.testing.assert_allclose(torch_weights["bn1/moving_mean"], keras_weights["bn1/moving_mean"],
                               rtol=1e-4, atol=1e-6)
    assert np.abs(keras_weights["bn1/moving_mean"]).max() > 1e-3
    # Running variance from 1: 0.99^STEPS of the start plus the batch variances' share, which
    # PyTorch takes unbiased (n / (n - 1) times Keras's biased one), n = batch * height * width.
    kept = KERAS_MOMENTUM ** STEPS
    n = IMAGES * images.shape[1] * images.shape[2]
    ratio = (torch_weights["bn1/moving_variance"] - kept) / (
        keras_weights["bn1/moving_variance"] - kept)
    np.testing.assert_allclose(ratio, n / (n - 1), rtol=2e-4)
