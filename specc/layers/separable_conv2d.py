"""SeparableConv2D: a depthwise convolution followed by a 1x1 pointwise convolution."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from specc.layers.base import LayerExample, ParamCount, elements
from specc.layers.conv_base import BaseConv
from specc.layers.emit import InitCall, TorchEmit, WeightMap, call, conv_fans, pair_or_int
from specc.layers.initializers import Initializer
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


@register_layer
class SeparableConv2D(BaseConv):
    type: Literal["SeparableConv2D"]
    filters: PositiveInt
    depth_multiplier: PositiveInt = 1
    depthwise_initializer: Initializer = "glorot_uniform"
    pointwise_initializer: Initializer = "glorot_uniform"

    keras_positional: ClassVar[tuple[str, ...]] = ("filters", "kernel_size")

    def keras_layer(self) -> str:
        return self.keras_layer_with_equal_strides()

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

    @classmethod
    def summary_kernel_areas(
        cls, channels: int, out_channels: int, params: int
    ) -> Iterator[tuple[dict[str, Any], bool, int]]:
        from specc.layers.readings import divides

        for multiplier in range(1, 9):  # depth_multiplier 1 is by far the most common
            for use_bias in (True, False):
                pointwise = channels * multiplier * out_channels + out_channels * use_bias
                area = divides(params - pointwise, channels * multiplier)
                if area:
                    extra = {"depth_multiplier": multiplier} if multiplier != 1 else {}
                    yield {"filters": out_channels, **extra}, use_bias, area

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        channels = input_shapes[0][-1] * self.depth_multiplier
        spatial = elements(output_shape[:2])
        depthwise = 2 * kh * kw * channels * spatial
        pointwise = 2 * channels * elements(output_shape)
        extra = (int(self.use_bias) + self.activation_flops()) * elements(output_shape)
        return depthwise + pointwise + extra

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        channels = info.input_shapes[0][-1]
        kernel, _, _ = self.windows()
        arguments, pad = self.torch_window_arguments(info)
        if self.depth_multiplier != 1:
            arguments["depth_multiplier"] = self.depth_multiplier
        if not self.use_bias:
            arguments["bias"] = False
        module = call("SeparableConv2d", channels, self.filters, pair_or_int(kernel), **arguments)
        middle = channels * self.depth_multiplier
        depthwise_fans = conv_fans((*kernel, channels, self.depth_multiplier))
        pointwise_fans = conv_fans((1, 1, middle, self.filters))
        bias_init, bias_weights = self.torch_bias("pointwise.", self.filters)
        return TorchEmit(
            module,
            helpers=("SeparableConv2d",),
            pad=pad,
            activation=self.activation,
            init=(
                InitCall("depthwise.weight", self.depthwise_initializer, *depthwise_fans),
                InitCall("pointwise.weight", self.pointwise_initializer, *pointwise_fans),
                *bias_init,
            ),
            weights=(
                WeightMap("depthwise_kernel", "depthwise.weight", "depthwise"),
                WeightMap("pointwise_kernel", "pointwise.weight", "conv"),
                *bias_weights,
            ),
        )

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"filters": 4, "kernel_size": 3}),
            LayerExample({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
                          "depth_multiplier": 2, "activation": "relu"}),
            LayerExample({"filters": 5, "kernel_size": 2, "padding": "same", "use_bias": False}),
        )
