"""The spec writer: render -> load gives the same spec, for every spec and layer example."""

from __future__ import annotations

from pathlib import Path

import pytest
from layer_examples import EXAMPLE_IDS, EXAMPLES, load_example

from specc.layers.base import LayerExample
from specc.spec.load import load_spec, load_spec_text
from specc.spec.model import Spec
from specc.spec.writer import SCHEMA_HEADER, render_spec, yaml_value
from specc.spec.yaml_source import parse_yaml


def wired(spec: Spec) -> Spec:
    """The spec with every layer's `inputs` spelt out (`inputs: [previous]` means no `inputs`)."""
    layers = [
        layer.model_copy(update={"inputs": spec.input_names(index)})
        for index, layer in enumerate(spec.layers)
    ]
    return spec.model_copy(update={"layers": layers})


def test_every_spec_renders_to_an_equal_spec(spec_path: Path) -> None:
    loaded = load_spec(spec_path)
    text = render_spec(loaded.spec)
    assert text.startswith(SCHEMA_HEADER + "\n")
    assert load_spec_text(text, "<rendered>").spec == loaded.spec


@pytest.mark.parametrize(("type_name", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_every_layer_example_renders_to_an_equal_spec(
    type_name: str, index: int, example: LayerExample
) -> None:
    spec = load_example(type_name, example, index).spec
    assert wired(load_spec_text(render_spec(spec), "<rendered>").spec) == wired(spec)


def test_one_flow_mapping_per_layer_with_inputs_only_where_needed(spec_path: Path) -> None:
    spec = load_spec(spec_path).spec
    lines = render_spec(spec).splitlines()
    layer_lines = [line for line in lines if line.startswith("  - {name: ")]
    assert len(layer_lines) == len(spec.layers)
    for index, (layer, line) in enumerate(zip(spec.layers, layer_lines, strict=True)):
        previous = spec.layers[index - 1].name if index else spec.input.name
        assert ("inputs:" in line) == (spec.input_names(index) != (previous,)), line


def test_comments_go_on_their_layer_line_and_header_under_the_schema_line() -> None:
    spec = load_spec(Path(__file__).parent.parent / "specs" / "alexnet.yaml").spec
    text = render_spec(
        spec,
        {"conv2d_1.kernel_size": "guessed: kernel_size 11x11", "dropout_1": "rate unknown"},
        header="Imported from a summary\nsecond line",
    )
    lines = text.splitlines()
    assert lines[:3] == [SCHEMA_HEADER, "# Imported from a summary", "# second line"]
    conv = next(line for line in lines if "name: conv2d_1," in line)
    assert conv.endswith("  # guessed: kernel_size 11x11")
    dropout = next(line for line in lines if "name: dropout_1," in line)
    assert dropout.endswith("  # rate unknown")
    assert load_spec_text(text, "<rendered>").spec == spec


@pytest.mark.parametrize(
    "value",
    ["relu", "same", "true", "null", "yes", "No", "012", "1_000", "1e3", "a: b", "#x", "", "ü",
     "it's", '"q"', "1:30", 0.5, 1e-05, 3.0, -2, True, None, [1, [2, 3]]],
)
def test_values_read_back_as_themselves(value: object) -> None:
    data, _ = parse_yaml(f"key: {yaml_value(value)}\n", "<value>")
    assert data["key"] == value and type(data["key"]) is type(value)
