"""ZeroPadding2D: int, (symmetric_height, symmetric_width) or ((top, bottom), (left, right))."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import Shape, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo

PaddingSpec = StrictInt | tuple[StrictInt, StrictInt] | tuple[
    tuple[StrictInt, StrictInt], tuple[StrictInt, StrictInt]
]


@register_layer
class ZeroPadding2D(Layer):
    type: Literal["ZeroPadding2D"]
    padding: PaddingSpec = (1, 1)

    def pads(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)), checked non-negative."""
        padding = self.padding
        if isinstance(padding, int):
            pads = ((padding, padding), (padding, padding))
        elif isinstance(padding[0], int):
            pads = ((padding[0], padding[0]), (padding[1], padding[1]))  # type: ignore[assignment]
        else:
            pads = padding  # type: ignore[assignment]
        if any(p < 0 for pair in pads for p in pair):
            raise LayerError(
                "Invalid value for argument `padding`. Expected non-negative values. "
                f"Received padding={self.padding}.",
                field="padding",
            )
        return pads  # type: ignore[return-value]

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
