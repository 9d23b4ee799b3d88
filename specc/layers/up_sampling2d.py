"""UpSampling2D: repeat rows and columns (`nearest`) or resize bilinearly by integer factors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from specc.layers.base import Layer, LayerExample, elements
from specc.layers.conv_math import as_pair
from specc.layers.emit import TorchEmit, UnsupportedByBackend, call, pair_or_int
from specc.layers.registry import register_layer
from specc.spec.types import IntPair, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class UpSampling2D(Layer):
    type: Literal["UpSampling2D"]
    size: IntPair = (2, 2)
    interpolation: Literal["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"] = "nearest"

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """The size from the ratio of the spatial sizes; the interpolation is not shown, so
        Keras's default, 'nearest'."""
        from specc.layers.readings import UNSHOWN, Reading, divides, square_or_pair

        if len(row.input_shapes[0]) != 3 or len(row.output_shape) != 3:
            return
        factors = [divides(out, size) for out, size in zip(row.output_shape[:2],
                                                           row.input_shapes[0][:2])]
        if None in factors:
            return
        size = square_or_pair((factors[0], factors[1]))  # type: ignore[arg-type]
        config = {} if size == 2 else {"size": size}
        yield Reading(config, {"interpolation": UNSHOWN})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        factor_h, factor_w = as_pair("size", self.size)
        return (height * factor_h, width * factor_w, channels)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        # bilinear: 4 weighted taps per output element; nearest copies.
        return 0 if self.interpolation == "nearest" else 8 * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        # TensorFlow's bilinear resize uses half-pixel centres without antialiasing when
        # enlarging, as torch's align_corners=False; its bicubic and Lanczos kernels differ.
        if self.interpolation not in ("nearest", "bilinear"):
            raise UnsupportedByBackend(
                f"interpolation={self.interpolation!r} (TensorFlow's kernel differs from "
                "torch's; use 'nearest' or 'bilinear')", field="interpolation")
        factors = pair_or_int(as_pair("size", self.size))
        arguments: dict[str, object] = {"scale_factor": factors, "mode": self.interpolation}
        return TorchEmit(call("nn.Upsample", **arguments))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"size": (3, 2)}),
            LayerExample({"size": 2, "interpolation": "bilinear"}),
            LayerExample({"size": (2, 3), "interpolation": "bilinear"}, input_shape=(4, 5, 2)),
        )
