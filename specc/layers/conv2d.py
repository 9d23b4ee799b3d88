"""Conv2D: a 2-D convolution, channels-last, with Keras's arguments and defaults."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from specc.errors import LayerError
from specc.layers.activations import ACTIVATION_FLOPS, ActivationName, InitializerName
from specc.layers.base import Layer, ParamCount, elements
from specc.layers.conv_math import Padding, as_pair, spatial_output
from specc.layers.registry import register_layer
from specc.spec.types import IntPair, PositiveInt, Shape, StrictBool


@register_layer
class Conv2D(Layer):
    type: Literal["Conv2D"]
    filters: PositiveInt
    kernel_size: IntPair
    strides: IntPair = (1, 1)
    padding: Padding = "valid"
    dilation_rate: IntPair = (1, 1)
    groups: PositiveInt = 1
    activation: ActivationName | None = None
    use_bias: StrictBool = True
    kernel_initializer: InitializerName = "glorot_uniform"
    bias_initializer: InitializerName = Field(default="zeros")

    def windows(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        kernel = as_pair("kernel_size", self.kernel_size)
        strides = as_pair("strides", self.strides)
        dilation = as_pair("dilation_rate", self.dilation_rate)
        if max(strides) > 1 and max(dilation) > 1:
            raise LayerError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}",
                field="strides",
            )
        return kernel, strides, dilation

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        if channels % self.groups or self.filters % self.groups:
            raise LayerError(
                f"Invalid value for argument `groups`. The number of input channels "
                f"({channels}) and `filters` ({self.filters}) must both be divisible by "
                f"groups. Received groups={self.groups}.",
                field="groups",
            )
        kernel, strides, dilation = self.windows()
        out_h, out_w = spatial_output(
            "Conv2D", (height, width), kernel, strides, dilation, self.padding, "kernel_size"
        )
        return (out_h, out_w, self.filters)

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        channels = input_shapes[0][-1]
        (kh, kw), _, _ = self.windows()
        per_group = channels // self.groups
        weights = kh * kw * per_group * self.filters
        bias = self.filters if self.use_bias else 0
        fan_in = f"{kh}*{kw}*{per_group}" + (" + 1" if self.use_bias else "")
        return ParamCount(trainable=weights + bias, formula=f"({fan_in})*{self.filters}")

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        per_group = input_shapes[0][-1] // self.groups
        outputs = elements(output_shape)
        per_output = 2 * kh * kw * per_group + (1 if self.use_bias else 0)
        return outputs * (per_output + ACTIVATION_FLOPS[self.activation or "linear"])
