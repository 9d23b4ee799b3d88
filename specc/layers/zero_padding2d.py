"""ZeroPadding2D: int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right))."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import Shape, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading

# An int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right)).
PaddingSpec = StrictInt | tuple[StrictInt, StrictInt] | tuple[
    tuple[StrictInt, StrictInt], tuple[StrictInt, StrictInt]
]


def sides(argument: str, value: PaddingSpec) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) from any of the three forms, checked non-negative."""
    if isinstance(value, int):
        pairs = ((value, value), (value, value))
    elif isinstance(value[0], int):
        pairs = ((value[0], value[0]), (value[1], value[1]))  # type: ignore[assignment]
    else:
        pairs = value  # type: ignore[assignment]
    if any(p < 0 for pair in pairs for p in pair):
        raise LayerError(
            f"Invalid value for argument `{argument}`. Expected non-negative values. "
            f"Received {argument}={value}.",
            field=argument,
        )
    return pairs  # type: ignore[return-value]


@register_layer
class ZeroPadding2D(Layer):
    type: Literal["ZeroPadding2D"]
    padding: PaddingSpec = (1, 1)

    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)), checked non-negative."""
        return sides("padding", self.padding)

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """The size difference split evenly; an odd pixel goes after (bottom/right), as
        keras.applications pads before a strided 'valid' convolution."""
        from specc.layers.readings import Reading, split_sides

        if len(row.input_shapes[0]) != 3 or len(row.output_shape) != 3:
            return
        extra = [out - size for out, size in zip(row.output_shape[:2], row.input_shapes[0][:2])]
        if min(extra) < 0:
            return
        for padding in split_sides(extra[0], extra[1]):
            yield Reading({"padding": padding})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        height, width, channels = self.single_input(input_shapes, rank=3)
        (top, bottom), (left, right) = self.pads()
        return (height + top + bottom, width + left + right, channels)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        (top, bottom), (left, right) = self.pads()
        pads = (left, right, top, bottom)
        return TorchEmit(call("nn.ZeroPad2d", pads[0] if len(set(pads)) == 1 else pads))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"padding": 2}),
            LayerExample({"padding": (1, 0)}),
            LayerExample({"padding": ((0, 1), (2, 3))}),
        )
