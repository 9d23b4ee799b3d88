"""BatchNormalization on the channel axis, with Keras's momentum and epsilon."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from specc.layers.base import ParamCount
from specc.layers.normalization import BaseNormalization
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape


@register_layer
class BatchNormalization(BaseNormalization):
    type: Literal["BatchNormalization"]
    momentum: FiniteFloat = Field(default=0.99, ge=0.0, le=1.0)

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        channels = input_shapes[0][-1]
        affine = self.affine_params(channels)
        # moving_mean and moving_variance are weights Keras counts as non-trainable.
        arrays = int(self.center) + int(self.scale) + 2
        return ParamCount(
            trainable=affine, non_trainable=2 * channels, formula=f"{arrays}*{channels}"
        )
