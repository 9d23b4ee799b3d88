"""Dropout: identity at inference, drops `rate` of the units in training.

`noise_shape` (Keras's, batch axis first) draws one keep-or-drop per cell of that shape and
broadcasts it: `[null, 1, 1, 1]` drops whole examples, as the EfficientNets' stochastic
depth does. `null` takes the input's size on that axis.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import field_validator

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, format_shape
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Dropout(Layer):
    type: Literal["Dropout"]
    rate: FiniteFloat
    noise_shape: tuple[StrictInt | None, ...] | None = None

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
        shape = self.single_input(input_shapes)
        if self.noise_shape is not None:
            dims = (None, *shape)
            fits = len(self.noise_shape) == len(dims) and all(
                noise in (None, 1, dim) for noise, dim in zip(self.noise_shape, dims, strict=True)
            )
            if not fits:
                raise LayerError(
                    "Invalid value for argument `noise_shape`. Expected one entry per input axis, "
                    f"batch first, each null, 1 or the input's size {format_shape(shape)}. "
                    f"Received noise_shape={list(self.noise_shape)}",
                    field="noise_shape",
                )
        return shape

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        if self.noise_shape is None:
            return TorchEmit(call("nn.Dropout", self.rate))
        noise = self.noise_shape
        if len(noise) == 4:  # NHWC -> NCHW
            noise = (noise[0], noise[3], noise[1], noise[2])
        return TorchEmit(call("NoiseShapeDropout", self.rate, noise),
                         helpers=("NoiseShapeDropout",))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"rate": 0.5}),
            LayerExample({"rate": 0.0}, input_shape=(4,)),
            LayerExample({"rate": 0.2, "noise_shape": (None, 1, 1, 1)}),
            LayerExample({"rate": 0.3, "noise_shape": (None, 1, 3)}, input_shape=(2, 3)),
        )
