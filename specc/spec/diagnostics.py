"""Turning validation and inference failures into one located line, ``file:line:col: message``.

pydantic reports where a value failed as a location tuple over the *validated* structure,
e.g. ``('layers', 3, 'Conv2D', 'kernel_size', 'tuple[int, int]')``: the discriminator tag and
union-member labels are not part of the YAML. Walking that tuple against the data read from
the YAML separates the real path (``layers[3].kernel_size``) from the labels, and the source
map gives its position.
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from specc.errors import Position, SpeccError
from specc.graph import LayerInferenceError
from specc.layers.registry import LAYER_TYPES, nearest_layer_type
from specc.spec.yaml_source import DataPath, SourceMap, format_path

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")


@dataclass(frozen=True)
class _Located:
    position: Position
    order: int
    message: str


@dataclass(frozen=True)
class _Resolved:
    """A pydantic error location resolved against the data."""

    path: DataPath  # the real path in the YAML data
    labels: tuple[str, ...]  # union-member labels that were stripped, e.g. ('int',)
    anchor: DataPath  # the path at which the first union label was met
    missing_key: str | None  # for 'missing': the key that is absent


# ---------------------------------------------------------------- pydantic errors


def locate_validation_error(
    error: ValidationError, data: Any, source: SourceMap, root_model: type[BaseModel]
) -> SpeccError:
    """The first (by position) of pydantic's errors, located and worded for a person."""
    groups: dict[Any, list[tuple[dict[str, Any], _Resolved]]] = {}
    items = [
        (item, _resolve(item["loc"], data, item["type"]))
        for item in error.errors(include_url=False)
    ]
    # A misspelt key also makes its field "missing"; the misspelling is the one to report.
    with_unknown_keys = {
        resolved.path[:-1] for item, resolved in items if item["type"] == "extra_forbidden"
    }
    for number, (item, resolved) in enumerate(items):
        if item["type"] == "missing" and resolved.path in with_unknown_keys:
            continue
        key = resolved.anchor if resolved.labels else (resolved.path, number)
        groups.setdefault(key, []).append((item, resolved))
    located = [
        _locate_group(members, data, source, root_model, order)
        for order, members in enumerate(groups.values())
    ]
    first = min(located, key=lambda item: (item.position.line, item.position.col, item.order))
    return SpeccError(first.message, file=source.file, position=first.position)


def _resolve(loc: tuple[Any, ...], data: Any, error_type: str) -> _Resolved:
    node = data
    path: list[Any] = []
    labels: list[str] = []
    anchor: DataPath | None = None
    for number, part in enumerate(loc):
        last = number == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and part in node or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and node.get("type") == part and part in LAYER_TYPES:
            continue  # the discriminator tag of a layer
        elif last and error_type == "missing":
            return _Resolved(tuple(path), tuple(labels), anchor or tuple(path), str(part))
        else:
            if anchor is None:
                anchor = tuple(path)
            labels.append(str(part))
    return _Resolved(tuple(path), tuple(labels), anchor or tuple(path), None)


def _locate_group(
    members: list[tuple[dict[str, Any], _Resolved]],
    data: Any,
    source: SourceMap,
    root_model: type[BaseModel],
    order: int,
) -> _Located:
    item, resolved = _pick_union_member(members)
    context = _LayerContext.at(resolved.path, data)
    if len(members) > 1 and _all_type_errors(members) and resolved.path == resolved.anchor:
        expected = " or ".join(dict.fromkeys(_label_words(r.labels[0]) for _, r in members))
        message = (
            f"{context.invalid_value()}: expected {expected}; received {_show(item['input'])}"
        )
    else:
        message = _message(item, resolved, context, root_model)
    position = _position_for(item["type"], resolved, source)
    about_layer = bool(context.relative) or item["type"] in {
        "missing", "union_tag_invalid", "union_tag_not_found"
    }
    return _Located(position, order, context.prefix(message) if about_layer else message)


def _pick_union_member(
    members: list[tuple[dict[str, Any], _Resolved]],
) -> tuple[dict[str, Any], _Resolved]:
    """Of the errors one union produced, the most telling: the deepest, then not a bare type
    mismatch (a list of 3 items for a pair says 'at most 2 items', not 'not an integer')."""

    def rank(member: tuple[dict[str, Any], _Resolved]) -> tuple[int, int]:
        item, resolved = member
        return (-len(resolved.path), 1 if item["type"].endswith("_type") else 0)

    return min(members, key=rank)


def _all_type_errors(members: list[tuple[dict[str, Any], _Resolved]]) -> bool:
    return all(item["type"].endswith("_type") and resolved.labels for item, resolved in members)


_LABEL_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "tuple[int, int]": "a list of 2 integers",
    "tuple[int, int, int]": "a list of 3 integers",
    "tuple[tuple[int, int], tuple[int, int]]": "a pair of pairs [[top, bottom], [left, right]]",
}


def _label_words(label: str) -> str:
    return _LABEL_WORDS.get(label, label)


def _position_for(error_type: str, resolved: _Resolved, source: SourceMap) -> Position:
    path = resolved.path
    if error_type == "missing":
        if path and isinstance(path[-1], str):
            return source.key(path)  # the key whose mapping lacks the field, e.g. `input:`
        return source.value(path)
    if error_type == "extra_forbidden":
        return source.key(path)
    if error_type.startswith("union_tag"):
        return source.value((*path, "type"))
    return source.value(path)


@dataclass(frozen=True)
class _LayerContext:
    """Which layer (if any) a path is inside, for the message prefix."""

    index: int | None
    name: str | None
    type: str | None
    relative: DataPath  # the path below the layer, or the whole path
    path: DataPath

    @classmethod
    def at(cls, path: DataPath, data: Any) -> _LayerContext:
        if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], int):
            layer = data["layers"][path[1]]
            if isinstance(layer, dict):
                name = layer.get("name")
                kind = layer.get("type")
                return cls(
                    path[1],
                    name if isinstance(name, str) and _IDENTIFIER.match(name) else None,
                    kind if isinstance(kind, str) and kind in LAYER_TYPES else None,
                    path[2:],
                    path,
                )
            return cls(path[1], None, None, path[2:], path)
        return cls(None, None, None, path, path)

    def prefix(self, message: str) -> str:
        """Messages about a layer start with the layer, as Keras names it."""
        if self.index is None:
            return message
        label = f"layer {self.name}" if self.name else f"layers[{self.index}]"
        if self.type:
            label += f" ({self.type})"
        return f"{label}: {message}"

    @property
    def field(self) -> str:
        """The argument, below its layer (`kernel_size[1]`), or the whole path elsewhere."""
        if self.index is not None and self.relative:
            return format_path(self.relative)
        return format_path(self.path)

    def invalid_value(self) -> str:
        if self.index is not None and self.relative:
            return f"Invalid value for argument `{self.field}`"
        return f"Invalid value for `{self.field}`"


def _message(
    item: dict[str, Any], resolved: _Resolved, context: _LayerContext, root: type[BaseModel]
) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    field = context.field
    argument = context.invalid_value() + "."
    if kind == "missing":
        return _missing_message(resolved, context, argument, value)
    if kind == "extra_forbidden":
        return _unknown_key_message(item["loc"], resolved, context, root)
    if kind == "union_tag_invalid":
        return _unknown_type_message(ctx.get("tag"), value)
    if kind == "union_tag_not_found":
        return "missing `type` (the Keras layer class, e.g. `type: Conv2D`)"
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        if (kind == "greater_than_equal" and bound == 1) or (kind == "greater_than" and bound == 0):
            expected = "a strictly positive value"
        else:
            expected = f"a value {'>=' if kind == 'greater_than_equal' else '>'} {bound}"
        return f"{argument} Expected {expected}. Received {field}={_show(value)}."
    if kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        shown = f"{bound:,}" if isinstance(bound, int) else str(bound)
        return (
            f"{argument} Expected a value {'<=' if kind == 'less_than_equal' else '<'} "
            f"{shown}. Received {field}={_show(value)}."
        )
    if kind == "literal_error":
        return _literal_message(argument, field, value, str(ctx.get("expected", "")))
    if kind == "finite_number":
        return f"{argument} Expected a finite number. Received {field}={_show(value)}."
    if kind in _TYPE_WORDS:
        return f"{argument} Expected {_TYPE_WORDS[kind]}; received {_show(value)}{_hint(kind, value)}"
    if kind in {"too_long", "too_short"}:
        return _length_message(argument, ctx, value)
    if kind in {"value_error", "assertion_error"}:
        text = str(ctx.get("error", item["msg"]))
        return f"{argument} {text}" if resolved.path else text
    return f"{argument} {item['msg']}; received {_show(value)}"


def _missing_message(resolved: _Resolved, context: _LayerContext, argument: str, value: Any) -> str:
    key = resolved.missing_key
    if (key or "").isdigit():  # a list or tuple too short
        return f"{argument} Expected more items (item {key} is missing); received {_show(value)}"
    if context.index is not None and not context.relative:
        return f"missing required argument `{key}`"
    where = f" in `{format_path(resolved.path)}`" if resolved.path else ""
    return f"missing required key `{key}`{where}"


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "none_required": "null",
}


def _hint(kind: str, value: Any) -> str:
    if isinstance(value, str) and kind in {"int_type", "float_type"}:
        try:
            float(value)
        except ValueError:
            return ""
        return " (remove the quotes to write a number)"
    if isinstance(value, float) and kind == "int_type" and value.is_integer():
        return f" (write {int(value)})"
    return ""


def _length_message(argument: str, ctx: dict[str, Any], value: Any) -> str:
    count = len(value) if isinstance(value, list | tuple | dict | str) else "?"
    if "max_length" in ctx:
        expected = f"at most {ctx['max_length']} item(s)"
    else:
        expected = f"at least {ctx.get('min_length')} item(s)"
    return f"{argument} Expected {expected}; received {count}: {_show(value)}"


def _literal_message(argument: str, field: str, value: Any, expected: str) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    message = f"{argument} Expected one of {', '.join(choices) or expected}. Received {field}={_show(value)}."
    if isinstance(value, str):
        close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
        if close:
            message += f" Did you mean '{close[0]}'?"
    return message


def _unknown_type_message(tag: Any, value: Any) -> str:
    given = value.get("type") if isinstance(value, dict) else tag
    if not isinstance(given, str):
        return (
            f"layer `type` must be a string naming a Keras layer class, e.g. Conv2D; "
            f"received {_show(given)}"
        )
    suggestion = nearest_layer_type(given)
    if suggestion:
        return f"Unknown layer type '{_clip(given)}'; did you mean '{suggestion}'?"
    return f"Unknown layer type '{_clip(given)}'; known types: {', '.join(sorted(LAYER_TYPES))}"


def _unknown_key_message(
    loc: tuple[Any, ...], resolved: _Resolved, context: _LayerContext, root: type[BaseModel]
) -> str:
    key = str(resolved.path[-1]) if resolved.path else str(loc[-1])
    model = model_at(loc[:-1], root)
    fields = sorted(model.model_fields) if model is not None else []
    if context.index is not None and context.relative == (key,) and context.type:
        message = f"Unrecognized keyword argument passed to {context.type}: '{_clip(key)}'"
    else:
        parent_path = context.relative[:-1] if context.index is not None else resolved.path[:-1]
        parent = f"`{format_path(parent_path)}`" if parent_path else "the spec"
        message = f"unknown key '{_clip(key)}' in {parent}"
    close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
    if not close:
        close = [name for name in fields if name.lower() == key.lower()]
    if close:
        return f"{message}; did you mean `{close[0]}`?"
    return f"{message}; valid keys: {', '.join(fields)}" if fields else message


def model_at(loc: tuple[Any, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model class validating the value at a pydantic location."""
    current: Any = root
    for part in loc:
        current = _step(current, part)
        if current is None:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _step(annotation: Any, part: Any) -> Any:
    annotation = _unwrap(annotation)
    if isinstance(part, str) and part in LAYER_TYPES and _is_layer_union(annotation):
        return LAYER_TYPES[part]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(part, int) and origin in {list, tuple} and args:
        if origin is tuple and args[-1] is not Ellipsis:
            return args[part] if part < len(args) else None
        return args[0]
    return None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in {typing.Union, types.UnionType}:
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _is_layer_union(annotation: Any) -> bool:
    return any(arg in LAYER_TYPES.values() for arg in typing.get_args(annotation))


def _clip(text: str, limit: int = 40) -> str:
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: Any) -> str:
    """A value as YAML would show it, one line, bounded in length."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return "-.inf" if value < 0 else ".inf"
    if isinstance(value, dict):
        return "a mapping"
    return _clip(repr(value), 60)


# ---------------------------------------------------------------- inference errors


def locate_inference_error(error: LayerInferenceError, source: SourceMap) -> SpeccError:
    """A layer rule's refusal, at the argument it names (or the layer's `type`)."""
    base: DataPath = ("layers", error.index)
    candidates = [(*base, error.field)] if error.field else []
    candidates.append((*base, "type"))
    position = next(
        (source.values[path] for path in candidates if path in source.values),
        source.value(base),
    )
    message = f"layer {error.layer.name} ({error.layer.type}): {error.message}"
    return SpeccError(message, file=source.file, position=position)
