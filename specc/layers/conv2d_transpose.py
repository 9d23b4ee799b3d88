"""Conv2DTranspose: the transposed 2-D convolution, with TensorFlow's output size and padding.

Output size per spatial axis (Keras's `compute_conv_transpose_output_shape`), with the
dilated kernel k: 'valid' gives (i - 1)*s + max(k, s) (or k + output_padding), 'same' gives
i*s (or (i - 1)*s + k % 2 + output_padding). PyTorch computes the full transposed convolution
((i - 1)*s + k) and keeps the window TensorFlow keeps: it starts at the forward convolution's
leading pad, pad_total // 2, and runs on with zeros (then the bias) where TensorFlow's output
is longer than the full one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from specc.errors import LayerError
from specc.layers.base import LayerExample, ParamCount, elements
from specc.layers.conv_base import BaseConv
from specc.layers.conv_math import as_pair
from specc.layers.emit import (
    InitCall,
    TorchEmit,
    UnsupportedByBackend,
    WeightMap,
    call,
    conv_fans,
    pair_or_int,
)
from specc.layers.initializers import Initializer
from specc.layers.registry import register_layer
from specc.spec.types import IntPair, PositiveInt, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Conv2DTranspose(BaseConv):
    type: Literal["Conv2DTranspose"]
    filters: PositiveInt
    output_padding: IntPair | None = None
    kernel_initializer: Initializer = "glorot_uniform"

    keras_positional: ClassVar[tuple[str, ...]] = ("filters", "kernel_size")

    def output_channels(self, input_channels: int) -> int:
        return self.filters

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """As Conv2D's: filters and bias from the counts, kernel sizes from the area left; then
        strides, padding and output_padding that enlarge the spatial sizes as printed
        (dilation 1; activation not shown, so none)."""
        from specc.layers.readings import (
            Reading,
            factor_pairs,
            square_or_pair,
            transposed_window_readings,
        )

        if len(row.input_shapes[0]) != 3 or len(row.output_shape) != 3:
            return
        (height, width, channels), (out_h, out_w, out_c) = row.input_shapes[0], row.output_shape
        for config, use_bias, area in cls.summary_kernel_areas(channels, out_c, row.params):
            for kernel in factor_pairs(area, (out_h, out_w)):
                for window in transposed_window_readings((height, width), (out_h, out_w), kernel):
                    reading = {**config, "kernel_size": square_or_pair(kernel), **window}
                    yield Reading(reading if use_bias else {**reading, "use_bias": False})

    @classmethod
    def summary_kernel_areas(
        cls, channels: int, out_channels: int, params: int
    ) -> Iterator[tuple[dict[str, Any], bool, int]]:
        from specc.layers.readings import full_kernel_areas

        return full_kernel_areas(channels, out_channels, params)

    def output_paddings(self) -> tuple[int | None, int | None]:
        if self.output_padding is None:
            return (None, None)
        paddings = as_pair("output_padding", self.output_padding, minimum=0)
        _, strides, _ = self.windows()
        for padding, stride in zip(paddings, strides, strict=True):
            if padding >= stride:
                raise LayerError(
                    "`output_padding` must be strictly less than `strides`. Received: "
                    f"output_padding={self.output_padding}, strides={self.strides}",
                    field="output_padding",
                )
        return paddings

    def lengths(self, size: tuple[int, int]) -> list[tuple[int, int, int]]:
        """Per axis: (TensorFlow's output length, the full transposed length, leading crop)."""
        kernel, strides, dilation = self.windows()
        result = []
        for length, k, s, d, extra in zip(size, kernel, strides, dilation, self.output_paddings(),
                                          strict=True):
            k = (k - 1) * d + 1
            if self.padding == "valid":
                out = (length - 1) * s + k + (max(k, s) - k if extra is None else extra)
            elif extra is None:
                out = length * s
            else:
                out = (length - 1) * s + k % 2 + extra
            full = (length - 1) * s + k
            # The forward convolution from `out` back to `length` pads pad_total, half before.
            pad_total = max((length - 1) * s + k - out, 0)
            result.append((out, full, pad_total // 2 if self.padding == "same" else 0))
        return result

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, _ = self.single_input(input_shapes, rank=3)
        (out_h, _, _), (out_w, _, _) = self.lengths((height, width))
        return (out_h, out_w, self.filters)

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        (kh, kw), _, _ = self.windows()
        channels = input_shapes[0][-1]
        bias = self.filters if self.use_bias else 0
        per_output = f"{kh}*{kw}*{channels}" + (" + 1" if self.use_bias else "")
        return ParamCount(trainable=kh * kw * channels * self.filters + bias,
                          formula=f"({per_output})*{self.filters}")

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        (kh, kw), _, _ = self.windows()
        # Every input element meets every kernel weight once: a multiply-add each.
        products = 2 * elements(input_shapes[0]) * kh * kw * self.filters
        return products + elements(output_shape) * (int(self.use_bias) + self.activation_flops())

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        height, width, channels = info.input_shapes[0]
        kernel, strides, dilation = self.windows()
        (out_h, _, top), (out_w, _, left) = self.lengths((height, width))
        arguments: dict[str, object] = {"output_size": (out_h, out_w), "start": (top, left)}
        if strides != (1, 1):
            arguments["stride"] = pair_or_int(strides)
        if dilation != (1, 1):
            # TensorFlow's CPU kernel refuses it, so no parity test could hold the two together.
            raise UnsupportedByBackend("dilation_rate > 1 (TensorFlow's CPU Conv2DTranspose "
                                       "lacks it, so specc cannot check its PyTorch form)",
                                       field="dilation_rate")
        if not self.use_bias:
            arguments["bias"] = False
        module = call("KerasConvTranspose2d", channels, self.filters, pair_or_int(kernel),
                      **arguments)
        # Keras's kernel is (kh, kw, filters, channels); torch's (channels, filters, kh, kw).
        kernel_shape = (*kernel, self.filters, channels)
        bias_init, bias_weights = self.torch_bias("", self.filters)
        return TorchEmit(
            module,
            helpers=("KerasConvTranspose2d",),
            activation=self.activation,
            init=(InitCall("weight", self.kernel_initializer, *conv_fans(kernel_shape)), *bias_init),
            weights=(WeightMap("kernel", "weight", "conv"), *bias_weights),
        )

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"filters": 4, "kernel_size": 3}),
            LayerExample({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}),
            LayerExample({"filters": 4, "kernel_size": 2, "strides": 2}),
            LayerExample({"filters": 3, "kernel_size": 2, "strides": 3, "activation": "relu"}),
            LayerExample({"filters": 3, "kernel_size": (3, 4), "strides": (2, 3), "padding": "same"},
                         input_shape=(5, 4, 2)),
            LayerExample({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                          "output_padding": 0}),
            LayerExample({"filters": 2, "kernel_size": 3, "strides": 3, "output_padding": (2, 1),
                          "use_bias": False}),
        )
