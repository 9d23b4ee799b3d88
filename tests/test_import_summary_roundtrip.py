"""Property: a random valid spec's Keras model, printed by `model.summary()` at any width,
imports back to the same input, output shapes and parameter counts, layer by layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from specc.backends.gate import build_checked
from specc.cli import main
from specc.errors import SpeccError
from specc.spec.load import load_spec, load_spec_text

pytestmark = pytest.mark.slow


def _spatial_layer(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from([
        "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
        "BatchNormalization", "ReLU", "Activation", "Dropout", "ZeroPadding2D",
    ]))
    layer: dict[str, Any] = {"name": name, "type": kind}
    if "Conv" in kind or "Pooling" in kind:
        window = "pool_size" if "Pooling" in kind else "kernel_size"
        layer[window] = [draw(st.integers(1, 5)), draw(st.integers(1, 5))]
        layer["strides"] = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
        if kind in ("DepthwiseConv2D", "SeparableConv2D"):  # TensorFlow: equal strides only
            layer["strides"][1] = layer["strides"][0]
        layer["padding"] = draw(st.sampled_from(["valid", "same"]))
    if kind in ("Conv2D", "SeparableConv2D"):
        layer["filters"] = draw(st.integers(1, 12))
    if "Conv" in kind:
        layer["use_bias"] = draw(st.booleans())
    if kind == "DepthwiseConv2D":
        layer["depth_multiplier"] = draw(st.integers(1, 3))
    if kind == "BatchNormalization":
        layer["center"] = layer["scale"] = draw(st.booleans())
    if kind == "Activation":
        layer["activation"] = draw(st.sampled_from(["relu", "tanh", "sigmoid"]))
    if kind == "Dropout":
        layer["rate"] = 0.5
    if kind == "ZeroPadding2D":
        layer["padding"] = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))],
                            [draw(st.integers(0, 2)), draw(st.integers(0, 2))]]
    return layer


@st.composite
def random_specs(draw: st.DrawFn) -> str:
    layers = [_spatial_layer(draw, f"layer_{index}") for index in range(draw(st.integers(1, 5)))]
    if draw(st.booleans()):  # a residual branch joining the last two outputs
        layers.append({"name": "branch", "type": "Conv2D", "filters": 3, "kernel_size": 1,
                       "inputs": [layers[-1]["name"]]})
        layers.append({"name": "joined", "type": "Concatenate",
                       "inputs": [layers[-2]["name"], "branch"]})
    head = draw(st.sampled_from(["Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D"]))
    layers.append({"name": "head", "type": head})
    layers.append({"name": "logits", "type": "Dense", "units": draw(st.integers(2, 10)),
                   "use_bias": draw(st.booleans())})
    size = draw(st.integers(6, 20))
    channels = draw(st.sampled_from([1, 2, 3]))
    document = {"name": "random", "input": {"shape": [size, size + draw(st.integers(0, 3)),
                                                      channels]}, "layers": layers}
    return yaml.safe_dump(document, sort_keys=False)


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=random_specs(), line_length=st.sampled_from([None, 72, 100, 150]))
def test_printed_random_models_import_to_the_same_shapes_and_counts(
    text: str, line_length: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        original = load_spec_text(text, "random.yaml")
    except SpeccError:  # a window larger than its input: not a model
        assume(False)
    model = build_checked(original, "keras", tmp_path).model
    monkeypatch.setenv("COLUMNS", "250")  # rich crops to the terminal; line_length decides
    printed: list[str] = []
    model.summary(line_length=line_length, print_fn=lambda t, line_break=False: printed.append(t))
    summary = tmp_path / "summary.txt"
    summary.write_text("".join(printed))
    out = tmp_path / "imported.yaml"
    code = main(["import", "summary", str(summary), "-o", str(out)])
    output = capsys.readouterr()
    assert code == 0, "".join(printed) + output.out + output.err + text
    imported = load_spec(out)
    assert imported.spec.input.shape == original.spec.input.shape
    assert [(info.output_shape, info.params.total) for info in imported.info.layers] == [
        (info.output_shape, info.params.total) for info in original.info.layers
    ]
