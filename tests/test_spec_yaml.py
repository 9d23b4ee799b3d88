"""The strict YAML reader: YAML 1.2 core scalars, refused YAML 1.1 forms, positions, bounds."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from specc.errors import Position, SpeccError
from specc.limits import MAX_NESTING
from specc.spec.yaml_source import format_path, parse_yaml, read_spec_text, resolve_plain_scalar


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
        ("null", None), ("~", None), ("", None), ("12", 12), ("-3", -3), ("+7", 7), ("0", 0),
        ("0o17", 15), ("0x1F", 31), ("1e-3", 0.001), ("1E3", 1000.0), ("1.5", 1.5),
        (".5", 0.5), ("1.", 1.0), ("-2.5e2", -250.0), ("relu", "relu"), ("1.2.3", "1.2.3"),
        ("same", "same"), ("0.0", 0.0),
    ],
)
def test_core_schema_scalars(text: str, value: object) -> None:
    resolved = resolve_plain_scalar(text)
    assert resolved == value and type(resolved) is type(value)


@pytest.mark.parametrize("text", [".inf", "+.inf", "-.Inf", ".INF"])
def test_infinities_are_read_for_the_schema_to_refuse(text: str) -> None:
    value = resolve_plain_scalar(text)
    assert math.isinf(value) and (value < 0) == text.startswith("-")


def test_nan_is_read_for_the_schema_to_refuse() -> None:
    assert math.isnan(resolve_plain_scalar(".nan"))


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("yes", "write true"), ("No", "write false"), ("ON", "write true"), ("off", "write false"),
        ("y", "write true"), ("n", "write false"), ("012", "write 12"), ("-007", "write -7"),
        ("1:20", "base-60"), ("1_000", "write 1000"), ("0b101", "binary"),
    ],
)
def test_yaml_1_1_surprises_are_refused_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint):
        resolve_plain_scalar(text)


def test_quoted_scalars_stay_strings() -> None:
    data, _ = parse_yaml("a: 'true'\nb: \"12\"\nc: 'no'\nd: \"1e-3\"\n", "f.yaml")
    assert data == {"a": "true", "b": "12", "c": "no", "d": "1e-3"}


def test_every_key_and_value_has_its_position() -> None:
    text = (
        "name: m  # comment\n"
        "description: \"héllo\"\n"
        "layers:\n"
        "  - {name: c, kernel_size: [3, 5]}\n"
        "  - name: d\n"
        "    units: 4\n"
    )
    data, source = parse_yaml(text, "f.yaml")
    assert data["layers"][0]["kernel_size"] == [3, 5]
    assert source.values[("name",)] == Position(1, 7)
    assert source.keys[("description",)] == Position(2, 1)
    assert source.values[("layers", 0)] == Position(4, 5)
    line4 = text.splitlines()[3]
    assert source.keys[("layers", 0, "kernel_size")] == Position(4, line4.index("kernel") + 1)
    assert source.values[("layers", 0, "kernel_size", 1)] == Position(4, line4.index("5]") + 1)
    assert source.values[("layers", 1, "units")] == Position(6, 12)
    assert source.key(("layers", 1)) == Position(5, 5)  # list items have no key
    assert source.value(("layers", 1, "missing", 3)) == Position(5, 5)  # nearest ancestor


def test_columns_count_characters_not_bytes() -> None:
    _, source = parse_yaml("a: 'ééé'\nb: {c: 'ü', d: 1}\n", "f.yaml")
    assert source.values[("b", "d")] == Position(2, len("b: {c: 'ü', d: ") + 1)


def test_format_path() -> None:
    assert format_path(("layers", 3, "kernel_size", 1)) == "layers[3].kernel_size[1]"
    assert format_path(()) == "the document"


def test_deep_nesting_is_an_error_not_a_recursion_error() -> None:
    depth = 200_000  # far beyond Python's recursion limit
    with pytest.raises(SpeccError, match=f"nesting deeper than {MAX_NESTING}") as caught:
        parse_yaml("a: " + "[" * depth + "]" * depth + "\n", "f.yaml")
    assert caught.value.position == Position(1, 4 + MAX_NESTING - 1)


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_NESTING - 1  # the root mapping is one level
    data, _ = parse_yaml("a: " + "[" * depth + "]" * depth + "\n", "f.yaml")
    assert isinstance(data["a"], list)


def test_an_alias_bomb_stops_at_its_first_anchor() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    with pytest.raises(SpeccError, match="anchor &a0") as caught:
        parse_yaml("\n".join(lines), "bomb.yaml")
    assert caught.value.position == Position(1, 5)


def test_a_second_document_is_refused() -> None:
    with pytest.raises(SpeccError, match="second YAML document") as caught:
        parse_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    assert caught.value.position == Position(2, 1)


def test_explicit_document_markers_are_fine() -> None:
    data, _ = parse_yaml("---\na: 1\n...\n", "f.yaml")
    assert data == {"a": 1}


def test_tabs_inside_block_scalars_are_content() -> None:
    data, _ = parse_yaml("a: |\n  x\n  \ty\n", "f.yaml")
    assert data == {"a": "x\n\ty\n"}


def test_reading_refuses_directories_and_special_files(tmp_path: Path) -> None:
    with pytest.raises(SpeccError, match="is a directory"):
        read_spec_text(tmp_path, str(tmp_path))
    with pytest.raises(SpeccError, match="no such file"):
        read_spec_text(tmp_path / "absent.yaml", "absent.yaml")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(SpeccError, match="not a regular file"):
        read_spec_text(fifo, "pipe.yaml")


def test_utf8_error_points_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes("a: 'é'\nbb: \xff\n".encode("utf-8", "surrogateescape").replace(
        b"\xc3\xbf", b"\xff"
    ))
    with pytest.raises(SpeccError, match="byte 0xff is not valid UTF-8") as caught:
        read_spec_text(path, "s.yaml")
    assert caught.value.position == Position(2, 5)
