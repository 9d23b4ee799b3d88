"""Dropout: identity at inference, drops `rate` of the units in training."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import field_validator

from specc.layers.base import Layer, LayerExample
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Dropout(Layer):
    type: Literal["Dropout"]
    rate: FiniteFloat

    keras_positional: ClassVar[tuple[str, ...]] = ("rate",)

    @field_validator("rate")
    @classmethod
    def _rate_in_unit_interval(cls, rate: float) -> float:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate}"
            )
        return rate

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        from specc.layers.readings import UNSHOWN, Reading

        yield Reading({"rate": 0.5}, {"rate": UNSHOWN})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.single_input(input_shapes)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        return TorchEmit(call("nn.Dropout", self.rate))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (LayerExample({"rate": 0.5}), LayerExample({"rate": 0.0}, input_shape=(4,)))
