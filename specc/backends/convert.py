"""Weights between the generated Keras and PyTorch models, by layer name.

Each layer type declares how its Keras arrays map to its PyTorch parameters and buffers
(:class:`specc.layers.emit.WeightMap`); this module moves the arrays:
conv kernels HWIO <-> OIHW, depthwise kernels (kh, kw, C, m) <-> (C*m, 1, kh, kw), Dense
kernels transposed, BatchNorm's gamma, beta, moving mean and variance as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from specc.backends.torch_codegen import torch_emits
from specc.errors import SpeccError
from specc.layers.emit import WeightLayout, WeightMap
from specc.spec.load import LoadedSpec

__all__ = [
    "finalize_keras_state",
    "keras_array_to_torch",
    "keras_to_torch",
    "torch_array_to_keras",
    "torch_to_keras",
]


def keras_array_to_torch(array: np.ndarray, layout: WeightLayout) -> np.ndarray:
    if layout == "conv":  # (kh, kw, in, out) -> (out, in, kh, kw)
        return array.transpose(3, 2, 0, 1)
    if layout == "dense":  # (in, out) -> (out, in)
        return array.T
    if layout == "depthwise":  # (kh, kw, C, m) -> (C*m, 1, kh, kw); torch's channel c*m + j
        kh, kw, channels, multiplier = array.shape
        return array.reshape(kh, kw, channels * multiplier).transpose(2, 0, 1)[:, None]
    return array


def torch_array_to_keras(
    array: np.ndarray, layout: WeightLayout, keras_shape: tuple[int, ...]
) -> np.ndarray:
    if layout == "conv":
        return array.transpose(2, 3, 1, 0)
    if layout == "dense":
        return array.T
    if layout == "depthwise":
        return array[:, 0].transpose(1, 2, 0).reshape(keras_shape)
    return array


def _pairs(
    keras_model: Any, torch_model: Any, loaded: LoadedSpec
) -> list[tuple[str, WeightMap, Any, Any]]:
    """(layer name, mapping, Keras variable, torch tensor) for every mapped array."""
    state = torch_model.state_dict(keep_vars=True)
    pairs = []
    for info, emit in torch_emits(loaded):
        name = info.layer.name
        variables = {_short_name(v): v for v in keras_model.get_layer(name).weights}
        for mapping in emit.weights:
            key = f"{name}.{mapping.torch}"
            if mapping.keras not in variables or key not in state:
                raise SpeccError(
                    f"layer {name!r}: cannot map Keras weight {mapping.keras!r} to torch {key!r}"
                )
            pairs.append((name, mapping, variables.pop(mapping.keras), state[key]))
        if variables:
            raise SpeccError(f"layer {name!r}: Keras weights {sorted(variables)} have no torch "
                             "counterpart")
    return pairs


def _short_name(variable: Any) -> str:
    return str(variable.path).rsplit("/", 1)[-1]


def keras_to_torch(keras_model: Any, torch_model: Any, loaded: LoadedSpec) -> None:
    """Copy every weight of the generated Keras model into the generated PyTorch model."""
    import torch

    with torch.no_grad():
        for name, mapping, variable, tensor in _pairs(keras_model, torch_model, loaded):
            array = keras_array_to_torch(np.asarray(variable.numpy()), mapping.layout)
            if tuple(array.shape) != tuple(tensor.shape):
                raise SpeccError(f"layer {name!r}: Keras {mapping.keras} {variable.shape} does "
                                 f"not fit torch {mapping.torch} {tuple(tensor.shape)}")
            tensor.copy_(torch.from_numpy(np.array(array, order="C")).to(tensor.dtype))  # 0-d stays 0-d


def torch_to_keras(torch_model: Any, keras_model: Any, loaded: LoadedSpec) -> None:
    """Copy every weight of the generated PyTorch model into the generated Keras model."""
    for name, mapping, variable, tensor in _pairs(keras_model, torch_model, loaded):
        keras_shape = tuple(int(d) for d in variable.shape)
        array = torch_array_to_keras(tensor.detach().cpu().numpy(), mapping.layout, keras_shape)
        if tuple(array.shape) != keras_shape:
            raise SpeccError(f"layer {name!r}: torch {mapping.torch} {tuple(tensor.shape)} does "
                             f"not fit Keras {mapping.keras} {keras_shape}")
        variable.assign(array.astype(np.dtype(str(variable.dtype))))
    finalize_keras_state(keras_model)


def finalize_keras_state(keras_model: Any) -> None:
    """Let layers that cache tensors computed from their weights refresh them after an
    assignment (Keras's Normalization reads its adapted mean and variance at build time)."""
    for layer in keras_model.layers:
        finalize = getattr(layer, "finalize_state", None)
        if callable(finalize):
            finalize()
