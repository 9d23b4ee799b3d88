"""Conv2D: a 2-D convolution, channels-last, with Keras's arguments and defaults."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from specc.errors import LayerError
from specc.layers.base import LayerExample, ParamCount, elements
from specc.layers.conv_base import BaseConv
from specc.layers.emit import InitCall, TorchEmit, WeightMap, call, conv_fans, pair_or_int
from specc.layers.initializers import Initializer
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


@register_layer
class Conv2D(BaseConv):
    type: Literal["Conv2D"]
    filters: PositiveInt
    groups: PositiveInt = 1
    kernel_initializer: Initializer = "glorot_uniform"

    keras_positional: ClassVar[tuple[str, ...]] = ("filters", "kernel_size")

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

    @classmethod
    def summary_kernel_areas(
        cls, channels: int, out_channels: int, params: int
    ) -> Iterator[tuple[dict[str, Any], bool, int]]:
        from specc.layers.readings import full_kernel_areas

        return full_kernel_areas(channels, out_channels, params)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        per_group = input_shapes[0][-1] // self.groups
        per_output = 2 * kh * kw * per_group + int(self.use_bias) + self.activation_flops()
        return elements(output_shape) * per_output

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        channels = info.input_shapes[0][-1]
        kernel, _, _ = self.windows()
        arguments, pad = self.torch_window_arguments(info)
        if self.groups != 1:
            arguments["groups"] = self.groups
        if not self.use_bias:
            arguments["bias"] = False
        module = call("nn.Conv2d", channels, self.filters, pair_or_int(kernel), **arguments)
        kernel_shape = (*kernel, channels // self.groups, self.filters)
        bias_init, bias_weights = self.torch_bias("", self.filters)
        return TorchEmit(
            module,
            pad=pad,
            activation=self.activation,
            init=(InitCall("weight", self.kernel_initializer, *conv_fans(kernel_shape)), *bias_init),
            weights=(WeightMap("kernel", "weight", "conv"), *bias_weights),
        )

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"filters": 4, "kernel_size": 3}),
            LayerExample({"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"}),
            LayerExample({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}),
            LayerExample({"filters": 5, "kernel_size": (2, 3), "strides": (2, 1), "padding": "same"},
                         input_shape=(8, 6, 3)),
            LayerExample({"filters": 4, "kernel_size": 3, "strides": 2, "use_bias": False}),
            LayerExample({"filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}),
            LayerExample({"filters": 6, "kernel_size": 1, "groups": 2}, input_shape=(5, 5, 4)),
            LayerExample({"filters": 4, "kernel_size": 2, "kernel_initializer": "he_normal",
                          "bias_initializer": "ones", "activation": "tanh"}),
            LayerExample({"filters": 4, "kernel_size": 3, "trainable": False}),
            LayerExample({"filters": 4, "kernel_size": 3, "kernel_initializer": {
                "class_name": "VarianceScaling", "scale": 2.0, "mode": "fan_out"}}),
        )
