"""Conv2D: a 2-D convolution, channels-last, with Keras's arguments and defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.errors import LayerError
from specc.layers.activations import InitializerName
from specc.layers.base import ParamCount, elements
from specc.layers.conv_base import BaseConv
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape


@register_layer
class Conv2D(BaseConv):
    type: Literal["Conv2D"]
    filters: PositiveInt
    groups: PositiveInt = 1
    kernel_initializer: InitializerName = "glorot_uniform"

    def output_channels(self, input_channels: int) -> int:
        if input_channels % self.groups or self.filters % self.groups:
            raise LayerError(
                f"Invalid value for argument `groups`. The number of input channels "
                f"({input_channels}) and `filters` ({self.filters}) must both be divisible by "
                f"groups. Received groups={self.groups}.",
                field="groups",
            )
        return self.filters

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        (kh, kw), _, _ = self.windows()
        per_group = input_shapes[0][-1] // self.groups
        weights = kh * kw * per_group * self.filters
        bias = self.filters if self.use_bias else 0
        fan_in = f"{kh}*{kw}*{per_group}" + (" + 1" if self.use_bias else "")
        return ParamCount(trainable=weights + bias, formula=f"({fan_in})*{self.filters}")

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        per_group = input_shapes[0][-1] // self.groups
        per_output = 2 * kh * kw * per_group + int(self.use_bias) + self.activation_flops()
        return elements(output_shape) * per_output
