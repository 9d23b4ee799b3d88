"""The merge layers that make a chain a graph: element-wise Add, Subtract, Multiply, Average,
Maximum and Minimum with Keras's broadcasting, and Concatenate on any axis.

Keras's broadcasting (``keras.src.layers.merging.base_merge.Merge``): shapes are aligned on
their last axes (a lower-rank input gains axes right after the batch axis) and a dimension
of 1 stretches to the other's size, so an ``(H, W, C)`` map times a ``(1, 1, C)`` gate is a
squeeze-and-excitation block.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, elements, format_shape
from specc.layers.emit import TorchEmit, call, torch_dim
from specc.layers.registry import register_layer
from specc.spec.types import Shape, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


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


def broadcast_shapes(first: Shape, second: Shape) -> Shape:
    """Keras's `_compute_elemwise_op_output_shape`: align the last axes, 1 stretches."""
    longer, shorter = (first, second) if len(first) >= len(second) else (second, first)
    leading = longer[: len(longer) - len(shorter)]
    aligned = []
    for i, j in zip(longer[len(leading):], shorter, strict=True):
        if i != j and 1 not in (i, j):
            raise LayerError(
                f"Inputs have incompatible shapes. Received shapes {format_shape(first)} and "
                f"{format_shape(second)}",
                field="inputs",
            )
        aligned.append(j if i == 1 else i)
    return (*leading, *aligned)


class ElementwiseMerge(BaseMerge):
    """A merge applying one element-wise operation across its inputs, broadcasting as Keras."""

    commutative: ClassVar[bool] = True
    # FLOPs per output element and per input after the first.
    flops_per_operand: ClassVar[int] = 1

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        first, *rest = self.checked_inputs(input_shapes)
        shape = first
        for other in rest:
            shape = broadcast_shapes(shape, other)
        return shape

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return self.flops_per_operand * (len(input_shapes) - 1) * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        return TorchEmit(f"{self.type}()", helpers=("Merge", self.type))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}, feeders=(
                {"type": "Activation", "name": "branch_a", "activation": "tanh"},
                {"type": "Activation", "name": "branch_b", "activation": "sigmoid"},
            )),
            # A squeeze-and-excitation gate: (7, 7, 3) with (1, 1, 3).
            LayerExample({}, feeders=(
                {"type": "Activation", "name": "branch_a", "activation": "tanh"},
                {"type": "GlobalAveragePooling2D", "name": "branch_b", "keepdims": True},
            )),
            # A lower-rank input gains axes after the batch axis: (7, 7, 3) with (3,).
            LayerExample({}, feeders=(
                {"type": "Activation", "name": "branch_a", "activation": "tanh"},
                {"type": "GlobalMaxPooling2D", "name": "branch_b"},
            )),
            LayerExample({}, input_shape=(5, 4), feeders=(
                {"type": "Dense", "name": "branch_a", "units": 1},
                {"type": "Dense", "name": "branch_b", "units": 3},
            )),
            *cls.more_examples(),
        )

    @classmethod
    def more_examples(cls) -> tuple[LayerExample, ...]:
        """Three inputs, for the merges that take any number."""
        return (
            LayerExample({}, input_shape=(6,), feeders=(
                {"type": "Dense", "name": "branch_a", "units": 4},
                {"type": "Dense", "name": "branch_b", "units": 4},
                {"type": "Dense", "name": "branch_c", "units": 4},
            )),
        )


@register_layer
class Add(ElementwiseMerge):
    type: Literal["Add"]


@register_layer
class Subtract(ElementwiseMerge):
    type: Literal["Subtract"]
    commutative: ClassVar[bool] = False

    def checked_inputs(self, input_shapes: Sequence[Shape]) -> Sequence[Shape]:
        if len(input_shapes) != 2:
            raise LayerError(
                "A `Subtract` layer should be called on exactly 2 inputs. "
                f"Received: {len(input_shapes)} input(s); list them in `inputs`",
                field="inputs",
            )
        return input_shapes

    @classmethod
    def more_examples(cls) -> tuple[LayerExample, ...]:
        return ()


@register_layer
class Multiply(ElementwiseMerge):
    type: Literal["Multiply"]


@register_layer
class Average(ElementwiseMerge):
    type: Literal["Average"]

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return len(input_shapes) * elements(output_shape)  # the sums, then one division


@register_layer
class Maximum(ElementwiseMerge):
    type: Literal["Maximum"]


@register_layer
class Minimum(ElementwiseMerge):
    type: Literal["Minimum"]


@register_layer
class Concatenate(BaseMerge):
    """Concatenation on `axis` (Keras counts the batch axis: -1 is the last, 1 the first)."""

    type: Literal["Concatenate"]
    axis: StrictInt = -1

    def spec_axis(self, rank: int) -> int:
        """The axis as an index into the spec's shape (batch left out)."""
        if self.axis == 0 or not -rank <= self.axis <= rank:
            raise LayerError(
                f"Invalid value for argument `axis`. Expected an axis of the inputs other than "
                f"the batch axis 0, from -{rank} to {rank}. Received axis={self.axis}",
                field="axis",
            )
        return self.axis - 1 if self.axis > 0 else rank + self.axis

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """The axis whose size is the inputs' sizes added up, the others matching: the last
        axis (Keras's default) first, then from the first axis on, as people write it (1, 2,
        ...). Where the inputs' shapes tell several axes apart, only one fits."""
        from specc.layers.readings import Reading

        rank = len(row.output_shape)
        if not row.input_shapes or any(len(shape) != rank for shape in row.input_shapes):
            return
        for axis in (rank - 1, *range(rank - 1)):
            if sum(shape[axis] for shape in row.input_shapes) == row.output_shape[axis]:
                yield Reading({} if axis == rank - 1 else {"axis": axis + 1})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        first, *rest = self.checked_inputs(input_shapes)
        axis = self.spec_axis(len(first))
        for shape in rest:
            others_match = all(a == b for i, (a, b) in enumerate(zip(shape, first)) if i != axis)
            if len(shape) != len(first) or not others_match:
                raise LayerError(
                    "A `Concatenate` layer requires inputs with matching shapes except for the "
                    f"concatenation axis. Received: input_shape={[format_shape(s) for s in input_shapes]}",
                    field="inputs",
                )
        return (*first[:axis], sum(shape[axis] for shape in input_shapes), *first[axis + 1:])

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        rank = len(info.output_shape)
        return TorchEmit(call("Concatenate", dim=torch_dim(self.spec_axis(rank), rank)),
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
            LayerExample({"axis": 1}, feeders=(
                {"type": "Conv2D", "name": "branch_a", "filters": 3, "kernel_size": 1},
                {"type": "Conv2D", "name": "branch_b", "filters": 3, "kernel_size": [3, 1]},
            )),
            LayerExample({"axis": -2}, feeders=(
                {"type": "Conv2D", "name": "branch_a", "filters": 3, "kernel_size": 1},
                {"type": "Conv2D", "name": "branch_b", "filters": 3, "kernel_size": [1, 3]},
            )),
            LayerExample({"axis": 1}, input_shape=(4, 3), feeders=(
                {"type": "Dense", "name": "branch_a", "units": 3},
                {"type": "Activation", "name": "branch_b", "activation": "tanh"},
            )),
        )
