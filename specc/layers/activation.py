"""Activation: an element-wise activation function by Keras name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.activations import ACTIVATION_FLOPS, ActivationName
from specc.layers.base import Layer, elements
from specc.layers.registry import register_layer
from specc.spec.types import Shape


@register_layer
class Activation(Layer):
    type: Literal["Activation"]
    activation: ActivationName

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.single_input(input_shapes)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return ACTIVATION_FLOPS[self.activation] * elements(output_shape)
