"""DepthwiseConv2D: one (or `depth_multiplier`) filters per input channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.activations import InitializerName
from specc.layers.base import ParamCount, elements
from specc.layers.conv_base import BaseConv
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape


@register_layer
class DepthwiseConv2D(BaseConv):
    type: Literal["DepthwiseConv2D"]
    depth_multiplier: PositiveInt = 1
    depthwise_initializer: InitializerName = "glorot_uniform"

    def output_channels(self, input_channels: int) -> int:
        return input_channels * self.depth_multiplier

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        (kh, kw), _, _ = self.windows()
        channels = input_shapes[0][-1]
        outputs = channels * self.depth_multiplier
        bias = outputs if self.use_bias else 0
        per_output = f"{kh}*{kw}" + (" + 1" if self.use_bias else "")
        return ParamCount(
            trainable=kh * kw * outputs + bias,
            formula=f"({per_output})*{channels}*{self.depth_multiplier}",
        )

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        per_output = 2 * kh * kw + int(self.use_bias) + self.activation_flops()
        return elements(output_shape) * per_output
