"""Every registered layer type's examples, as small loadable specs (one layer under test)."""

from __future__ import annotations

from typing import Any

import yaml

from specc.layers import LAYER_TYPES
from specc.layers.base import LayerExample
from specc.spec.load import LoadedSpec, load_spec_text

UNDER_TEST = "under_test"


def _plain(value: Any) -> Any:
    """Tuples as lists, so the example can be written as YAML."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def example_document(type_name: str, example: LayerExample, index: int) -> dict[str, Any]:
    layer: dict[str, Any] = {"name": UNDER_TEST, "type": type_name, **example.config}
    feeders = [{**feeder, "inputs": ["input"]} for feeder in example.feeders]
    if feeders:
        layer["inputs"] = [feeder["name"] for feeder in feeders]
    return _plain({
        "name": f"example_{type_name.lower()}_{index}",
        "input": {"shape": example.input_shape},
        "layers": [*feeders, layer],
    })


def load_example(type_name: str, example: LayerExample, index: int) -> LoadedSpec:
    text = yaml.safe_dump(example_document(type_name, example, index), sort_keys=False)
    return load_spec_text(text, f"<{type_name} example {index}>")


EXAMPLES: list[tuple[str, int, LayerExample]] = [
    (name, index, example)
    for name, cls in LAYER_TYPES.items()
    for index, example in enumerate(cls.examples())
]
EXAMPLE_IDS = [f"{name}-{index}" for name, index, _ in EXAMPLES]
