"""Scalar types shared by the whole spec language.

Every scalar is strict (YAML's "8" is never silently read as 8), floats must be finite,
and error messages follow Keras's wording: "Invalid value for argument `filters`.
Expected a strictly positive value. Received filters=0."
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, StrictFloat, StrictInt, StrictStr

__all__ = [
    "Count",
    "FiniteFloat",
    "Identifier",
    "IntPair",
    "NonNegativeInt",
    "PositiveInt",
    "Shape",
    "StrictBool",
    "StrictInt",
    "StrictStr",
]

# Upper bounds keep absurd sizes ("a trillion filters") out before any arithmetic explodes.
MAX_DIM = 1 << 24

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _check_identifier(value: str) -> str:
    if not value.isascii() or not _IDENTIFIER.match(value):
        raise ValueError(
            f"Expected an ASCII Python identifier (letters, digits, '_', not starting with a "
            f"digit). Received {value!r}"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise ValueError(f"{value!r} is a Python keyword; choose another name")
    if value.startswith("__") and value.endswith("__"):
        raise ValueError(f"{value!r} is a dunder name; choose a name without leading '__'")
    if len(value) > 64:
        raise ValueError(f"names are at most 64 characters; {value[:16]!r}... has {len(value)}")
    return value


Identifier = Annotated[StrictStr, AfterValidator(_check_identifier)]

PositiveInt = Annotated[StrictInt, Field(ge=1, le=MAX_DIM)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=MAX_DIM)]
# Parameter and FLOP counts: far beyond any dimension, still bounded.
Count = Annotated[StrictInt, Field(ge=0, le=10**15)]
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]

# A Keras "int or tuple of 2 ints" argument (kernel_size, strides, pool_size, ...).
IntPair = StrictInt | tuple[StrictInt, StrictInt]

Shape = tuple[int, ...]

