"""LayerNormalization over the last axis (Keras's default axis=-1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.base import ParamCount
from specc.layers.normalization import BaseNormalization
from specc.layers.registry import register_layer
from specc.spec.types import Shape


@register_layer
class LayerNormalization(BaseNormalization):
    type: Literal["LayerNormalization"]

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        channels = input_shapes[0][-1]
        arrays = int(self.center) + int(self.scale)
        return ParamCount(trainable=self.affine_params(channels), formula=f"{arrays}*{channels}")

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        # mean, variance, normalise, scale and shift: about 5 operations per element.
        return 5 * super().flops(input_shapes, output_shape) // 2
