"""The one writer of spec files: a validated :class:`~specc.spec.model.Spec` as YAML text.

The text is in the style of ``specs/*.yaml``: the schema header, one flow mapping per
layer holding its name, type, non-default arguments, ``inputs`` (only where the layer does
not read the previous one) and ``expect``, then the model's ``expect``, ``train`` and
``reference`` sections. Loading the text back gives an equal spec (tested over specs/).

Importers add comments: ``comments`` maps a layer name (or ``"input"``, ``"expect"``) to
text written at the end of that line, and ``"<layer>.<field>"`` to text about one field,
joined onto the layer's line (a flow mapping has one line, so one trailing comment)::

    render_spec(spec, {"conv2d_1.kernel_size": "guessed: kernel_size 3x3 (also fits 1x9)"},
                header="Imported from summary.txt")
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from specc.layers.base import Layer
from specc.spec.model import Spec
from specc.spec.yaml_source import resolve_plain_scalar

__all__ = ["SCHEMA_HEADER", "render_spec", "yaml_value"]

SCHEMA_HEADER = "# yaml-language-server: $schema=../specc.schema.json"

# Plain scalars that need no quotes: identifier-like words and simple punctuation-free text.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*\Z")


def render_spec(spec: Spec, comments: Mapping[str, str] | None = None, header: str = "") -> str:
    """The spec as YAML text; ``header`` lines become ``#`` comments under the schema line."""
    comments = comments or {}
    lines = [SCHEMA_HEADER]
    lines += [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    lines.append(f"name: {yaml_value(spec.name)}")
    if spec.description:
        lines.append(f"description: {yaml_value(spec.description)}")
    lines.append(_commented("input:", comments.get("input")))
    lines += _section_lines(spec.input, indent="  ", keep=("shape",))
    lines.append("layers:")
    previous = spec.input.name
    for layer in spec.layers:
        entry = "  - " + yaml_value(layer_mapping(layer, previous))
        lines.append(_commented(entry, _layer_comment(layer, comments)))
        previous = layer.name
    for section in ("expect", "train", "reference"):
        value = getattr(spec, section)
        if value is None:
            continue
        body = _section_lines(value, indent="  ")
        head = f"{section}:" if body else f"{section}: {{}}"
        lines.append(_commented(head, comments.get(section)))
        lines += body
    return "\n".join(lines) + "\n"


def layer_mapping(layer: Layer, previous: str) -> dict[str, Any]:
    """name, type, the non-default arguments, `inputs` unless it is just `previous`, expect."""
    mapping: dict[str, Any] = {"name": layer.name, "type": layer.type}
    fields = type(layer).model_fields
    values = layer.hyper_parameters()
    # Keras's positional arguments first (filters before kernel_size), as people write them.
    for argument in (*layer.keras_positional, *values):
        # Exactly the default is left out; `pool_size: 2` stays as written (not `(2, 2)`).
        if argument not in mapping and values[argument] != fields[argument].default:
            mapping[argument] = values[argument]
    if layer.inputs is not None and layer.inputs != (previous,):
        mapping["inputs"] = list(layer.inputs)
    if layer.expect is not None:
        mapping["expect"] = layer.expect.model_dump(exclude_none=True)
    return mapping


def yaml_value(value: Any) -> str:
    """One value in YAML flow style, read back by specc's loader as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"specs hold finite numbers only; received {value!r}")
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, BaseModel):
        return yaml_value(value.model_dump(exclude_defaults=True))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_string(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    raise TypeError(f"no YAML form for {type(value).__name__}")


def _string(text: str) -> str:
    if _PLAIN.match(text):
        try:
            if resolve_plain_scalar(text) == text:
                return text
        except ValueError:
            pass
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


def _section_lines(section: BaseModel, indent: str, keep: tuple[str, ...] = ()) -> list[str]:
    """A section as block mapping lines, one per field set to a non-default value."""
    values = section.model_dump(exclude_defaults=True)
    for name in keep:
        values.setdefault(name, getattr(section, name))
    return [f"{indent}{_string(key)}: {yaml_value(value)}" for key, value in values.items()]


def _layer_comment(layer: Layer, comments: Mapping[str, str]) -> str | None:
    parts = [comments[layer.name]] if layer.name in comments else []
    prefix = f"{layer.name}."
    parts += [text for key, text in comments.items() if key.startswith(prefix)]
    return "; ".join(parts) if parts else None


def _commented(line: str, comment: str | None) -> str:
    if not comment:
        return line
    return f"{line}  # {' '.join(comment.split())}"
