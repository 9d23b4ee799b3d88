"""GlobalAveragePooling2D and GlobalMaxPooling2D over height and width."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from specc.layers.base import Layer, LayerExample, elements
from specc.layers.emit import TorchEmit
from specc.layers.registry import register_layer
from specc.spec.types import Shape, StrictBool

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


class BaseGlobalPooling2D(Layer):
    keepdims: StrictBool = False

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        from specc.layers.readings import Reading

        yield Reading({"keepdims": True} if len(row.output_shape) == 3 else {})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        _, _, channels = self.single_input(input_shapes, rank=3)
        return (1, 1, channels) if self.keepdims else (channels,)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return elements(input_shapes[0])

    torch_pool: ClassVar[str] = ""  # the adaptive pooling module to size 1

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        pool = f"{self.torch_pool}(1)"
        if self.keepdims:
            return TorchEmit(pool)
        return TorchEmit(f"nn.Sequential({pool}, nn.Flatten())")

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (LayerExample({}), LayerExample({"keepdims": True}, input_shape=(4, 5, 3)))


@register_layer
class GlobalAveragePooling2D(BaseGlobalPooling2D):
    type: Literal["GlobalAveragePooling2D"]

    torch_pool: ClassVar[str] = "nn.AdaptiveAvgPool2d"


@register_layer
class GlobalMaxPooling2D(BaseGlobalPooling2D):
    type: Literal["GlobalMaxPooling2D"]

    torch_pool: ClassVar[str] = "nn.AdaptiveMaxPool2d"
