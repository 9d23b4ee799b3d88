"""Cropping2D: int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right))."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, format_shape
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.layers.zero_padding2d import PaddingSpec, sides
from specc.spec.types import Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Cropping2D(Layer):
    type: Literal["Cropping2D"]
    cropping: PaddingSpec = ((0, 0), (0, 0))

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """The size difference split evenly; an odd pixel comes off the bottom/right first,
        then the top/left (as ZeroPadding2D reads its padding)."""
        from specc.layers.readings import Reading, split_sides

        if len(row.input_shapes[0]) != 3 or len(row.output_shape) != 3:
            return
        removed = [size - out for out, size in zip(row.output_shape[:2], row.input_shapes[0][:2])]
        if min(removed) < 0:
            return
        for cropping in split_sides(removed[0], removed[1]):
            yield Reading({"cropping": cropping})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        (top, bottom), (left, right) = sides("cropping", self.cropping)
        if top + bottom >= height or left + right >= width:
            raise LayerError(
                "Values in `cropping` argument should be smaller than the corresponding spatial "
                f"dimension of the input. Received: input_shape={format_shape(input_shapes[0])}, "
                f"cropping={self.cropping}",
                field="cropping",
            )
        return (height - top - bottom, width - left - right, channels)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        (top, bottom), (left, right) = sides("cropping", self.cropping)
        return TorchEmit(call("Crop2d", top, bottom, left, right), helpers=("Crop2d",))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"cropping": 1}),
            LayerExample({"cropping": (2, 0)}),
            LayerExample({"cropping": ((0, 1), (1, 0))}),
        )
