"""MaxPooling2D and AveragePooling2D: the shared window rules live once, in BasePooling2D."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from specc.layers.base import Layer, LayerExample, elements
from specc.layers.conv_math import Padding, as_pair, spatial_output, torch_padding
from specc.layers.emit import TorchEmit, call, pair_or_int
from specc.layers.registry import register_layer
from specc.spec.types import IntPair, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


class BasePooling2D(Layer):
    pool_size: IntPair = (2, 2)
    strides: IntPair | None = None  # Keras: None means strides = pool_size
    padding: Padding = "valid"

    def windows(self) -> tuple[tuple[int, int], tuple[int, int]]:
        pool = as_pair("pool_size", self.pool_size)
        strides = pool if self.strides is None else as_pair("strides", self.strides)
        return pool, strides

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        pool, strides = self.windows()
        out_h, out_w = spatial_output(
            self.type, (height, width), pool, strides, (1, 1), self.padding, "pool_size"
        )
        return (out_h, out_w, channels)

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """Pool sizes (2 and 3 first, then the whole input, then any) and strides from the
        shape ratio; strides equal to the pool size (Keras's default) first."""
        from specc.layers.readings import Reading, pool_windows, square_or_pair, window_readings

        if len(row.input_shapes[0]) != 3 or len(row.output_shape) != 3:
            return
        (height, width, _), (out_h, out_w, _) = row.input_shapes[0], row.output_shape
        sizes = [(p, p) for p in pool_windows(height, out_h) if p <= width]
        sizes += [(ph, pw) for ph in pool_windows(height, out_h) for pw in pool_windows(width, out_w)
                  if ph != pw]
        for pool in sizes:
            for window in window_readings((height, width), (out_h, out_w), pool, None):
                yield Reading({"pool_size": square_or_pair(pool), **window})

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        pool, _ = self.windows()
        return elements(output_shape) * pool[0] * pool[1]

    # --- PyTorch: what both poolings share ---

    # Keras 3's AveragePooling2D has no default pool_size: always write it.
    keras_positional: ClassVar[tuple[str, ...]] = ("pool_size",)

    def torch_arguments(
        self, info: LayerInfo
    ) -> tuple[list[Any], dict[str, Any], tuple[int, int, int, int] | None]:
        """(kernel,), {stride, padding} (non-defaults) and an uneven 'same' padding, if any."""
        height, width, _ = info.input_shapes[0]
        pool, strides = self.windows()
        padding, pad = torch_padding((height, width), pool, strides, (1, 1), self.padding)
        arguments: dict[str, Any] = {}
        if strides != pool:  # torch's stride defaults to the kernel size, like Keras's
            arguments["stride"] = pair_or_int(strides)
        if padding != (0, 0):
            arguments["padding"] = pair_or_int(padding)
        return [pair_or_int(pool)], arguments, pad

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"pool_size": 3, "strides": 2}),
            LayerExample({"pool_size": 2, "padding": "same"}),
            LayerExample({"pool_size": 3, "strides": 1, "padding": "same"}),
            LayerExample({"pool_size": 3, "strides": 2, "padding": "same"}, input_shape=(8, 8, 2)),
            LayerExample({"pool_size": (2, 3), "strides": (1, 2), "padding": "same"},
                         input_shape=(5, 6, 2)),
        )


@register_layer
class MaxPooling2D(BasePooling2D):
    type: Literal["MaxPooling2D"]

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        args, arguments, pad = self.torch_arguments(info)
        # Padding for a maximum is -inf: it never wins, as in TensorFlow's 'same'.
        return TorchEmit(call("nn.MaxPool2d", *args, **arguments), pad=pad, pad_value="-inf")


@register_layer
class AveragePooling2D(BasePooling2D):
    type: Literal["AveragePooling2D"]

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        args, arguments, pad = self.torch_arguments(info)
        if pad is not None:  # uneven: average over the real cells only
            _, strides = self.windows()
            return TorchEmit(
                call("AvgPool2dSame", *args, pair_or_int(strides), pad),
                helpers=("AvgPool2dSame",),
            )
        if "padding" in arguments:  # TensorFlow leaves the padding out of each average
            arguments["count_include_pad"] = False
        return TorchEmit(call("nn.AvgPool2d", *args, **arguments))
