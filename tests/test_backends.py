"""Code generation: deterministic, standalone, ruff-clean, safe; the gate catches
differences; backends refuse what they cannot express; weights round-trip; initialisers
are Keras's."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SPECS
from layer_examples import EXAMPLES, load_example

from specc.backends.convert import keras_to_torch, torch_to_keras
from specc.backends.gate import GateError, build_checked, check_file, generate, write_model
from specc.backends.parity import randomise_keras_weights
from specc.backends.safety import UnsafeGeneratedCode, check_generated
from specc.backends.source import BACKENDS
from specc.backends.torch_codegen import MODULE_ATTRIBUTES
from specc.errors import ExitCode, SpeccError
from specc.layers.emit import UnsafeSource, call, ident, lit
from specc.spec.load import LoadedSpec, load_spec, load_spec_text


def _all_loaded() -> list[LoadedSpec]:
    return [load_spec(path) for path in SPECS] + [
        load_example(name, example, index) for name, index, example in EXAMPLES
    ]


def _imports(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add((node.module or "").split(".")[0])
    return modules


def test_generated_sources_are_deterministic_standalone_and_ruff_clean(tmp_path: Path) -> None:
    written = []
    for loaded in _all_loaded():
        for backend in BACKENDS:
            source = generate(loaded, backend)
            assert generate(loaded, backend) == source  # byte-identical
            assert _imports(source) <= ({"math", "torch"} if backend == "torch" else {"keras"})
            assert "specc" not in _imports(source)
            assert loaded.sha256 in source.split('"""')[1]  # the header names the spec's hash
            path = tmp_path / f"{loaded.spec.name}_{backend}.py"
            path.write_text(source)
            written.append(path)
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(written) == 2 * (len(SPECS) + len(EXAMPLES))


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda path: path.stem)
def test_one_line_per_layer_named_like_the_spec(spec_path: Path) -> None:
    loaded = load_spec(spec_path)
    keras_source = generate(loaded, "keras")
    torch_source = generate(loaded, "torch")
    for layer in loaded.spec.layers:
        assert keras_source.count(f"name={layer.name!r})(") == 1
        assert torch_source.count(f"self.{layer.name} = ") == 1
        assert torch_source.count(f"self.{layer.name}(") == 1  # its one forward line


# --- safety: names and literals ---


@pytest.mark.parametrize("value", [float("inf"), float("nan"), b"bytes", object(), 1j, [1, {}]])
def test_lit_refuses_anything_but_plain_literals(value: object) -> None:
    with pytest.raises(UnsafeSource):
        lit(value)


def test_lit_writes_plain_literals() -> None:
    assert lit((1, (2, 3), "a'b", None, True, 0.5)) == "(1, (2, 3), \"a'b\", None, True, 0.5)"
    assert call("nn.Conv2d", 3, 4, padding=(1, 2)) == "nn.Conv2d(3, 4, padding=(1, 2))"


@pytest.mark.parametrize("name", ["a b", "x;import os", "__class__", "1x", "naïve", "", "a.b"])
def test_ident_refuses_non_identifiers(name: str) -> None:
    with pytest.raises(UnsafeSource):
        ident(name)


SMALL = """
name: small
input: {shape: [6, 6, 3]}
layers:
  - {name: conv, type: Conv2D, filters: 4, kernel_size: 3, padding: same, activation: relu}
  - {name: flat, type: Flatten}
  - {name: dense, type: Dense, units: 3}
"""


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "tampering",
    [
        "\nimport os\n",
        "\n__import__('os').system('true')\n",
        "\nexec('1')\n",
        "\nx = 'a string the spec never had'\n",
        "\nx = 1e999\n",
        "\nx = b'bytes'\n",
    ],
)
def test_the_ast_check_refuses_tampered_source(backend: str, tampering: str) -> None:
    loaded = load_spec_text(SMALL, "small.yaml")
    source = generate(loaded, backend)
    check_generated(source, loaded, backend)
    with pytest.raises(UnsafeGeneratedCode):
        check_generated(source + tampering, loaded, backend)


def test_module_attribute_list_is_torchs() -> None:
    from torch import nn

    public = {name for name in dir(nn.Module) if not name.startswith("_")}
    assert public <= MODULE_ATTRIBUTES


# --- what a backend cannot express: one located line, exit 2 ---


@pytest.mark.parametrize(
    ("layer", "input_shape", "expected"),
    [
        ("{name: up, type: UpSampling2D, interpolation: bicubic}", "[4, 4, 2]",
         "layer 'up' (UpSampling2D): the torch backend cannot express interpolation='bicubic'"),
        ("{name: up, type: Conv2DTranspose, filters: 2, kernel_size: 3, dilation_rate: 2}",
         "[9, 9, 2]",
         "layer 'up' (Conv2DTranspose): the torch backend cannot express dilation_rate > 1"),
        ("{name: train, type: Dense, units: 2}", "[5]",
         "layer 'train' (Dense): the torch backend cannot use this name"),
    ],
)
def test_torch_refuses_what_it_cannot_express(
    layer: str, input_shape: str, expected: str, tmp_path: Path
) -> None:
    text = f"name: refused\ninput: {{shape: {input_shape}}}\nlayers:\n  - {layer}\n"
    loaded = load_spec_text(text, "refused.yaml")
    with pytest.raises(SpeccError) as caught:
        build_checked(loaded, "torch", tmp_path)
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    # Located at the layer (col 5) or at the argument at fault, on the layer's line.
    assert re.match(rf"refused\.yaml:4:\d+: {re.escape(expected)}", str(caught.value))
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("layer_type", ["DepthwiseConv2D", "SeparableConv2D"])
def test_keras_refuses_unequal_depthwise_strides_that_tensorflow_cannot_run(
    layer_type: str, tmp_path: Path
) -> None:
    filters = ", filters: 2" if layer_type == "SeparableConv2D" else ""
    text = (f"name: refused\ninput: {{shape: [6, 6, 2]}}\nlayers:\n  - {{name: dw, type: "
            f"{layer_type}{filters}, kernel_size: 1, strides: [1, 2]}}\n")
    loaded = load_spec_text(text, "refused.yaml")
    with pytest.raises(SpeccError) as caught:
        build_checked(loaded, "keras", tmp_path)
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert re.match(rf"refused\.yaml:4:\d+: layer 'dw' \({layer_type}\): the keras backend "
                    r"cannot express .*equal strides", str(caught.value))
    assert list(tmp_path.iterdir()) == []
    build_checked(loaded, "torch", tmp_path)  # PyTorch runs it


# --- the gate catches a built model that differs from the spec ---


@pytest.mark.parametrize(
    ("backend", "original", "tampered", "layer"),
    [
        ("torch", "nn.Conv2d(3, 4, 3, padding=1)", "nn.Conv2d(3, 4, 3)", "conv"),
        ("torch", "nn.Linear(144, 3)", "nn.Linear(144, 4)", "dense"),
        ("torch", "nn.Linear(144, 3)", "nn.Linear(100, 3)", "dense"),  # fails to run
        ("keras", "layers.Flatten(name='flat')", "layers.GlobalAveragePooling2D(name='flat')",
         "flat"),
        ("keras", "layers.Conv2D(4, 3,", "layers.Conv2D(4, 3, use_bias=False,", "conv"),
    ],
)
def test_the_gate_names_the_layer_that_differs(
    backend: str, original: str, tampered: str, layer: str, tmp_path: Path
) -> None:
    loaded = load_spec_text(SMALL, "small.yaml")
    path = write_model(loaded, backend, tmp_path)  # type: ignore[arg-type]
    check_file(loaded, backend, path)  # type: ignore[arg-type]
    source = path.read_text()
    assert original in source
    path.write_text(source.replace(original, tampered))
    with pytest.raises(GateError) as caught:
        check_file(loaded, backend, path)  # type: ignore[arg-type]
    assert caught.value.exit_code == ExitCode.EXPECTATION_FAILED
    assert f"layer {layer!r}" in str(caught.value)
    assert "DIFFERS" in caught.value.report


# --- weights and initialisers ---


def test_weights_round_trip_keras_torch_keras(tmp_path: Path) -> None:
    loaded = load_spec(ROOT / "specs" / "mobile_residual.yaml")  # conv, depthwise, separable,
    source_model = build_checked(loaded, "keras", tmp_path).model  # dense, BN and LN weights
    randomise_keras_weights(source_model, seed=1)
    torch_model = build_checked(loaded, "torch", tmp_path).model
    keras_to_torch(source_model, torch_model, loaded)
    fresh = build_checked(loaded, "keras", tmp_path).model
    torch_to_keras(torch_model, fresh, loaded)
    pairs = list(zip(source_model.weights, fresh.weights, strict=True))
    assert len(pairs) == len(torch_model.state_dict()) - sum(
        key.endswith("num_batches_tracked") for key in torch_model.state_dict())
    for before, after in pairs:
        assert before.path == after.path
        np.testing.assert_array_equal(np.asarray(before.numpy()), np.asarray(after.numpy()))


INIT_SPEC = """
name: initialisers
input: {shape: [12, 12, 64]}
layers:
  - {name: depthwise, type: DepthwiseConv2D, kernel_size: 3}
  - {name: conv, type: Conv2D, filters: 64, kernel_size: 3, kernel_initializer: he_normal}
  - {name: separable, type: SeparableConv2D, filters: 32, kernel_size: 3, depth_multiplier: 2}
  - {name: flat, type: Flatten}
  - {name: dense, type: Dense, units: 64, kernel_initializer: lecun_uniform}
  - {name: dense_vs, type: Dense, units: 96, kernel_initializer: {class_name: VarianceScaling, scale: 0.3333, mode: fan_out, distribution: uniform}}
  - {name: dense_tn, type: Dense, units: 96, kernel_initializer: {class_name: TruncatedNormal, stddev: 0.1}}
  - {name: dense_rn, type: Dense, units: 96, kernel_initializer: {class_name: RandomNormal, mean: 0.5, stddev: 0.2}}
  - {name: dense_ru, type: Dense, units: 96, kernel_initializer: {class_name: RandomUniform, minval: -0.2, maxval: 0.1}}
  - {name: dense_or, type: Dense, units: 64, kernel_initializer: {class_name: Orthogonal, gain: 2.0}}
  - {name: dense_co, type: Dense, units: 8, kernel_initializer: {class_name: Constant, value: 0.25}}
  - {name: reshaped, type: Reshape, target_shape: [2, 2, 2]}
  - {name: conv_vs, type: Conv2D, filters: 64, kernel_size: 3, padding: same, kernel_initializer: {class_name: VarianceScaling, scale: 2.0, mode: fan_out}}
  - {name: conv_un, type: Conv2D, filters: 64, kernel_size: 3, padding: same, kernel_initializer: {class_name: VarianceScaling, mode: fan_avg, distribution: untruncated_normal}}
"""


def test_torch_initialisers_are_keras_initialisers(tmp_path: Path) -> None:
    import torch

    loaded = load_spec_text(INIT_SPEC, "initialisers.yaml")
    keras_model = build_checked(loaded, "keras", tmp_path).model
    torch.manual_seed(0)
    torch_model = build_checked(loaded, "torch", tmp_path).model
    pairs = {
        "depthwise": ("depthwise.weight", "depthwise"),
        "conv": ("conv.weight", "conv"),
        "separable_depthwise": ("separable.depthwise.weight", "separable"),
        "separable_pointwise": ("separable.pointwise.weight", "separable"),
        "dense": ("dense.weight", "dense"),
        **{name: (f"{name}.weight", name) for name in
           ("dense_vs", "dense_tn", "dense_rn", "dense_ru", "dense_or", "dense_co", "conv_vs",
            "conv_un")},
    }
    state = torch_model.state_dict()
    for label, (torch_key, keras_layer) in pairs.items():
        keras_weights = keras_model.get_layer(keras_layer).weights
        short = {"separable_depthwise": "depthwise_kernel",
                 "separable_pointwise": "pointwise_kernel"}.get(label, "kernel")
        keras_kernel = next(np.asarray(w.numpy()) for w in keras_weights if w.path.endswith(short))
        torch_kernel = state[torch_key].numpy()
        assert torch_kernel.size == keras_kernel.size
        # Same distribution: same spread and the same bound, within sampling noise.
        assert torch_kernel.mean() == pytest.approx(keras_kernel.mean(), abs=0.1 * float(keras_kernel.std()) + 1e-3), label
        assert torch_kernel.std() == pytest.approx(keras_kernel.std(), rel=0.08, abs=1e-7), label
        assert np.abs(torch_kernel).max() == pytest.approx(np.abs(keras_kernel).max(), rel=0.1), label
        if label == "dense_or":  # orthogonal columns (Keras's layout), scaled by the gain
            columns = torch_kernel.T
            np.testing.assert_allclose(columns.T @ columns, 4.0 * np.eye(64), atol=1e-4)
    for key, tensor in state.items():
        if key.endswith("bias"):
            assert torch.count_nonzero(tensor) == 0, key


CLASHING_NAMES = """
name: add
input: {name: x, shape: [5, 5, 2]}
layers:
  - {name: torch, type: Conv2D, filters: 2, kernel_size: 1}
  - {name: inputs, type: Activation, activation: relu}
  - {name: layers, type: Add, inputs: [torch, inputs]}
  - {name: F, type: Add, inputs: [layers, x]}
  - {name: keras, type: Concatenate, inputs: [F, torch, layers]}
  - {name: nn, type: Flatten}
  - {name: math, type: Dense, units: 3}
"""


def test_names_that_clash_with_the_generated_code_still_work(tmp_path: Path) -> None:
    from specc.backends.parity import run_parity

    loaded = load_spec_text(CLASHING_NAMES, "clashing.yaml")
    result = run_parity(loaded, tmp_path, batch_size=2)
    assert result.passed, "\n" + result.table()


def test_the_gate_refuses_to_import_a_file_that_fails_the_ast_check(tmp_path: Path) -> None:
    loaded = load_spec_text(SMALL, "small.yaml")
    path = write_model(loaded, "torch", tmp_path)
    marker = tmp_path / "imported"
    path.write_text(path.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n")
    with pytest.raises(UnsafeGeneratedCode):
        check_file(loaded, "torch", path)
    assert not marker.exists()
