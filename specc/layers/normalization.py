"""What BatchNormalization and LayerNormalization share: per-channel scale and offset."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pydantic import Field

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

    def affine_params(self, channels: int) -> int:
        return channels * (int(self.center) + int(self.scale))

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        # Inference: (x - mean) * inv_std * gamma + beta folds into one multiply-add.
        return 2 * elements(output_shape)
