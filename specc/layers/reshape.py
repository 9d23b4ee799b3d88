"""Reshape to `target_shape` (batch excluded; one -1 may stand for the rest)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, elements, format_shape
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import MAX_DIM, Shape, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Reshape(Layer):
    type: Literal["Reshape"]
    target_shape: tuple[StrictInt, ...] = Field(min_length=1, max_length=3)

    keras_positional: ClassVar[tuple[str, ...]] = ("target_shape",)

    @field_validator("target_shape")
    @classmethod
    def _dimensions(cls, target: tuple[int, ...]) -> tuple[int, ...]:
        if any(d == 0 or d < -1 or d > MAX_DIM for d in target) or target.count(-1) > 1:
            raise ValueError(
                "Invalid value for argument `target_shape`. Expected positive dimensions and at "
                f"most one -1. Received target_shape={target}."
            )
        return target

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        from specc.layers.readings import Reading

        yield Reading({"target_shape": tuple(row.output_shape)})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        size = elements(self.single_input(input_shapes))
        known = elements(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if size % known:
                raise self._mismatch(input_shapes[0])
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise self._mismatch(input_shapes[0])
        return self.target_shape

    def _mismatch(self, shape: Shape) -> LayerError:
        return LayerError(
            f"cannot reshape an input of shape {format_shape(shape)} ({elements(shape)} values) "
            f"to target_shape={list(self.target_shape)}",
            field="target_shape",
        )

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        # The resolved shape (no -1), in Keras's channels-last order.
        return TorchEmit(call("Reshape", tuple(info.output_shape)), helpers=("Reshape",))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"target_shape": (9, 3)}, input_shape=(3, 3, 3)),
            LayerExample({"target_shape": (2, -1, 4)}, input_shape=(16,)),
            LayerExample({"target_shape": (6, 2, 2)}, input_shape=(2, 4, 3)),
        )
