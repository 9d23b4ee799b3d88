"""Reading a layer back from a printed Keras summary row: what a row shows, and the helpers
layer types use to propose the configurations that could have printed it.

A layer type answers :meth:`Layer.summary_readings` with its plausible configurations,
most common first. The importer (specc/importers/summary) keeps those that the layer's own
shape and parameter rules confirm, takes the first, and writes the rest as "also fits".
Arguments a summary never shows (a dropout rate, an activation) come with a note saying
that their value is a stated default.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from specc.layers.conv_math import output_length, same_padding
from specc.spec.types import Shape

__all__ = [
    "PrintedRow",
    "Reading",
    "factor_pairs",
    "square_or_pair",
    "window_steps",
]

# Why an argument's value is a stated default: a printed summary never shows it.
UNSHOWN = "a summary does not show it"

# The most common window sizes first; any other size follows in increasing order.
COMMON_WINDOWS = (3, 1, 2, 5, 7)
COMMON_POOLS = (2, 3)


@dataclass(frozen=True)
class PrintedRow:
    """What a printed summary shows of one layer, with its inputs' shapes (batch left out)."""

    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: int
    is_last: bool = False


@dataclass(frozen=True)
class Reading:
    """One configuration that may have printed the row; `unshown` maps an argument a summary
    never shows to the note that explains its stated default."""

    config: Mapping[str, Any]
    unshown: Mapping[str, str] = field(default_factory=dict)


def square_or_pair(pair: tuple[int, int]) -> int | tuple[int, int]:
    """3 for (3, 3), as people write it; the pair otherwise."""
    return pair[0] if pair[0] == pair[1] else pair


def factor_pairs(area: int, limit: tuple[int, int]) -> list[tuple[int, int]]:
    """(h, w) with h * w == area, h and w within `limit`: squares first, then the most
    common sizes, then by how far from square."""
    pairs = [
        (h, area // h) for h in range(1, min(area, limit[0]) + 1)
        if area % h == 0 and area // h <= limit[1]
    ]
    return sorted(pairs, key=lambda p: (p[0] != p[1], _window_rank(max(p)), abs(p[0] - p[1]), p))


def _window_rank(size: int) -> tuple[int, int]:
    return (COMMON_WINDOWS.index(size), 0) if size in COMMON_WINDOWS else (len(COMMON_WINDOWS), size)


def window_steps(length: int, out: int, window: int) -> list[tuple[int, str]]:
    """(stride, padding) pairs that take `length` to `out` with `window`, stride 1 first;
    'same' only where it pads (otherwise it is the very same computation as 'valid')."""
    found = []
    for stride in range(1, max(length, 1) + 1):
        if output_length(length, window, stride, 1, "valid") == out:
            found.append((stride, "valid"))
        if output_length(length, window, stride, 1, "same") == out and sum(
            same_padding(length, window, stride)
        ):
            found.append((stride, "same"))
    return found


def window_readings(
    spatial_in: tuple[int, int], spatial_out: tuple[int, int], window: tuple[int, int],
    strides_default: tuple[int, int] | None = (1, 1),
) -> Iterator[dict[str, Any]]:
    """strides/padding configurations reproducing the spatial output, equal strides first.

    With `strides_default` None (poolings), strides equal to the window are left out."""
    rows = window_steps(spatial_in[0], spatial_out[0], window[0])
    cols = window_steps(spatial_in[1], spatial_out[1], window[1])
    combos = []
    for (sh, pad_h) in rows:
        for (sw, pad_w) in cols:
            padding = _common_padding(pad_h, pad_w, spatial_in, window, (sh, sw))
            if padding is not None:
                combos.append(((sh, sw), padding))
    default = window if strides_default is None else strides_default
    combos.sort(key=lambda c: (c[0] != default, c[0][0] != c[0][1], max(c[0]), c[1] != "valid"))
    for strides, padding in combos:
        config: dict[str, Any] = {}
        if strides != default:
            config["strides"] = square_or_pair(strides)
        if padding != "valid":
            config["padding"] = padding
        yield config


def _common_padding(
    pad_h: str, pad_w: str, spatial_in: tuple[int, int], window: tuple[int, int],
    strides: tuple[int, int],
) -> str | None:
    """One padding for both axes (Keras has one argument); 'same' that pads nothing on an
    axis is 'valid' there."""
    if pad_h == pad_w:
        return pad_h
    for axis, pad in ((0, pad_h), (1, pad_w)):
        if pad == "valid" and sum(same_padding(spatial_in[axis], window[axis], strides[axis])) == 0:
            return "same"
    return None


def divides(numerator: int, denominator: int) -> int | None:
    """numerator / denominator when it is a whole positive number."""
    if denominator <= 0 or numerator <= 0 or numerator % denominator:
        return None
    return numerator // denominator


def pool_windows(length: int, out: int) -> list[int]:
    """Window sizes to try for a pooling from `length` to `out`: the exact ratio, the common
    sizes, the whole input (to 1), then others up to about twice the ratio (a window much
    wider than its stride is rare)."""
    ratio = length / out if out else math.inf
    sizes = [int(ratio)] if ratio.is_integer() else []
    sizes += [*COMMON_POOLS, *([length] if out == 1 else [])]
    sizes += range(2, min(length, 2 * math.ceil(ratio) + 1) + 1)
    if ratio == 1:
        sizes.append(1)
    return list(dict.fromkeys(s for s in sizes if 1 <= s <= length))
