"""The spec language: the validated model of one YAML spec file.

The layer list is a discriminated union over the layer registry, so a new layer type
is part of the language (and of `specc schema`) as soon as it is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

import specc.layers  # noqa: F401  (fills the registry)
from specc.layers.base import Layer
from specc.layers.registry import LAYER_TYPES
from specc.spec.recipe import TrainRecipe
from specc.spec.types import Count, FiniteFloat, Identifier, PositiveInt, StrictStr

AnyLayer = Annotated[
    Union[tuple(LAYER_TYPES.values())],  # noqa: UP007  (built from the registry at import)
    Field(discriminator="type"),
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputSpec(_Section):
    name: Identifier = "input"
    shape: tuple[PositiveInt, ...] = Field(
        min_length=1, max_length=3,
        description="Input shape without the batch dimension, channels-last: [H, W, C].",
    )


class ModelExpect(_Section):
    total_params: Count | None = None
    trainable_params: Count | None = None
    non_trainable_params: Count | None = None


class Reference(_Section):
    """A result reached elsewhere with this architecture, to compare training against."""

    source: StrictStr
    dataset: StrictStr = "cifar10"
    test_loss: FiniteFloat | None = None
    test_accuracy: FiniteFloat | None = Field(default=None, ge=0.0, le=1.0)


class Spec(_Section):
    name: Identifier
    description: StrictStr = ""
    input: InputSpec
    layers: list[AnyLayer] = Field(min_length=1)  # type: ignore[valid-type]
    expect: ModelExpect | None = None
    train: TrainRecipe | None = None
    reference: Reference | None = None

    @model_validator(mode="after")
    def _check_graph_wiring(self, info: ValidationInfo) -> Spec:
        # The spec loader checks wiring itself, to point at the offending line.
        if (info.context or {}).get(DEFER_WIRING_CHECK):
            return self
        problem = first_wiring_problem(self)
        if problem is not None:
            raise ValueError(f"{format_wiring_path(problem.path)}: {problem.message}")
        return self

    def input_names(self, index: int) -> tuple[str, ...]:
        """The names feeding layer `index`: its `inputs`, else the previous node."""
        layer: Layer = self.layers[index]
        if layer.inputs is not None:
            return layer.inputs
        return (self.layers[index - 1].name if index else self.input.name,)


# Validation context key: set it to True to skip the wiring check (the loader runs it itself).
DEFER_WIRING_CHECK = "specc_defer_wiring_check"


@dataclass(frozen=True)
class WiringProblem:
    """A graph-wiring error and the data path of the value at fault."""

    path: tuple[str | int, ...]
    message: str


def first_wiring_problem(spec: Spec) -> WiringProblem | None:
    """The first duplicate name or dangling `inputs` entry in layer order, else the first
    layer whose output nothing reads."""
    seen = {spec.input.name}
    for index, layer in enumerate(spec.layers):
        if layer.name in seen:
            count = sum(other.name == layer.name for other in spec.layers) + (
                layer.name == spec.input.name
            )
            return WiringProblem(
                ("layers", index, "name"),
                f'The name "{layer.name}" is used {count} times in the model. '
                f"All layer names (and the input's) should be unique.",
            )
        for position, source in enumerate(layer.inputs or ()):
            if source not in seen:
                later = any(other.name == source for other in spec.layers[index:])
                reason = "a later layer; layers are listed in graph order" if later else (
                    "not the model input or an earlier layer"
                )
                return WiringProblem(
                    ("layers", index, "inputs", position),
                    f"layer {layer.name} ({layer.type}): input {source!r} is {reason}",
                )
        seen.add(layer.name)
    return _first_unread_layer(spec)


def _first_unread_layer(spec: Spec) -> WiringProblem | None:
    """Every layer but the last must feed another: Keras drops unread layers from a model."""
    read = {name for index in range(len(spec.layers)) for name in spec.input_names(index)}
    for index, layer in enumerate(spec.layers[:-1]):
        if layer.name not in read:
            return WiringProblem(
                ("layers", index),
                f"layer {layer.name!r} ({layer.type}): its output is never used (only the last "
                "layer is the model's output); list it in a later layer's `inputs` or remove it",
            )
    return None


def format_wiring_path(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]
