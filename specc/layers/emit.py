"""What a layer type tells the code generators: safe source fragments and declarations.

Layers describe their PyTorch form declaratively (:class:`TorchEmit`): the module that
carries the spec layer's name, any padding applied before it, the activation applied
after it, Keras's initialisers and how its weights map to Keras's. The backends in
``specc/backends/`` assemble files from these. Everything here is pure Python.

Safety by construction: every value that reaches generated source goes through
:func:`lit` (repr of int, finite float, bool, str or None, and tuples of those) and
every name through :func:`ident` (the spec's identifier allowlist).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from specc.errors import SpeccError

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class UnsupportedByBackend(Exception):
    """A valid layer configuration that one backend cannot express exactly.

    `field` names the argument at fault, so the message can point at its line.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnsafeSource(SpeccError):
    """A value or name that must never reach generated source."""


@dataclass(frozen=True)
class Code:
    """A source fragment built by specc itself (never from spec text), passed through as is."""

    text: str


def ident(name: str) -> str:
    """A name checked again at emit time: an ASCII identifier, not a dunder."""
    if not isinstance(name, str) or not name.isascii() or not _IDENTIFIER.match(name):
        raise UnsafeSource(f"refusing to emit {name!r} as a name: not an ASCII identifier")
    if name.startswith("__"):
        raise UnsafeSource(f"refusing to emit {name!r} as a name: dunder names are not allowed")
    return name


def lit(value: object) -> str:
    """The repr of a plain literal; anything else (objects, inf, nan, bytes) is refused."""
    if isinstance(value, Code):
        return value.text
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeSource(f"refusing to emit the non-finite float {value!r}")
        return repr(value)
    if isinstance(value, tuple | list):
        items = [lit(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    raise UnsafeSource(f"refusing to emit a {type(value).__name__} as a literal")


def call(function: str, *args: object, **kwargs: object) -> str:
    """`function(arg, ..., key=value)` with every argument passed through :func:`lit`."""
    parts = [lit(arg) for arg in args] + [f"{ident(key)}={lit(v)}" for key, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def pair_or_int(pair: tuple[int, int]) -> int | tuple[int, int]:
    """PyTorch accepts an int for a square window; write it that way when it is one."""
    return pair[0] if pair[0] == pair[1] else pair


@dataclass(frozen=True)
class InitCall:
    """Keras's initialiser for one torch parameter, with the fans Keras computes."""

    parameter: str  # path below the layer's module, e.g. "weight" or "depthwise.weight"
    initializer: Any  # Keras's name ("glorot_uniform") or a config (specc.layers.initializers)
    fan_in: int = 0
    fan_out: int = 0


# How a Keras array maps to its PyTorch parameter.
WeightLayout = Literal["same", "conv", "dense", "depthwise"]


@dataclass(frozen=True)
class WeightMap:
    keras: str  # the Keras variable's name, e.g. "kernel", "moving_mean"
    torch: str  # the parameter or buffer path below the module, e.g. "weight", "running_mean"
    layout: WeightLayout = "same"


@dataclass(frozen=True)
class TorchEmit:
    """A spec layer's PyTorch form: `x = activation(self.<name>(pad(inputs)))`."""

    module: str  # constructor expression for the submodule named like the spec layer
    helpers: tuple[str, ...] = ()  # helper classes/functions the module needs (by name)
    pad: tuple[int, int, int, int] | None = None  # F.pad (left, right, top, bottom) before it
    pad_value: Literal["zero", "-inf"] = "zero"
    activation: str | None = None  # Keras activation applied to the module's output
    init: tuple[InitCall, ...] = ()
    weights: tuple[WeightMap, ...] = field(default_factory=tuple)


def conv_fans(kernel_shape: tuple[int, ...]) -> tuple[int, int]:
    """Keras's `compute_fans` for an array in Keras's layout (..., in, out)."""
    if len(kernel_shape) == 1:
        return kernel_shape[0], kernel_shape[0]
    if len(kernel_shape) == 2:
        return kernel_shape[0], kernel_shape[1]
    receptive = 1
    for dim in kernel_shape[:-2]:
        receptive *= dim
    return kernel_shape[-2] * receptive, kernel_shape[-1] * receptive


# Keras 3's activations in PyTorch: (function, module class, extra positional arguments).
# Checked against Keras 3's definitions: leaky_relu's negative_slope is 0.2, gelu is exact
# (approximate=False), hard_sigmoid is relu6(x + 3) / 6, swish is silu, hard_silu (alias
# hard_swish) is x * hard_sigmoid(x), mish is x * tanh(softplus(x)), log_softmax is on axis -1.
_TORCH_ACTIVATIONS: dict[str, tuple[str, str, tuple[float, ...]]] = {
    "relu": ("torch.relu", "nn.ReLU", ()),
    "relu6": ("F.relu6", "nn.ReLU6", ()),
    "leaky_relu": ("F.leaky_relu", "nn.LeakyReLU", (0.2,)),
    "elu": ("F.elu", "nn.ELU", ()),
    "selu": ("torch.selu", "nn.SELU", ()),
    "gelu": ("F.gelu", "nn.GELU", ()),
    "sigmoid": ("torch.sigmoid", "nn.Sigmoid", ()),
    "hard_sigmoid": ("F.hardsigmoid", "nn.Hardsigmoid", ()),
    "tanh": ("torch.tanh", "nn.Tanh", ()),
    "softmax": ("torch.softmax", "nn.Softmax", ()),
    "silu": ("F.silu", "nn.SiLU", ()),
    "swish": ("F.silu", "nn.SiLU", ()),
    "softplus": ("F.softplus", "nn.Softplus", ()),
    "linear": ("", "nn.Identity", ()),
    "hard_silu": ("F.hardswish", "nn.Hardswish", ()),
    "hard_swish": ("F.hardswish", "nn.Hardswish", ()),
    "mish": ("F.mish", "nn.Mish", ()),
    "log_softmax": ("torch.log_softmax", "nn.LogSoftmax", ()),
}

# Activations over Keras's last axis: they take the channel dim in PyTorch.
_ON_AXIS = frozenset({"softmax", "log_softmax"})


def channel_dim(rank: int) -> int:
    """PyTorch's dim for Keras's last (channel) axis: 1 for NCHW images, else -1."""
    return 1 if rank == 3 else -1


def torch_dim(axis: int, rank: int) -> int:
    """PyTorch's dim for the spec's axis `axis` (0-based, batch left out) of a rank-`rank`
    tensor: images are NCHW, so (H, W, C) become dims (2, 3, 1); other ranks shift by one."""
    return (2, 3, 1)[axis] if rank == 3 else axis + 1


def torch_activation_parts(name: str) -> tuple[str, tuple[float, ...], bool]:
    """(function path such as "F.silu", extra positional arguments, takes the channel dim)."""
    function, _, args = _TORCH_ACTIVATIONS[name]
    return function, args, name in _ON_AXIS


def torch_activation_module(name: str, rank: int) -> str:
    """`nn.ReLU()`, `nn.Softmax(dim=1)`: Keras's activation `name` as a module."""
    _, module, args = _TORCH_ACTIVATIONS[name]
    if name in _ON_AXIS:
        return call(module, dim=channel_dim(rank))
    return call(module, *args)


def torch_activation_call(name: str, rank: int, operand: str) -> str:
    """`torch.relu(operand)`: Keras's activation `name` applied to an expression."""
    function, _, args = _TORCH_ACTIVATIONS[name]
    if not function:
        return operand
    extra = [lit(arg) for arg in args]
    if name in _ON_AXIS:
        extra.append(f"dim={channel_dim(rank)}")
    return f"{function}({', '.join([operand, *extra])})"
