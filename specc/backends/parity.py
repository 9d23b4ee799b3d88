"""Parity: the generated Keras and PyTorch models compute the same function.

Both models are built and gated; the Keras model's biases and normalisation statistics
are set to random values (so the test covers every array, not just glorot kernels next
to zeros), its weights are copied into PyTorch by the converter, and both run in
inference mode on the same seeded random batch. Each layer's output is captured (Keras:
a model over every layer's output; PyTorch: forward hooks, NCHW mapped to channels-last)
and compared: max |keras - torch| and that divided by max |keras|.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specc.backends.convert import finalize_keras_state, keras_to_torch
from specc.backends.gate import build_checked
from specc.backends.quiet_keras import quiet_tensorflow
from specc.backends.torch_codegen import torch_emits
from specc.layers.emit import channel_dim, torch_activation_parts
from specc.spec.load import LoadedSpec

TOLERANCE = 1e-4  # relative, float32
_TINY = 1e-6  # the floor of the relative difference's denominator


@dataclass(frozen=True)
class LayerParity:
    name: str
    type: str
    max_abs: float
    max_rel: float


@dataclass(frozen=True)
class ParityResult:
    spec_name: str
    layers: tuple[LayerParity, ...]
    tolerance: float
    batch_size: int

    @property
    def max_abs(self) -> float:
        return max(layer.max_abs for layer in self.layers)

    @property
    def max_rel(self) -> float:
        return max(layer.max_rel for layer in self.layers)

    @property
    def passed(self) -> bool:
        return self.max_rel <= self.tolerance

    def failing(self) -> list[LayerParity]:
        return [layer for layer in self.layers if layer.max_rel > self.tolerance]

    def table(self) -> str:
        rows = [("layer", "type", "max abs diff", "max rel diff", "")]
        for layer in self.layers:
            ok = "ok" if layer.max_rel <= self.tolerance else "DIFFERS"
            rows.append((layer.name, layer.type, f"{layer.max_abs:.3e}", f"{layer.max_rel:.3e}", ok))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)


def randomise_keras_weights(keras_model: Any, seed: int, spread: float = 1.0) -> None:
    """Random biases, betas, gammas and statistics (BatchNormalization's moving ones,
    Normalization's adapted ones); kernels keep Keras's initialiser. Offsets are drawn from
    N(0, 0.2 * spread) and scales from U(1 - spread / 2, 1 + spread / 2)."""
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        for variable in layer.weights:
            short = str(variable.path).rsplit("/", 1)[-1]
            shape = tuple(int(d) for d in variable.shape)
            if short in ("bias", "beta", "moving_mean", "mean"):
                values = rng.normal(0.0, 0.2 * spread, shape)
            elif short in ("gamma", "moving_variance", "variance"):
                values = rng.uniform(1.0 - spread / 2, 1.0 + spread / 2, shape)
            else:
                continue
            variable.assign(values.astype(np.float32))
    finalize_keras_state(keras_model)


def run_parity(
    loaded: LoadedSpec, out_dir: Path, *, batch_size: int = 2, seed: int = 0,
    tolerance: float = TOLERANCE, weights: dict[str, np.ndarray] | None = None,
    weights_source: str = "weights",
) -> ParityResult:
    """Parity with random biases and statistics, or with `weights` (a spec weights file's)."""
    quiet_tensorflow()
    import keras

    keras_model = build_checked(loaded, "keras", out_dir).model
    torch_model = build_checked(loaded, "torch", out_dir).model
    if weights is None:
        randomise_keras_weights(keras_model, seed)
    else:
        from specc.backends.weights import load_into_keras

        load_into_keras(keras_model, loaded, weights, weights_source)
    keras_to_torch(keras_model, torch_model, loaded)

    rng = np.random.default_rng(seed)
    batch = rng.standard_normal((batch_size, *loaded.spec.input.shape)).astype(np.float32)
    names = [layer.name for layer in loaded.spec.layers]

    probe = keras.Model(keras_model.inputs, [keras_model.get_layer(n).output for n in names])
    outputs = probe([batch], training=False)
    keras_outputs = [np.asarray(out) for out in (outputs if len(names) > 1 else [outputs])]

    torch_outputs = _torch_layer_outputs(loaded, torch_model, batch)
    final = _torch_final_output(torch_model, batch)

    results = []
    for info, expected in zip(loaded.info.layers, keras_outputs, strict=True):
        results.append(_difference(info.layer.name, info.layer.type, expected,
                                   torch_outputs[info.layer.name]))
    last = loaded.spec.layers[-1]
    results.append(_difference("(model output)", last.type, keras_outputs[-1], final))
    return ParityResult(loaded.spec.name, tuple(results), tolerance, batch_size)


def _difference(name: str, type_: str, expected: np.ndarray, actual: np.ndarray) -> LayerParity:
    if expected.shape != actual.shape:
        return LayerParity(name, type_, float("inf"), float("inf"))
    max_abs, max_rel = differences(expected, actual)
    return LayerParity(name, type_, max_abs, max_rel)


def differences(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """The largest absolute difference, and it relative to the largest expected magnitude."""
    expected64 = expected.astype(np.float64)
    max_abs = float(np.max(np.abs(expected64 - actual.astype(np.float64)), initial=0.0))
    scale = max(float(np.max(np.abs(expected64), initial=0.0)), _TINY)
    return max_abs, max_abs / scale


def to_channels_last(array: np.ndarray) -> np.ndarray:
    return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array


def _torch_final_output(torch_model: Any, batch: np.ndarray) -> np.ndarray:
    import torch

    torch_model.eval()
    with torch.no_grad():
        output = torch_model(torch.from_numpy(to_torch_layout(batch)))
    return to_channels_last(output.numpy())


def to_torch_layout(batch: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2)) if batch.ndim == 4 else batch


def _torch_layer_outputs(
    loaded: LoadedSpec, torch_model: Any, batch: np.ndarray
) -> dict[str, np.ndarray]:
    """Each spec layer's output in PyTorch, channels-last, including in-layer activations."""
    import torch

    activations = {info.layer.name: (emit.activation, len(info.output_shape))
                   for info, emit in torch_emits(loaded)}
    captured: dict[str, Any] = {}
    handles = []
    for name in activations:
        module = torch_model.get_submodule(name)
        handles.append(module.register_forward_hook(_recorder(captured, name)))
    torch_model.eval()
    try:
        with torch.no_grad():
            torch_model(torch.from_numpy(to_torch_layout(batch)))
    finally:
        for handle in handles:
            handle.remove()
    outputs = {}
    for name, tensor in captured.items():
        activation, rank = activations[name]
        if activation is not None:
            # The module's output is before the layer's own activation, which the generated
            # forward applies; apply the same Keras activation here (its correctness shows in
            # every later layer and in the model's output, which are compared too).
            tensor = _apply_activation(activation, rank, tensor)
        outputs[name] = to_channels_last(tensor.numpy())
    return outputs


def _recorder(captured: dict[str, Any], name: str) -> Any:
    def record(module: Any, inputs: Any, output: Any) -> None:
        captured[name] = output.detach().clone()

    return record


def _apply_activation(name: str, rank: int, tensor: Any) -> Any:
    """Keras's activation `name` as the generated forward applies it (the same table)."""
    import torch
    from torch.nn import functional as F

    path, args, on_axis = torch_activation_parts(name)
    if not path:
        return tensor
    owner, attribute = path.split(".")
    function = getattr({"torch": torch, "F": F}[owner], attribute)
    return function(tensor, *args, **({"dim": channel_dim(rank)} if on_axis else {}))
