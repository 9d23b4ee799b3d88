"""LayerNormalization over the last axis (Keras's default axis=-1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from specc.layers.base import LayerExample, ParamCount
from specc.layers.emit import Code, TorchEmit, WeightMap, call
from specc.layers.normalization import BaseNormalization
from specc.layers.registry import register_layer
from specc.spec.types import Shape

if TYPE_CHECKING:
    from specc.graph import LayerInfo


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

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        (shape,) = info.input_shapes
        arguments: dict[str, object] = {"eps": self.epsilon}
        if not (self.center or self.scale):
            arguments["elementwise_affine"] = False
        elif not self.center:
            arguments["bias"] = False
        module = "ChannelsLastLayerNorm" if len(shape) == 3 else "nn.LayerNorm"
        constructor = call(module, shape[-1], **arguments)
        helpers: tuple[str, ...] = ()
        if self.center and not self.scale:
            # torch's LayerNorm has no beta without gamma: drop gamma after building it.
            constructor = call("partial_affine", Code(constructor), center=True, scale=False)
            helpers = ("partial_affine",)
        weights = [WeightMap("gamma", "weight")] if self.scale else []
        weights += [WeightMap("beta", "bias")] if self.center else []
        return TorchEmit(constructor, helpers=helpers, weights=tuple(weights))

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}, input_shape=(8,)),
            LayerExample({"epsilon": 1e-6}),
            LayerExample({"center": False}, input_shape=(3, 5)),
            LayerExample({"center": False, "scale": False}, input_shape=(6,)),
            LayerExample({"scale": False}, input_shape=(3, 3, 4)),
            LayerExample({"scale": False}, input_shape=(6,)),
        )
