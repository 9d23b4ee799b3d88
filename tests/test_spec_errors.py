"""Schema, wiring, inference and limit errors: the right line, the right words, the right hint.

Parametrised over the layer registry, so every layer type's misspelt keys and misspelt type
name are tested as soon as the type is registered.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from specc.errors import ExitCode, ExpectationError, Position, SpeccError
from specc.expectations import check_expectations, require_expectations
from specc.layers.base import Layer
from specc.layers.registry import LAYER_TYPES
from specc.limits import MAX_TOTAL_PARAMS
from specc.spec.load import load_spec_text

FRAME = ("id", "type", "name", "inputs", "expect")


def _flow(value: dict[str, Any]) -> str:
    """JSON is YAML 1.2: a layer as one flow mapping on one line."""
    return json.dumps(value)


def _spec_text(layer: dict[str, Any], input_shape: tuple[int, ...], feeders=()) -> str:
    lines = ["name: probe", "input:", f"  shape: {list(input_shape)}", "layers:"]
    lines += [f"  - {_flow(feeder)}" for feeder in feeders]
    lines.append(f"  - {_flow(layer)}")
    return "\n".join(lines) + "\n"


def _example(cls: type[Layer]) -> tuple[dict[str, Any], tuple[int, ...], tuple[dict, ...]]:
    examples = cls.examples()
    if not examples:
        return {}, (7, 7, 3), ()
    first = examples[0]
    return dict(first.config), first.input_shape, first.feeders


def _misspell(key: str) -> str:
    return key + key[-1]  # "filters" -> "filterss": one keystroke away


def _expect_error(text: str) -> SpeccError:
    with pytest.raises(SpeccError) as caught:
        load_spec_text(text, "probe.yaml")
    return caught.value


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_misspelt_key_suggests_the_argument(type_name: str) -> None:
    cls = LAYER_TYPES[type_name]
    config, shape, feeders = _example(cls)
    arguments = [key for key in config if key not in FRAME] or ["name"]
    target = arguments[0]
    layer = {"name": "probe_layer", "type": type_name, **config}
    if feeders:
        layer["inputs"] = [feeder["name"] for feeder in feeders]
    layer[_misspell(target)] = layer.pop(target)
    text = _spec_text(layer, shape, feeders)
    error = _expect_error(text)
    line_number = len(text.splitlines())
    column = text.splitlines()[-1].index(f'"{_misspell(target)}"') + 1
    assert error.position == Position(line_number, column)
    assert error.message.endswith(f"did you mean `{target}`?")
    assert type(error).exit_code == ExitCode.INVALID_INPUT


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_misspelt_layer_type_suggests_the_type(type_name: str) -> None:
    config, shape, feeders = _example(LAYER_TYPES[type_name])
    for wrong in (type_name.lower(), type_name[:-1] + type_name[-1] * 2):
        layer = {"name": "probe_layer", "type": wrong, **config}
        text = _spec_text(layer, shape, feeders)
        error = _expect_error(text)
        assert error.message.endswith(f"did you mean '{type_name}'?"), error.message
        assert error.position is not None and error.position.line == len(text.splitlines())


@pytest.mark.parametrize("type_name", sorted(LAYER_TYPES))
def test_every_example_validates(type_name: str) -> None:
    """The harness above builds valid specs, so the errors it sees are the misspellings."""
    config, shape, feeders = _example(LAYER_TYPES[type_name])
    layer = {"name": "probe_layer", "type": type_name, **config}
    if feeders:
        layer["inputs"] = [feeder["name"] for feeder in feeders]
    loaded = load_spec_text(_spec_text(layer, shape, feeders), "probe.yaml")
    assert loaded.spec.layers[-1].type == type_name


HEAD = "name: m\ninput:\n  shape: [16, 16, 3]\nlayers:\n"


def _at(text: str, line: int, token: str) -> Position:
    """The position of the first `token` on 1-based `line` of `text`."""
    return Position(line, text.splitlines()[line - 1].index(token) + 1)


def test_missing_argument_points_at_the_layer() -> None:
    error = _expect_error(HEAD + "  - name: c\n    type: Conv2D\n    kernel_size: 3\n")
    assert str(error) == "probe.yaml:5:5: layer c (Conv2D): missing required argument `filters`"


def test_missing_section_key_points_at_its_key() -> None:
    error = _expect_error("name: m\ninput:\n  name: x\nlayers:\n  - {name: f, type: Flatten}\n")
    assert str(error) == "probe.yaml:2:1: missing required key `shape` in `input`"


def test_union_errors_become_one_message() -> None:
    text = HEAD + "  - {name: c, type: Conv2D, filters: 2, kernel_size: [3, x]}\n"
    error = _expect_error(text)
    assert error.message == (
        "layer c (Conv2D): Invalid value for argument `kernel_size[1]`. "
        "Expected an integer; received 'x'"
    )
    assert error.position == _at(text, 5, "x]")


def test_the_first_error_by_position_is_reported() -> None:
    text = HEAD + (
        "  - {name: a, type: Conv2D, filters: 2, kernel_size: 3}\n"
        "  - {name: b, type: Conv2D, filters: -1, kernel_size: 3}\n"
        "  - {name: c, type: Dense, units: 0}\n"
    )
    assert _expect_error(text).position == _at(text, 6, "-1")


def test_wiring_errors_point_at_the_name_or_the_input() -> None:
    text = HEAD + "  - {name: f, type: Flatten}\n  - {name: f, type: Flatten}\n"
    duplicate = _expect_error(text)
    assert duplicate.position == _at(text, 6, "f,")
    assert duplicate.message.startswith('The name "f" is used 2 times in the model.')
    text = HEAD + "  - {name: f, type: Flatten}\n  - {name: g, type: Flatten, inputs: [f, h]}\n"
    dangling = _expect_error(text)
    assert dangling.position == _at(text, 6, "h]")
    assert "input 'h' is not the model input or an earlier layer" in dangling.message


def test_a_layer_nothing_reads_is_refused_at_its_line() -> None:
    text = HEAD + "  - {name: unread, type: Dense, units: 2}\n" + (
        "  - {name: last, type: Dense, units: 2, inputs: [input]}\n"
    )
    unread = _expect_error(text)
    assert unread.exit_code == ExitCode.INVALID_INPUT
    assert unread.position == _at(text, 5, "{name: unread")
    assert unread.message.startswith("layer 'unread' (Dense): its output is never used")


def test_inference_error_points_at_the_field() -> None:
    text = HEAD + "  - {name: c, type: Conv2D, filters: 2, kernel_size: 17}\n"
    error = _expect_error(text)
    assert error.position == _at(text, 5, "17")
    assert error.message.startswith("layer c (Conv2D): ")


def test_over_the_parameter_limit_names_the_crossing_layer() -> None:
    text = (
        "name: m\ninput:\n  shape: [30000]\nlayers:\n"
        "  - {name: first, type: Dense, units: 30000}\n"  # 900,030,000 params
        "  - {name: big, type: Dense, units: 40000}\n"  # 1,200,040,000 more
    )
    error = _expect_error(text)
    assert error.position == _at(text, 6, "Dense")
    assert error.message.startswith("layer big (Dense): the model reaches")
    assert f"over specc's limit of {MAX_TOTAL_PARAMS:,}" in error.message


def test_require_expectations_gives_the_validate_line() -> None:
    text = HEAD + "  - {name: c, type: Conv2D, filters: 4, kernel_size: 3, expect: {params: 100}}\n"
    loaded = load_spec_text(text, "probe.yaml")
    with pytest.raises(ExpectationError) as caught:
        require_expectations(loaded)
    position = _at(text, 5, "100")
    assert str(caught.value) == (
        f"probe.yaml:5:{position.col}: layer c (Conv2D): expected params 100, inferred 112 = "
        "(3*3*3 + 1)*4"
    )
    assert caught.value.exit_code == ExitCode.EXPECTATION_FAILED


def test_expectations_that_hold_are_marked_met() -> None:
    text = HEAD + (
        "  - {name: c, type: Conv2D, filters: 4, kernel_size: 3, expect: {shape: [14, 14, 4], "
        "params: 112, trainable: 112, non_trainable: 0}}\n"
        "expect:\n  total_params: 112\n"
    )
    loaded = load_spec_text(text, "probe.yaml")
    checks = check_expectations(loaded)
    assert [check.quantity for check in checks] == [
        "shape", "params", "trainable", "non_trainable", "total_params"
    ]
    assert all(check.met for check in checks)
    require_expectations(loaded)
