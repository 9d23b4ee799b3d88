"""GlobalAveragePooling2D and GlobalMaxPooling2D over height and width."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.base import Layer, elements
from specc.layers.registry import register_layer
from specc.spec.types import Shape, StrictBool


class BaseGlobalPooling2D(Layer):
    keepdims: StrictBool = False

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        _, _, channels = self.single_input(input_shapes, rank=3)
        return (1, 1, channels) if self.keepdims else (channels,)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return elements(input_shapes[0])


@register_layer
class GlobalAveragePooling2D(BaseGlobalPooling2D):
    type: Literal["GlobalAveragePooling2D"]


@register_layer
class GlobalMaxPooling2D(BaseGlobalPooling2D):
    type: Literal["GlobalMaxPooling2D"]
