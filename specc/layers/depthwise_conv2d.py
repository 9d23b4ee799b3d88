"""DepthwiseConv2D: one (or `depth_multiplier`) filters per input channel."""

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
class DepthwiseConv2D(BaseConv):
    type: Literal["DepthwiseConv2D"]
    depth_multiplier: PositiveInt = 1
    depthwise_initializer: Initializer = "glorot_uniform"

    keras_positional: ClassVar[tuple[str, ...]] = ("kernel_size",)

    def keras_layer(self) -> str:
        return self.keras_layer_with_equal_strides()

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

    @classmethod
    def summary_kernel_areas(
        cls, channels: int, out_channels: int, params: int
    ) -> Iterator[tuple[dict[str, Any], bool, int]]:
        from specc.layers.readings import divides

        multiplier = divides(out_channels, channels)
        for use_bias in (True, False) if multiplier else ():
            area = divides(params - out_channels * use_bias, out_channels)
            if area:
                yield ({"depth_multiplier": multiplier} if multiplier != 1 else {}), use_bias, area

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        per_output = 2 * kh * kw + int(self.use_bias) + self.activation_flops()
        return elements(output_shape) * per_output

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        channels = info.input_shapes[0][-1]
        outputs = channels * self.depth_multiplier
        kernel, _, _ = self.windows()
        arguments, pad = self.torch_window_arguments(info)
        arguments["groups"] = channels
        if not self.use_bias:
            arguments["bias"] = False
        module = call("nn.Conv2d", channels, outputs, pair_or_int(kernel), **arguments)
        # Keras's fans come from its (kh, kw, channels, depth_multiplier) kernel, not torch's.
        fans = conv_fans((*kernel, channels, self.depth_multiplier))
        bias_init, bias_weights = self.torch_bias("", outputs)
        return TorchEmit(
            module,
            pad=pad,
            activation=self.activation,
            init=(InitCall("weight", self.depthwise_initializer, *fans), *bias_init),
            weights=(WeightMap("kernel", "weight", "depthwise"), *bias_weights),
        )

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"kernel_size": 3}),
            LayerExample({"kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu6"}),
            LayerExample({"kernel_size": (3, 2), "depth_multiplier": 2, "padding": "same",
                          "use_bias": False}, input_shape=(6, 6, 2)),
            LayerExample({"kernel_size": 3, "dilation_rate": 2, "bias_initializer": "ones"}),
        )
