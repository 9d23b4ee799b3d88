"""A spec's weights in one framework-neutral file, and loading it into either built model.

The file is safetensors (no code, only named arrays), keyed `<layer>/<weight>` with Keras's
weight names and Keras's layout (what `specc import keras --weights` writes). The PyTorch
form of each array comes from the layer type's own mapping (`WeightMap`), as parity uses.
Every key must belong to the spec and every weight of the spec must be in the file, with
the right shape; anything else is one line naming the key, exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specc.backends.convert import finalize_keras_state, keras_array_to_torch
from specc.backends.torch_codegen import torch_emits
from specc.errors import SpeccError
from specc.spec.load import LoadedSpec

__all__ = ["load_into_keras", "load_into_torch", "read_weights", "torch_state", "torch_weights_path"]


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file; a missing, corrupt or truncated file is one line."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise SpeccError(f"{path}: no such weights file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise SpeccError(f"{path}: not a readable safetensors weights file: "
                         f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                         ) from None


def torch_state(loaded: LoadedSpec, weights: dict[str, np.ndarray], source: str) -> dict[str, Any]:
    """The generated PyTorch model's state dict (without BatchNorm's batch counters)."""
    import torch

    state: dict[str, Any] = {}
    expected: set[str] = set()
    for info, emit in torch_emits(loaded):
        name = info.layer.name
        for mapping in emit.weights:
            key = f"{name}/{mapping.keras}"
            expected.add(key)
            if key not in weights:
                raise SpeccError(f"{source}: no weight {key!r} for layer {name!r} "
                                 f"({info.layer.type})")
            state[f"{name}.{mapping.torch}"] = torch.from_numpy(
                np.array(keras_array_to_torch(weights[key], mapping.layout), order="C"))
    extra = sorted(set(weights) - expected)
    if extra:
        raise SpeccError(f"{source}: the weight {extra[0]!r} belongs to no layer of the spec "
                         f"{loaded.spec.name!r}")
    return state


def load_into_torch(model: Any, loaded: LoadedSpec, weights: dict[str, np.ndarray],
                    source: str) -> None:
    """Copy the weights into the generated PyTorch model, checking every shape."""
    import torch

    current = model.state_dict()
    with torch.no_grad():
        for key, tensor in torch_state(loaded, weights, source).items():
            if tuple(current[key].shape) != tuple(tensor.shape):
                raise SpeccError(f"{source}: {key.replace('.', '/', 1)} has shape "
                                 f"{tuple(tensor.shape)} where the model needs "
                                 f"{tuple(current[key].shape)}")
            current[key].copy_(tensor.to(current[key].dtype))


def load_into_keras(model: Any, loaded: LoadedSpec, weights: dict[str, np.ndarray],
                    source: str) -> None:
    """Assign the weights to the generated Keras model's variables, checking every shape."""
    expected = set()
    for layer in loaded.spec.layers:
        for variable in model.get_layer(layer.name).weights:
            key = f"{layer.name}/{str(variable.path).rsplit('/', 1)[-1]}"
            expected.add(key)
            if key not in weights:
                raise SpeccError(f"{source}: no weight {key!r} for layer {layer.name!r} "
                                 f"({layer.type})")
            shape = tuple(int(d) for d in variable.shape)
            if tuple(weights[key].shape) != shape:
                raise SpeccError(f"{source}: {key} has shape {tuple(weights[key].shape)} where "
                                 f"the model needs {shape}")
            variable.assign(weights[key].astype(np.dtype(str(variable.dtype))))
    extra = sorted(set(weights) - expected)
    if extra:
        raise SpeccError(f"{source}: the weight {extra[0]!r} belongs to no layer of the spec "
                         f"{loaded.spec.name!r}")
    finalize_keras_state(model)


def torch_weights_path(model_path: Path) -> Path:
    """Where `specc build --weights` puts the PyTorch weights: beside the generated file."""
    return model_path.with_suffix(".pt")
