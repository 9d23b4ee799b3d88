"""The spec language: the validated model of one YAML spec file.

The layer list is a discriminated union over the layer registry, so a new layer type
is part of the language (and of `specc schema`) as soon as it is registered.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
    def _check_graph_wiring(self) -> Spec:
        seen = {self.input.name}
        for index, layer in enumerate(self.layers):
            if layer.name in seen:
                raise ValueError(
                    f"layers[{index}]: duplicate name {layer.name!r}; every layer (and the input) "
                    f"needs a unique name"
                )
            for source in layer.inputs or ():
                if source not in seen:
                    raise ValueError(
                        f"layers[{index}] ({layer.name}): input {source!r} is not the input or an "
                        f"earlier layer"
                    )
            seen.add(layer.name)
        return self

    def input_names(self, index: int) -> tuple[str, ...]:
        """The names feeding layer `index`: its `inputs`, else the previous node."""
        layer: Layer = self.layers[index]
        if layer.inputs is not None:
            return layer.inputs
        return (self.layers[index - 1].name if index else self.input.name,)
