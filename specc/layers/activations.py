"""Keras 3's activation functions by name, shared by the Activation layer and `activation=`."""

from __future__ import annotations

from typing import Literal

ActivationName = Literal[
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "sigmoid",
    "hard_sigmoid",
    "tanh",
    "softmax",
    "silu",
    "swish",
    "softplus",
    "linear",
]

# Per element, for the FLOP count; "linear" is free.
ACTIVATION_FLOPS: dict[str, int] = {name: 1 for name in ActivationName.__args__}  # type: ignore[attr-defined]
ACTIVATION_FLOPS.update({"linear": 0, "softmax": 3, "gelu": 8, "silu": 4, "swish": 4, "elu": 3,
                         "selu": 4, "softplus": 3, "sigmoid": 3, "tanh": 3})

InitializerName = Literal[
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "zeros",
    "ones",
]
