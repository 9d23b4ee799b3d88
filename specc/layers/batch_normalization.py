"""BatchNormalization on the channel axis, with Keras's momentum and epsilon."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from specc.layers.base import LayerExample, ParamCount
from specc.layers.emit import TorchEmit, UnsupportedByBackend, WeightMap, call
from specc.layers.normalization import BaseNormalization
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


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

    def training_problem(self, input_shapes: Sequence[Shape], batch_size: int) -> str | None:
        per_example = math.prod(input_shapes[0][:-1])
        if batch_size * per_example > 1:
            return None
        return (f"normalises each channel over {batch_size * per_example} value per training "
                f"batch (a batch of {batch_size} x {per_example} position(s)); batch statistics "
                "need at least 2 (PyTorch refuses to train it, Keras divides by zero): use a "
                "batch_size of at least 2")

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        (shape,) = info.input_shapes
        if self.center != self.scale:
            raise UnsupportedByBackend(
                f"center={self.center} with scale={self.scale} (torch's BatchNorm has both "
                "gamma and beta, or neither)",
                field="center",
            )
        arguments: dict[str, object] = {
            "eps": self.epsilon,
            # Keras keeps `momentum` of the old moving average; torch weighs the new batch.
            "momentum": round(1.0 - self.momentum, 12),
        }
        if not self.center:
            arguments["affine"] = False
        # Keras normalises the last axis: torch's dim 1 for images, a transpose for steps.
        module = {1: "nn.BatchNorm1d", 2: "StepsBatchNorm1d", 3: "nn.BatchNorm2d"}[len(shape)]
        weights = [WeightMap("gamma", "weight"), WeightMap("beta", "bias")] if self.center else []
        weights += [WeightMap("moving_mean", "running_mean"),
                    WeightMap("moving_variance", "running_var")]
        return TorchEmit(call(module, shape[-1], **arguments), weights=tuple(weights))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"momentum": 0.9, "epsilon": 1e-5}, input_shape=(6,)),
            LayerExample({"center": False, "scale": False}, input_shape=(4, 4, 2)),
            LayerExample({}, input_shape=(5, 3)),
        )
