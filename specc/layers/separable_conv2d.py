"""SeparableConv2D: a depthwise convolution followed by a 1x1 pointwise convolution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.activations import InitializerName
from specc.layers.base import ParamCount, elements
from specc.layers.conv_base import BaseConv
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape


@register_layer
class SeparableConv2D(BaseConv):
    type: Literal["SeparableConv2D"]
    filters: PositiveInt
    depth_multiplier: PositiveInt = 1
    depthwise_initializer: InitializerName = "glorot_uniform"
    pointwise_initializer: InitializerName = "glorot_uniform"

    def output_channels(self, input_channels: int) -> int:
        return self.filters

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        (kh, kw), _, _ = self.windows()
        channels = input_shapes[0][-1]
        depthwise = kh * kw * channels * self.depth_multiplier
        pointwise = channels * self.depth_multiplier * self.filters
        bias = self.filters if self.use_bias else 0
        formula = f"{kh}*{kw}*{channels}*{self.depth_multiplier} + " + (
            f"({channels}*{self.depth_multiplier} + 1)*{self.filters}"
            if self.use_bias
            else f"{channels}*{self.depth_multiplier}*{self.filters}"
        )
        return ParamCount(trainable=depthwise + pointwise + bias, formula=formula)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        channels = input_shapes[0][-1] * self.depth_multiplier
        spatial = elements(output_shape[:2])
        depthwise = 2 * kh * kw * channels * spatial
        pointwise = 2 * channels * elements(output_shape)
        extra = (int(self.use_bias) + self.activation_flops()) * elements(output_shape)
        return depthwise + pointwise + extra
