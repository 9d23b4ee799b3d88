"""What Conv2D, DepthwiseConv2D and SeparableConv2D share: windows, padding, output size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from specc.errors import LayerError
from specc.layers.activations import ACTIVATION_FLOPS, ActivationName, InitializerName
from specc.layers.base import Layer
from specc.layers.conv_math import Padding, as_pair, spatial_output, torch_padding
from specc.layers.emit import InitCall, UnsupportedByBackend, WeightMap, conv_fans, pair_or_int
from specc.spec.types import IntPair, Shape, StrictBool

if TYPE_CHECKING:
    from specc.graph import LayerInfo


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

    def keras_layer_with_equal_strides(self) -> str:
        """The Keras constructor of a depthwise-based convolution. TensorFlow's depthwise kernel
        (which SeparableConv2D runs too) accepts only equal row and column strides, so Keras
        on TensorFlow fails at the first call with anything else: refuse it here instead."""
        _, (row, column), _ = self.windows()
        if row != column:
            raise UnsupportedByBackend(
                f"TensorFlow's depthwise convolution needs equal strides in rows and columns "
                f"(received strides={self.strides}); use strides={row} or {column}, or a "
                "Conv2D with groups", field="strides")
        return super().keras_layer()

    # --- PyTorch: what every convolution shares ---

    def torch_window_arguments(
        self, info: LayerInfo
    ) -> tuple[dict[str, Any], tuple[int, int, int, int] | None]:
        """nn.Conv2d's stride/padding/dilation (non-defaults only), and an uneven F.pad."""
        height, width, _ = info.input_shapes[0]
        kernel, strides, dilation = self.windows()
        padding, pad = torch_padding((height, width), kernel, strides, dilation, self.padding)
        arguments: dict[str, Any] = {}
        for argument, value, default in (
            ("stride", strides, (1, 1)),
            ("padding", padding, (0, 0)),
            ("dilation", dilation, (1, 1)),
        ):
            if value != default:
                arguments[argument] = pair_or_int(value)
        return arguments, pad

    def torch_bias(self, module: str, filters: int) -> tuple[tuple[InitCall, ...], tuple[WeightMap, ...]]:
        """The bias's initialiser and weight mapping (none without `use_bias`)."""
        if not self.use_bias:
            return (), ()
        fans = conv_fans((filters,))
        return (
            (InitCall(f"{module}bias", self.bias_initializer, *fans),),
            (WeightMap("bias", f"{module}bias"),),
        )
