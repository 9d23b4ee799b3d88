"""What BatchNormalization and LayerNormalization share: per-channel scale and offset."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from specc.errors import LayerError
from specc.layers.base import Layer, elements
from specc.spec.types import FiniteFloat, Shape, StrictBool

if TYPE_CHECKING:
    from specc.layers.readings import PrintedRow, Reading


class BaseNormalization(Layer):
    """Normalisation over the last (channel) axis, with optional gamma (scale) and beta (center)."""

    epsilon: FiniteFloat = Field(default=1e-3, gt=0.0)
    center: StrictBool = True
    scale: StrictBool = True

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return self.single_input(input_shapes)

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """gamma and beta from the count (both, neither, then one of them); the last axis."""
        from specc.layers.readings import Reading

        for center, scale in ((True, True), (False, False), (True, False), (False, True)):
            yield Reading({key: False for key, on in (("center", center), ("scale", scale))
                           if not on})

    keras_config_read: ClassVar[tuple[str, ...]] = ("axis",)

    @classmethod
    def from_keras_config(
        cls, config: dict[str, Any], input_shapes: Sequence[Shape]
    ) -> dict[str, Any]:
        axis = config.get("axis", -1)
        axes = axis if isinstance(axis, list | tuple) else [axis]
        rank = len(input_shapes[0]) + 1
        if [a % rank for a in axes] != [rank - 1]:
            raise LayerError(f"normalises axis {axis}; specc's {cls.type_name()} normalises the "
                             "last axis only", field="axis")
        return super().from_keras_config(config, input_shapes)

    def affine_params(self, channels: int) -> int:
        return channels * (int(self.center) + int(self.scale))

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        # Inference: (x - mean) * inv_std * gamma + beta folds into one multiply-add.
        return 2 * elements(output_shape)
