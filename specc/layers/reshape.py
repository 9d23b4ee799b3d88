"""Reshape to `target_shape` (batch excluded; one -1 may stand for the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, field_validator

from specc.errors import LayerError
from specc.layers.base import Layer, elements, format_shape
from specc.layers.registry import register_layer
from specc.spec.types import MAX_DIM, Shape, StrictInt


@register_layer
class Reshape(Layer):
    type: Literal["Reshape"]
    target_shape: tuple[StrictInt, ...] = Field(min_length=1, max_length=3)

    @field_validator("target_shape")
    @classmethod
    def _dimensions(cls, target: tuple[int, ...]) -> tuple[int, ...]:
        if any(d == 0 or d < -1 or d > MAX_DIM for d in target) or target.count(-1) > 1:
            raise ValueError(
                "Invalid value for argument `target_shape`. Expected positive dimensions and at "
                f"most one -1. Received target_shape={target}."
            )
        return target

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
