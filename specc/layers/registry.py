"""The layer registry: the one table mapping a spec's `type:` to its Layer class.

Adding a layer type is one module with one ``@register_layer`` class and one import
line in ``specc/layers/__init__.py``. The registry refuses duplicates.
"""

from __future__ import annotations

import difflib
from typing import TypeVar

from specc.layers.base import Layer

L = TypeVar("L", bound=type[Layer])

LAYER_TYPES: dict[str, type[Layer]] = {}


def register_layer(cls: L) -> L:
    name = cls.type_name()
    if name in LAYER_TYPES:
        raise ValueError(
            f"Layer type {name!r} is already registered by {LAYER_TYPES[name].__module__}; "
            f"{cls.__module__} cannot register it again."
        )
    LAYER_TYPES[name] = cls
    return cls


def nearest_layer_type(name: str) -> str | None:
    """The registered type closest to a misspelt one, for 'did you mean' hints."""
    by_lower = {known.lower(): known for known in LAYER_TYPES}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None
