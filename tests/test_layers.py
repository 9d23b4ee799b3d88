"""Each layer type's inference rules against Keras's own numbers, over the registry.

For every example of every registered type, the layer is built directly in Keras (its
constructor called with the spec's hyper-parameters, independent of specc's code
generation) and its output shape and trainable/non-trainable counts compared with what
specc infers. A new layer type is covered as soon as it is registered with examples.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import pytest
from layer_examples import EXAMPLE_IDS, EXAMPLES, UNDER_TEST, load_example
from pydantic_core import PydanticUndefined

from specc.layers import LAYER_TYPES
from specc.layers.base import LayerExample
from specc.spec.load import LoadedSpec

# Wiring, and the base Layer's own keyword arguments (Keras's `trainable`).
WIRING = {"type", "name", "inputs", "expect", "trainable"}


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_every_layer_type_has_examples(type_name: str) -> None:
    assert LAYER_TYPES[type_name].examples(), (
        f"{type_name} has no examples(): add a few small configurations so every backend "
        "test covers it"
    )


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_spec_defaults_are_keras_defaults(type_name: str) -> None:
    cls = LAYER_TYPES[type_name]
    signature = inspect.signature(getattr(keras.layers, type_name).__init__)
    for argument, field in cls.model_fields.items():
        if argument in WIRING:
            continue
        assert argument in signature.parameters, f"{type_name}: Keras has no `{argument}`"
        keras_default = signature.parameters[argument].default
        if keras_default is inspect.Parameter.empty:
            # Keras requires it: the spec must too, or specc must always write it.
            assert field.default is PydanticUndefined or argument in cls.keras_positional
            continue
        ours = field.default
        if isinstance(keras_default, int) and isinstance(ours, tuple):
            keras_default = (keras_default, keras_default)
        assert ours == keras_default, f"{type_name}.{argument}: {ours!r} vs Keras {keras_default!r}"


def _keras_model(loaded: LoadedSpec) -> Any:
    """The spec's layers built by calling Keras's constructors with their hyper-parameters."""
    inputs = keras.Input(shape=loaded.spec.input.shape, name=loaded.spec.input.name)
    outputs = {loaded.spec.input.name: inputs}
    for info in loaded.info.layers:
        layer = info.layer
        arguments = {key: _keras_argument(value) for key, value in layer.hyper_parameters().items()}
        keras_layer = getattr(keras.layers, layer.type)(name=layer.name, **arguments)
        operands = [outputs[name] for name in info.input_names]
        outputs[layer.name] = keras_layer(operands if layer.arity is None else operands[0])
    return keras.Model(inputs, outputs[loaded.spec.layers[-1].name])


def _keras_argument(value: Any) -> Any:
    """An initializer with arguments in Keras's serialised form; anything else as it is."""
    if isinstance(value, dict) and "class_name" in value:
        config = {key: item for key, item in value.items() if key != "class_name"}
        return {"class_name": value["class_name"], "config": config}
    return value


def _counts(weights: list[Any]) -> int:
    total = 0
    for weight in weights:
        size = 1
        for dim in weight.shape:
            size *= int(dim)
        total += size
    return total


@pytest.mark.parametrize(("type_name", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_inference_matches_keras(type_name: str, index: int, example: LayerExample) -> None:
    loaded = load_example(type_name, example, index)
    inferred = loaded.info.by_name(UNDER_TEST)
    model = _keras_model(loaded)
    layer = model.get_layer(UNDER_TEST)
    assert tuple(layer.output.shape[1:]) == inferred.output_shape
    assert _counts(layer.trainable_weights) == inferred.params.trainable
    assert _counts(layer.non_trainable_weights) == inferred.params.non_trainable
    assert layer.count_params() == inferred.params.total
