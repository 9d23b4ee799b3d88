"""Inference over the graph of named layers: every node's shapes, parameters and FLOPs.

Pure Python on the validated spec; no framework is imported here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from specc.errors import LayerError
from specc.layers.base import Layer, ParamCount
from specc.spec.model import Spec
from specc.spec.types import Shape


class LayerInferenceError(Exception):
    """A layer's rules refused its inputs; `field` names the argument at fault, if any."""

    def __init__(self, index: int, layer: Layer, error: LayerError) -> None:
        super().__init__(f"layer {layer.name!r} ({layer.type}): {error.message}")
        self.index = index
        self.layer = layer
        self.field = error.field
        self.message = error.message


@dataclass(frozen=True)
class LayerInfo:
    index: int
    layer: Layer
    input_names: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: ParamCount
    flops: int


@dataclass(frozen=True)
class ModelInfo:
    spec: Spec
    layers: tuple[LayerInfo, ...]

    @property
    def trainable_params(self) -> int:
        return sum(info.params.trainable for info in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(info.params.non_trainable for info in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def flops(self) -> int:
        return sum(info.flops for info in self.layers)

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape

    def by_name(self, name: str) -> LayerInfo:
        return next(info for info in self.layers if info.layer.name == name)


def infer(spec: Spec) -> ModelInfo:
    """Walk the layers in order, giving each its input shapes, output shape, params and FLOPs."""
    shapes: dict[str, Shape] = {spec.input.name: tuple(spec.input.shape)}
    infos: list[LayerInfo] = []
    for index, layer in enumerate(spec.layers):
        names = spec.input_names(index)
        input_shapes = tuple(shapes[name] for name in names)
        try:
            if layer.arity is not None and len(input_shapes) != layer.arity:
                raise LayerError(
                    f"takes {layer.arity} input(s); received {len(input_shapes)}", field="inputs"
                )
            output = layer.output_shape(input_shapes)
            params = layer.counted_params(input_shapes)
            flops = layer.flops(input_shapes, output)
        except LayerError as error:
            raise LayerInferenceError(index, layer, error) from None
        shapes[layer.name] = output
        infos.append(LayerInfo(index, layer, names, input_shapes, output, params, flops))
    return ModelInfo(spec, tuple(infos))


def graph_signature(spec: Spec) -> Counter[int]:
    """Each layer as its type and what it reads, recursively (inputs in any order where the
    layer is commutative): equal, within one process, for two specs of the same graph
    whatever their layers' names and order, as an imported one and the model's own."""
    node = {spec.input.name: hash(("input", tuple(spec.input.shape)))}
    for index, layer in enumerate(spec.layers):
        sources = [node[name] for name in spec.input_names(index)]
        if layer.commutative:
            sources.sort()
        node[layer.name] = hash((layer.type, tuple(sources)))
    return Counter(node[layer.name] for layer in spec.layers)
