"""BatchNormalization on the channel axis, with Keras's momentum and epsilon."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from specc.layers.base import LayerExample, ParamCount
from specc.layers.emit import Code, TorchEmit, WeightMap, call
from specc.layers.normalization import BaseNormalization
from specc.layers.registry import register_layer
from specc.spec.types import FiniteFloat, Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


@register_layer
class BatchNormalization(BaseNormalization):
    type: Literal["BatchNormalization"]
    momentum: FiniteFloat = Field(default=0.99, ge=0.0, le=1.0)

    frozen_runs_in_inference: ClassVar[bool] = True

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
        arguments: dict[str, object] = {
            "eps": self.epsilon,
            # Keras keeps `momentum` of the old moving average; torch weighs the new batch.
            "momentum": round(1.0 - self.momentum, 12),
        }
        if not (self.center or self.scale):
            arguments["affine"] = False
        # Keras normalises the last axis: torch's dim 1 for images, a transpose for steps.
        module = {1: "nn.BatchNorm1d", 2: "StepsBatchNorm1d", 3: "nn.BatchNorm2d"}[len(shape)]
        constructor = call(module, shape[-1], **arguments)
        if self.center != self.scale:
            # torch's BatchNorm has gamma and beta or neither: drop the one Keras lacks.
            constructor = call("partial_affine", Code(constructor), center=self.center,
                               scale=self.scale)
        weights = [WeightMap("gamma", "weight")] if self.scale else []
        weights += [WeightMap("beta", "bias")] if self.center else []
        weights += [WeightMap("moving_mean", "running_mean"),
                    WeightMap("moving_variance", "running_var")]
        return TorchEmit(constructor, helpers=("partial_affine",) if self.center != self.scale
                         else (), weights=tuple(weights))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"momentum": 0.9, "epsilon": 1e-5}, input_shape=(6,)),
            LayerExample({"center": False, "scale": False}, input_shape=(4, 4, 2)),
            LayerExample({"center": True, "scale": False}, input_shape=(4, 4, 3)),
            LayerExample({"center": False, "scale": True}, input_shape=(4, 4, 3)),
            LayerExample({"scale": False}, input_shape=(5,)),
            LayerExample({"center": False}, input_shape=(3, 4)),
            LayerExample({}, input_shape=(5, 3)),
            LayerExample({"trainable": False}),
        )
