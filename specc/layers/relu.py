"""ReLU with Keras's max_value, negative_slope and threshold."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationInfo, field_validator

from specc.layers.base import Layer, LayerExample, elements
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class ReLU(Layer):
    """f(x) = max_value for x >= max_value; x for threshold <= x < max_value;
    negative_slope * (x - threshold) otherwise."""

    type: Literal["ReLU"]
    max_value: FiniteFloat | None = None
    negative_slope: FiniteFloat = 0.0
    threshold: FiniteFloat = 0.0

    @field_validator("max_value", "negative_slope", "threshold")
    @classmethod
    def _not_negative(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and value < 0.0:
            raise ValueError(
                f"{info.field_name} of a ReLU layer cannot be a negative value. "
                f"Received: {info.field_name}={value}"
            )
        return value

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        from specc.layers.readings import UNSHOWN, Reading

        yield Reading({}, {"max_value": UNSHOWN})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.single_input(input_shapes)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return 2 * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        if self.threshold == 0.0:
            if self.negative_slope == 0.0 and self.max_value is None:
                return TorchEmit("nn.ReLU()")
            if self.negative_slope == 0.0 and self.max_value == 6.0:
                return TorchEmit("nn.ReLU6()")
            if self.max_value is None:
                return TorchEmit(call("nn.LeakyReLU", self.negative_slope))
        arguments = {
            name: value
            for name, value, default in (
                ("max_value", self.max_value, None),
                ("negative_slope", self.negative_slope, 0.0),
                ("threshold", self.threshold, 0.0),
            )
            if value != default
        }
        return TorchEmit(call("KerasReLU", **arguments), helpers=("KerasReLU",))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"max_value": 6.0}),
            LayerExample({"negative_slope": 0.1}),
            LayerExample({"max_value": 0.5, "negative_slope": 0.2, "threshold": 0.1},
                         input_shape=(9,)),
            LayerExample({"threshold": 0.3}),
            LayerExample({"max_value": 0.4, "threshold": 0.2}),
        )
