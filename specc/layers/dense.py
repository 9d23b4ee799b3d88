"""Dense: a fully connected layer on the last axis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.errors import LayerError
from specc.layers.activations import ACTIVATION_FLOPS, ActivationName, InitializerName
from specc.layers.base import Layer, ParamCount, elements
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape, StrictBool


@register_layer
class Dense(Layer):
    type: Literal["Dense"]
    units: PositiveInt
    activation: ActivationName | None = None
    use_bias: StrictBool = True
    kernel_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = "zeros"

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        (shape,) = input_shapes
        if not shape:
            raise LayerError("expects an input with a feature axis; received a scalar per example")
        return (*shape[:-1], self.units)

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        features = input_shapes[0][-1]
        bias = self.units if self.use_bias else 0
        formula = f"({features} + 1)*{self.units}" if self.use_bias else f"{features}*{self.units}"
        return ParamCount(trainable=features * self.units + bias, formula=formula)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        per_output = 2 * input_shapes[0][-1] + int(self.use_bias)
        return elements(output_shape) * (per_output + ACTIVATION_FLOPS[self.activation or "linear"])
