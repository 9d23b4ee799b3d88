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
    "hard_silu",
    "hard_swish",
    "mish",
    "log_softmax",
]

# FLOPs per element, a rough but fixed convention (an exp or a division counts as one).
ACTIVATION_FLOPS: dict[str, int] = {
    "relu": 1,
    "relu6": 2,
    "leaky_relu": 2,
    "elu": 3,
    "selu": 4,
    "gelu": 8,
    "sigmoid": 3,
    "hard_sigmoid": 3,
    "tanh": 3,
    "softmax": 3,
    "silu": 4,
    "swish": 4,
    "softplus": 3,
    "linear": 0,
    "hard_silu": 4,
    "hard_swish": 4,
    "mish": 6,
    "log_softmax": 4,
}

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
