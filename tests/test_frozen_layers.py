"""`trainable: false` and layers whose training behaviour parity (inference mode) cannot see.

A frozen layer's weights count as non-trainable everywhere (validate, both builds, the gate)
and training leaves them unchanged; a frozen BatchNormalization runs in inference mode, so
its moving statistics stay too (Keras 3's rule), in both backends.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from specc.backends.gate import build_checked
from specc.spec.load import load_spec_text
from specc.train.engine_torch import parameter_groups

FROZEN = """
name: frozen
input: {shape: [6, 6, 3]}
layers:
  - {name: conv, type: Conv2D, filters: 4, kernel_size: 3, trainable: false}
  - {name: bn, type: BatchNormalization, trainable: false}
  - {name: pool, type: GlobalAveragePooling2D}
  - {name: head, type: Dense, units: 2}
"""


def _loaded():
    return load_spec_text(FROZEN, "frozen.yaml")


def test_frozen_weights_are_non_trainable_in_validate() -> None:
    info = _loaded().info
    assert info.by_name("conv").params.trainable == 0
    assert info.by_name("conv").params.non_trainable == 3 * 3 * 3 * 4 + 4
    assert info.by_name("bn").params.non_trainable == 4 * 4
    assert info.trainable_params == 4 * 2 + 2


def test_torch_training_leaves_frozen_layers_unchanged(tmp_path: Path) -> None:
    model = build_checked(_loaded(), "torch", tmp_path).model  # the gate compares the counts
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    model.train()
    assert not model.bn.training  # frozen BatchNormalization stays in inference mode
    optimizer = torch.optim.SGD(parameter_groups(model, 5e-4, False), lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.randn(8, 3, 6, 6)),
                                          torch.tensor([0, 1] * 4)).backward()
        optimizer.step()
    after = model.state_dict()
    for name, value in before.items():
        changed = not torch.equal(value, after[name])
        assert changed == name.startswith("head."), name


def test_keras_training_leaves_frozen_layers_unchanged(tmp_path: Path) -> None:
    model = build_checked(_loaded(), "keras", tmp_path).model
    before = {w.path: np.array(w.numpy()) for w in model.weights}
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(np.random.default_rng(0).normal(size=(8, 6, 6, 3)).astype("float32"),
              np.array([0, 1] * 4), epochs=2, verbose=0)
    for weight in model.weights:
        changed = not np.array_equal(before[weight.path], weight.numpy())
        assert changed == weight.path.startswith("head/"), weight.path


@pytest.mark.parametrize("noise_shape", [[None, 1, 1, 1], [None, 6, 1, 3]])
def test_noise_shape_dropout_draws_one_mask_per_noise_cell(noise_shape: list, tmp_path: Path) -> None:
    text = f"""
name: dropping
input: {{shape: [6, 5, 3]}}
layers:
  - {{name: drop, type: Dropout, rate: 0.5, noise_shape: {noise_shape!r}}}
""".replace("None", "null")
    model = build_checked(load_spec_text(text, "dropping.yaml"), "torch", tmp_path).model
    model.train()
    x = torch.ones(64, 3, 6, 5)
    y = model(x)
    assert set(torch.unique(y).tolist()) <= {0.0, 2.0}
    if noise_shape == [None, 1, 1, 1]:  # whole examples kept or dropped
        per_example = y.flatten(1)
        assert torch.all(per_example.min(1).values == per_example.max(1).values)
        assert 0 < int((per_example[:, 0] == 0).sum()) < 64
    else:  # shared along the width only
        assert torch.all(y == y[:, :, :, :1])
    model.eval()
    assert torch.equal(model(x), x)
