"""Parity: the generated Keras and PyTorch models compute the same function.

Every example of every registered layer type, and every spec in specs/, is built in both
backends (each passing the build gate), the Keras weights (randomised biases and
statistics included) are copied into PyTorch, and every layer's output must agree within
1e-4 relative in float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from layer_examples import EXAMPLE_IDS, EXAMPLES, load_example

from specc.backends.gate import build_checked
from specc.backends.parity import (
    TOLERANCE,
    differences,
    run_parity,
    to_channels_last,
    to_torch_layout,
)
from specc.errors import SpeccError
from specc.layers.base import LayerExample
from specc.spec.load import load_spec, load_spec_text


@pytest.mark.parametrize(("type_name", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_every_layer_example_has_parity(
    type_name: str, index: int, example: LayerExample, tmp_path: Path
) -> None:
    result = run_parity(load_example(type_name, example, index), tmp_path, batch_size=3)
    assert result.passed, "\n" + result.table()


@pytest.mark.slow
def test_every_spec_has_parity(spec_path: Path, tmp_path: Path) -> None:
    loaded = load_spec(spec_path)
    # A single image for the 224x224 networks keeps this quick; small inputs get a few.
    batch = 1 if loaded.spec.input.shape[0] > 64 else 2
    result = run_parity(loaded, tmp_path, batch_size=batch)
    assert result.max_rel <= TOLERANCE, "\n" + result.table()
    assert {layer.name for layer in result.layers} >= {layer.name for layer in loaded.spec.layers}


def _window_layer(draw: st.DrawFn, index: int) -> dict[str, object]:
    kind = draw(st.sampled_from(["Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D",
                                 "AveragePooling2D"]))
    window = "pool_size" if "Pooling" in kind else "kernel_size"
    layer: dict[str, object] = {
        "name": f"layer_{index}",
        "type": kind,
        window: [draw(st.integers(1, 4)), draw(st.integers(1, 4))],
        "strides": [draw(st.integers(1, 3)), draw(st.integers(1, 3))],
        "padding": draw(st.sampled_from(["valid", "same"])),
    }
    if kind in ("DepthwiseConv2D", "SeparableConv2D"):  # TensorFlow needs equal strides there
        layer["strides"] = [layer["strides"][0]] * 2
    if kind in ("Conv2D", "SeparableConv2D"):
        # At least 2 channels everywhere: TensorFlow 2.21's oneDNN convolution is wrong for a
        # single input channel with strides (1, 2) and an output width of 1 (e.g. 4x3x1 input,
        # kernel (1, 2)): it returns garbage where torch and TF_ENABLE_ONEDNN_OPTS=0 agree.
        layer["filters"] = draw(st.integers(2, 4))
    if "Conv" in kind:
        layer["activation"] = draw(st.sampled_from(["relu", "tanh", "linear"]))
        if layer["strides"] == [1, 1]:
            layer["dilation_rate"] = [draw(st.integers(1, 2)), draw(st.integers(1, 2))]
    return layer


@st.composite
def window_chains(draw: st.DrawFn) -> str:
    layers = [_window_layer(draw, index) for index in range(draw(st.integers(1, 3)))]
    layers.append({"name": "norm", "type": "BatchNormalization"})
    if draw(st.booleans()):
        layers += [{"name": "flat", "type": "Flatten"}, {"name": "dense", "type": "Dense",
                                                          "units": 3, "activation": "softmax"}]
    height, width = draw(st.integers(4, 11)), draw(st.integers(4, 11))
    document = {"name": "chain", "input": {"shape": [height, width, 2]}, "layers": layers}
    return yaml.safe_dump(document)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=window_chains())
def test_random_window_chains_have_parity(text: str, tmp_path: Path) -> None:
    """Odd sizes, uneven 'same' padding and strides in every combination agree."""
    try:
        loaded = load_spec_text(text, "chain.yaml")
    except SpeccError:  # a window larger than its input: not a model
        assume(False)
    result = run_parity(loaded, tmp_path, batch_size=2)
    assert result.passed, "\n" + text + result.table()


def _keras_constant_layer(config: dict[str, object], x: np.ndarray) -> np.ndarray:
    """Keras's own definitions of Rescaling and Normalization, evaluated in float64."""
    if "scale" in config:
        return x * np.asarray(config["scale"]) + np.asarray(config.get("offset", 0.0))
    spread = np.maximum(np.sqrt(np.asarray(config["variance"])), 1e-7)  # backend.epsilon()
    if config.get("invert"):
        return np.asarray(config["mean"]) + x * spread
    return (x - np.asarray(config["mean"])) / spread


CONSTANT_EXAMPLES = [
    (type_name, index, example) for type_name, index, example in EXAMPLES
    if type_name == "Rescaling" or (type_name == "Normalization" and "mean" in example.config)
]


@pytest.mark.parametrize(("type_name", "index", "example"), CONSTANT_EXAMPLES,
                         ids=[f"{name}-{index}" for name, index, _ in CONSTANT_EXAMPLES])
def test_constant_layers_are_exact_in_float64(
    type_name: str, index: int, example: LayerExample, tmp_path: Path
) -> None:
    """A float64 port computes Keras's constants (1/255, ImageNet means) to float64 precision,
    as Keras casts them to its compute dtype; constants held in float32 are off by ~1e-8."""
    import torch

    model = build_checked(load_example(type_name, example, index), "torch", tmp_path).model
    x = np.random.default_rng(index).uniform(-2.0, 2.0, (2, *example.input_shape))
    with torch.no_grad():
        actual = model.double().eval()(torch.from_numpy(to_torch_layout(x))).numpy()
    expected = _keras_constant_layer(example.config, x)
    assert differences(expected, to_channels_last(actual))[1] <= 1e-15
