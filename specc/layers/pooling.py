"""MaxPooling2D and AveragePooling2D: the shared window rules live once, in BasePooling2D."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.base import Layer, elements
from specc.layers.conv_math import Padding, as_pair, spatial_output
from specc.layers.registry import register_layer
from specc.spec.types import IntPair, Shape


class BasePooling2D(Layer):
    pool_size: IntPair = (2, 2)
    strides: IntPair | None = None  # Keras: None means strides = pool_size
    padding: Padding = "valid"

    def windows(self) -> tuple[tuple[int, int], tuple[int, int]]:
        pool = as_pair("pool_size", self.pool_size)
        strides = pool if self.strides is None else as_pair("strides", self.strides)
        return pool, strides

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        pool, strides = self.windows()
        out_h, out_w = spatial_output(
            self.type, (height, width), pool, strides, (1, 1), self.padding, "pool_size"
        )
        return (out_h, out_w, channels)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        pool, _ = self.windows()
        return elements(output_shape) * pool[0] * pool[1]


@register_layer
class MaxPooling2D(BasePooling2D):
    type: Literal["MaxPooling2D"]


@register_layer
class AveragePooling2D(BasePooling2D):
    type: Literal["AveragePooling2D"]
