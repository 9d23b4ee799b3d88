"""What Conv2D, DepthwiseConv2D and SeparableConv2D share: windows, padding, output size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from specc.errors import LayerError
from specc.layers.activations import ACTIVATION_FLOPS, ActivationName
from specc.layers.base import Layer
from specc.layers.conv_math import Padding, as_pair, spatial_output, torch_padding
from specc.layers.emit import InitCall, UnsupportedByBackend, WeightMap, conv_fans, pair_or_int
from specc.layers.initializers import Initializer
from specc.spec.types import IntPair, Shape, StrictBool

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


class BaseConv(Layer):
    """The arguments and rules every 2-D convolution shares, as in Keras's BaseConv."""

    kernel_size: IntPair
    strides: IntPair = (1, 1)
    padding: Padding = "valid"
    dilation_rate: IntPair = (1, 1)
    activation: ActivationName | None = None
    use_bias: StrictBool = True
    bias_initializer: Initializer = "zeros"

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

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """Channels and bias from the counts, kernel sizes from the area left, strides and
        padding from the spatial sizes (dilation 1; activation not shown, so none)."""
        from specc.layers.readings import Reading, factor_pairs, square_or_pair, window_readings

        if len(row.input_shapes[0]) != 3 or len(row.output_shape) != 3:
            return
        (height, width, channels), (out_h, out_w, out_c) = row.input_shapes[0], row.output_shape
        areas = list(cls.summary_kernel_areas(channels, out_c, row.params))
        for config, use_bias, area in areas:
            for kernel in factor_pairs(area, (2 * height + 1, 2 * width + 1)):
                for window in window_readings((height, width), (out_h, out_w), kernel):
                    reading = {**config, "kernel_size": square_or_pair(kernel), **window}
                    yield Reading(reading if use_bias else {**reading, "use_bias": False})
        # Dilation shows only where 'valid' padding shrinks the input by the dilated window.
        for config, use_bias, area in areas:
            for kernel in factor_pairs(area, (height, width)):
                for rate in range(2, 5) if kernel != (1, 1) else ():
                    shrunk = tuple(size - (k - 1) * rate for size, k in zip((height, width), kernel))
                    if shrunk == (out_h, out_w):
                        reading = {**config, "kernel_size": square_or_pair(kernel),
                                   "dilation_rate": rate}
                        yield Reading(reading if use_bias else {**reading, "use_bias": False})

    @classmethod
    def summary_kernel_areas(
        cls, channels: int, out_channels: int, params: int
    ) -> Iterator[tuple[dict[str, Any], bool, int]]:
        """(channel arguments, use_bias, kernel height * width) that give `params`."""
        raise NotImplementedError

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
