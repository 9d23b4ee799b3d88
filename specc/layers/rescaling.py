"""Rescaling: `x * scale + offset`, with scalars or per-channel lists (the last axis)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, elements
from specc.layers.emit import TorchEmit, call
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading

# A scalar, or one value per channel (Keras broadcasts a list over the last axis).
ScalarOrChannels = FiniteFloat | tuple[FiniteFloat, ...]


def check_per_channel(argument: str, value: ScalarOrChannels, shape: Shape) -> None:
    """A per-channel list must broadcast over the last axis: 1 value or one per channel."""
    if isinstance(value, tuple) and len(value) not in (1, shape[-1]):
        raise LayerError(
            f"Invalid value for argument `{argument}`. Expected a scalar or one value per "
            f"channel ({shape[-1]}). Received {len(value)} values",
            field=argument,
        )


@register_layer
class Rescaling(Layer):
    type: Literal["Rescaling"]
    scale: ScalarOrChannels
    offset: ScalarOrChannels = 0.0

    keras_positional: ClassVar[tuple[str, ...]] = ("scale",)

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """A summary shows neither the scale nor the offset (no weights, the same shape):
        the usual image rescaling, 1/255 with offset 0, is a stated guess."""
        from specc.layers.readings import UNSHOWN, Reading

        yield Reading({"scale": 1.0 / 255}, {"scale": UNSHOWN, "offset": UNSHOWN})

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        shape = self.single_input(input_shapes)
        check_per_channel("scale", self.scale, shape)
        check_per_channel("offset", self.offset, shape)
        return shape

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return 2 * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        arguments: dict[str, object] = {} if self.offset == 0.0 else {"offset": self.offset}
        if len(info.output_shape) == 3:
            arguments["channels_first"] = True
        return TorchEmit(call("Rescaling", self.scale, **arguments),
                         helpers=("keras_constant", "Rescaling"))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"scale": 1.0 / 255}),
            LayerExample({"scale": 1.0 / 127.5, "offset": -1.0}, input_shape=(5,)),
            LayerExample({"scale": (0.5, 2.0, -1.0), "offset": (0.1, 0.2, 0.3)}),
            LayerExample({"scale": (2.0,), "offset": (0.5, 0.25)}, input_shape=(3, 2)),
        )
