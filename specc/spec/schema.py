"""The JSON Schema of the spec language, for editors (VS Code's YAML extension and others).

pydantic's schema of :class:`Spec` is completed here with what an editor needs to help:
the draft it follows, a title, descriptions for Keras's arguments where the layer modules
give none, and the identifier pattern of layer names.
"""

from __future__ import annotations

from typing import Any

from specc.spec.model import Spec

JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

# Keras's own one-line descriptions of its common arguments.
KERAS_ARGUMENTS: dict[str, str] = {
    "type": "The Keras layer class.",
    "filters": "Dimension of the output space (the number of filters in the convolution).",
    "kernel_size": "Size of the convolution window: an int or [height, width].",
    "strides": "Stride of the window: an int or [height, width].",
    "padding": "'valid' (no padding) or 'same' (pad so that output = ceil(input / strides)).",
    "dilation_rate": "Dilation rate of a dilated convolution: an int or [height, width].",
    "groups": "Number of groups the input channels are split into (grouped convolution).",
    "activation": "Activation applied to the output; null for none (linear).",
    "use_bias": "Whether the layer has a bias vector.",
    "kernel_initializer": "Initializer of the kernel weights.",
    "bias_initializer": "Initializer of the bias vector.",
    "depthwise_initializer": "Initializer of the depthwise kernel.",
    "pointwise_initializer": "Initializer of the pointwise kernel.",
    "depth_multiplier": "Output channels per input channel of the depthwise step.",
    "units": "Dimensionality of the output space.",
    "rate": "Fraction of the input units to drop, in [0, 1).",
    "pool_size": "Size of the pooling window: an int or [height, width].",
    "axis": "The axis to normalize or concatenate along.",
    "momentum": "Momentum of the moving average.",
    "epsilon": "Small float added to the variance to avoid dividing by zero.",
    "center": "Whether to add the offset beta.",
    "scale": "Whether to multiply by gamma.",
    "keepdims": "Whether to keep the spatial dimensions (as size 1).",
    "target_shape": "Target shape, without the batch dimension.",
    "max_value": "Largest output value (null: unbounded).",
    "negative_slope": "Slope for inputs below the threshold.",
    "threshold": "Inputs below it are set to zero (or scaled by negative_slope).",
    "data_format": "Only 'channels_last' is supported.",
    "expect": "What this layer must produce; `specc validate` checks it.",
}

SPEC_FIELDS: dict[str, str] = {
    "name": "Model name: an ASCII Python identifier; names the generated files.",
    "description": "Free text describing the model.",
    "input": "The model input: its shape without the batch dimension, channels-last.",
    "layers": "The layers in graph order; each feeds the next unless it names `inputs`.",
    "expect": "Model totals `specc validate` checks: total, trainable, non-trainable params.",
    "train": "The training recipe used by `specc train`.",
    "reference": "A result reached elsewhere with this architecture, for comparison.",
}


def spec_json_schema() -> dict[str, Any]:
    """The completed JSON Schema of a spec file."""
    schema = Spec.model_json_schema()
    schema = {
        "$schema": JSON_SCHEMA_DRAFT,
        "title": "specc model spec",
        "description": "A declarative model spec: a layer table with Keras semantics, checked "
        "by `specc validate` and compiled to Keras and PyTorch by `specc build`.",
        **{key: value for key, value in schema.items() if key not in {"title", "description"}},
    }
    for name, text in SPEC_FIELDS.items():
        schema["properties"].get(name, {}).setdefault("description", text)
    for definition in schema.get("$defs", {}).values():
        _complete_properties(definition)
    _complete_properties(schema)
    return schema


def _complete_properties(definition: dict[str, Any]) -> None:
    for name, prop in definition.get("properties", {}).items():
        if name in KERAS_ARGUMENTS:
            prop.setdefault("description", KERAS_ARGUMENTS[name])
        if name == "name" and prop.get("type") == "string":
            prop.update(pattern=IDENTIFIER_PATTERN, maxLength=64)
        if name == "inputs":
            for option in prop.get("anyOf", []):
                if option.get("type") == "array":
                    option["items"].update(pattern=IDENTIFIER_PATTERN, maxLength=64)
