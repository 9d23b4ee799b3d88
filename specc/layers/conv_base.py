"""What Conv2D, DepthwiseConv2D and SeparableConv2D share: windows, padding, output size."""

from __future__ import annotations

from collections.abc import Sequence

from specc.errors import LayerError
from specc.layers.activations import ACTIVATION_FLOPS, ActivationName, InitializerName
from specc.layers.base import Layer
from specc.layers.conv_math import Padding, as_pair, spatial_output
from specc.spec.types import IntPair, Shape, StrictBool


class BaseConv(Layer):
    """The arguments and rules every 2-D convolution shares, as in Keras's BaseConv."""

    kernel_size: IntPair
    strides: IntPair = (1, 1)
    padding: Padding = "valid"
    dilation_rate: IntPair = (1, 1)
    activation: ActivationName | None = None
    use_bias: StrictBool = True
    bias_initializer: InitializerName = "zeros"

    def windows(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """(kernel, strides, dilation) as pairs, with Keras's checks."""
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

    def output_channels(self, input_channels: int) -> int:
        raise NotImplementedError

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        kernel, strides, dilation = self.windows()
        out_h, out_w = spatial_output(
            self.type, (height, width), kernel, strides, dilation, self.padding, "kernel_size"
        )
        return (out_h, out_w, self.output_channels(channels))

    def activation_flops(self) -> int:
        return ACTIVATION_FLOPS[self.activation or "linear"]
