"""Activation: an element-wise activation function by Keras name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from specc.layers.activations import ACTIVATION_FLOPS, ActivationName
from specc.layers.base import Layer, LayerExample, elements
from specc.layers.emit import TorchEmit, torch_activation_module
from specc.layers.registry import register_layer
from specc.spec.types import Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Activation(Layer):
    type: Literal["Activation"]
    activation: ActivationName

    keras_positional: ClassVar[tuple[str, ...]] = ("activation",)

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """relu, or softmax as the last layer of a classifier (a vector of several classes)."""
        from specc.layers.readings import UNSHOWN, Reading

        classifier = row.is_last and len(row.output_shape) == 1 and row.output_shape[0] > 1
        if classifier:
            yield Reading({"activation": "softmax"},
                          {"activation": f"{UNSHOWN}; the last layer of a classifier"})
        else:
            yield Reading({"activation": "relu"}, {"activation": UNSHOWN})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.single_input(input_shapes)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return ACTIVATION_FLOPS[self.activation] * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        return TorchEmit(torch_activation_module(self.activation, len(info.output_shape)))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        # Every Keras activation, on an image and on a vector (softmax's axis differs in torch).
        names = ActivationName.__args__  # type: ignore[attr-defined]
        return tuple(LayerExample({"activation": name}, input_shape=(3, 3, 4)) for name in names) + (
            LayerExample({"activation": "softmax"}, input_shape=(7,)),
            LayerExample({"activation": "softmax"}, input_shape=(3, 5)),
        )
