"""Flatten: every axis but the batch into one, in channels-last order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from specc.layers.base import Layer, LayerExample, elements
from specc.layers.emit import TorchEmit
from specc.layers.registry import register_layer
from specc.spec.types import Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


@register_layer
class Flatten(Layer):
    type: Literal["Flatten"]

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return (elements(self.single_input(input_shapes)),)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        if len(info.input_shapes[0]) == 3:  # NCHW: flatten in Keras's (H, W, C) order
            return TorchEmit("ChannelsLastFlatten()", helpers=("ChannelsLastFlatten",))
        return TorchEmit("nn.Flatten()")

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (LayerExample({}), LayerExample({}, input_shape=(3, 4)))
