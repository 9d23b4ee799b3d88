"""Add and Concatenate: the merge layers that make a chain a graph (residuals, branches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, elements, format_shape
from specc.layers.emit import TorchEmit, call, channel_dim
from specc.layers.registry import register_layer
from specc.spec.types import Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


class BaseMerge(Layer):
    arity: ClassVar[int | None] = None

    def checked_inputs(self, input_shapes: Sequence[Shape]) -> Sequence[Shape]:
        if len(input_shapes) < 2:
            raise LayerError(
                f"A {self.type} layer should be called on a list of at least 2 inputs. "
                f"Received: {len(input_shapes)} input(s); list them in `inputs`",
                field="inputs",
            )
        return input_shapes


@register_layer
class Add(BaseMerge):
    type: Literal["Add"]

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        first, *rest = self.checked_inputs(input_shapes)
        for shape in rest:
            if shape != first:
                raise LayerError(
                    f"inputs must all have the same shape; received {format_shape(first)} and "
                    f"{format_shape(shape)}",
                    field="inputs",
                )
        return first

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return (len(input_shapes) - 1) * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        return TorchEmit("Add()", helpers=("Add",))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}, feeders=(
                {"type": "Activation", "name": "branch_a", "activation": "tanh"},
                {"type": "Activation", "name": "branch_b", "activation": "sigmoid"},
            )),
            LayerExample({}, input_shape=(6,), feeders=(
                {"type": "Dense", "name": "branch_a", "units": 4},
                {"type": "Dense", "name": "branch_b", "units": 4},
                {"type": "Dense", "name": "branch_c", "units": 4},
            )),
        )


@register_layer
class Concatenate(BaseMerge):
    """Concatenation on the last (channel) axis, Keras's default axis=-1."""

    type: Literal["Concatenate"]

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        first, *rest = self.checked_inputs(input_shapes)
        for shape in rest:
            if len(shape) != len(first) or shape[:-1] != first[:-1]:
                raise LayerError(
                    "A `Concatenate` layer requires inputs with matching shapes except for the "
                    f"concatenation axis. Received: input_shape={[format_shape(s) for s in input_shapes]}",
                    field="inputs",
                )
        return (*first[:-1], sum(shape[-1] for shape in input_shapes))

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        return TorchEmit(call("Concatenate", dim=channel_dim(len(info.output_shape))),
                         helpers=("Concatenate",))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}, feeders=(
                {"type": "Conv2D", "name": "branch_a", "filters": 2, "kernel_size": 1},
                {"type": "Conv2D", "name": "branch_b", "filters": 5, "kernel_size": 1},
            )),
            LayerExample({}, input_shape=(6,), feeders=(
                {"type": "Dense", "name": "branch_a", "units": 3},
                {"type": "Dense", "name": "branch_b", "units": 4},
            )),
        )
