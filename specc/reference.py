"""The spec language's layer reference, rendered from the registry for the README.

`python -m specc.reference` prints the Markdown table; a test checks that the README
holds exactly this text, so the manual cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

import specc.layers  # noqa: F401  (fills the registry)
from specc.layers.activations import ActivationName, InitializerName
from specc.layers.base import Layer
from specc.layers.registry import LAYER_TYPES

_COMMON_FIELDS = set(Layer.model_fields)


def _argument(name: str, field: FieldInfo) -> str:
    if field.default is PydanticUndefined:
        return f"`{name}`"
    return f"`{name}={_literal(field.default)}`"


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    return repr(value)


def layer_table() -> str:
    rows = ["| type | arguments (Keras names and defaults) |", "| --- | --- |"]
    for type_name in sorted(LAYER_TYPES):
        fields = LAYER_TYPES[type_name].model_fields
        own = [(n, f) for n, f in fields.items() if n not in _COMMON_FIELDS]
        # Required arguments first, as Keras's signatures put them.
        own.sort(key=lambda item: item[1].default is not PydanticUndefined)
        arguments = [_argument(n, f) for n, f in own]
        rows.append(f"| `{type_name}` | {', '.join(arguments) or '(none)'} |")
    rows += [
        "",
        "Activation names (`activation:`): " + ", ".join(f"`{a}`" for a in get_args(ActivationName)),
        "",
        "Initializer names: " + ", ".join(f"`{i}`" for i in get_args(InitializerName)),
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(layer_table())
