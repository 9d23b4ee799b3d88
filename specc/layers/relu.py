"""ReLU with Keras's max_value, negative_slope and threshold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import ValidationInfo, field_validator

from specc.layers.base import Layer, elements
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape


@register_layer
class ReLU(Layer):
    """f(x) = max_value for x >= max_value; x for threshold <= x < max_value;
    negative_slope * (x - threshold) otherwise."""

    type: Literal["ReLU"]
    max_value: FiniteFloat | None = None
    negative_slope: FiniteFloat = 0.0
    threshold: FiniteFloat = 0.0

    @field_validator("max_value", "negative_slope")
    @classmethod
    def _not_negative(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value < 0.0:
            raise ValueError(
                f"{info.field_name} of a ReLU layer cannot be a negative value. "
                f"Received: {info.field_name}={value}"
            )
        return value

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.single_input(input_shapes)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return 2 * elements(output_shape)
