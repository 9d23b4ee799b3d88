"""Flatten: every axis but the batch into one, in channels-last order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from specc.layers.base import Layer, elements
from specc.layers.registry import register_layer
from specc.spec.types import Shape


@register_layer
class Flatten(Layer):
    type: Literal["Flatten"]

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        return (elements(self.single_input(input_shapes)),)
