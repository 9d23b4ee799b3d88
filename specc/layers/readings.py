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

# Strides a summary cannot tell apart (they print the same shape and count): the smallest few.
MAX_STRIDES = 8

__all__ = [
    "PrintedRow",
    "Reading",
    "factor_pairs",
    "split_sides",
    "square_or_pair",
    "transposed_window_readings",
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


def split_sides(rows: int, cols: int) -> Iterator[object]:
    """ZeroPadding2D's padding / Cropping2D's cropping that adds or removes `rows` and `cols`
    pixels, as people write it: split evenly; an odd pixel goes after (bottom/right, as
    keras.applications pads before a strided 'valid' convolution), then before."""
    splits = [list(dict.fromkeys([(total // 2, total - total // 2),
                                  (total - total // 2, total // 2)])) for total in (rows, cols)]
    for vertical in splits[0]:
        for horizontal in splits[1]:
            if vertical[0] == vertical[1] and horizontal[0] == horizontal[1]:
                yield vertical[0] if vertical == horizontal else (vertical[0], horizontal[0])
            else:
                yield (vertical, horizontal)


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
    for stride in sorted({stride for strides in _stride_ranges(length, out, window)
                          for stride in strides}):
        if output_length(length, window, stride, 1, "valid") == out:
            found.append((stride, "valid"))
        if output_length(length, window, stride, 1, "same") == out and sum(
            same_padding(length, window, stride)
        ):
            found.append((stride, "same"))
    return found


def _stride_ranges(length: int, out: int, window: int) -> list[range]:
    """The smallest strides (up to MAX_STRIDES each) that take `length` to `out` under
    'valid' ((length - window) // stride + 1) and under a 'same' that pads
    (ceil(length / stride), padding (out - 1) * stride + window - length > 0), solved for the
    stride: trying each up to `length` took minutes for a size of 10^9."""
    bounds = []  # (lowest, highest) stride
    span = length - window
    if span >= 0 and out >= 1:
        bounds.append((span // out + 1, length if out == 1 else span // (out - 1)))
    elif span < 0 and out == 0:  # a window longer than the input: nothing is left
        bounds.append((1, length))
    if out == 1 and span < 0:
        bounds.append((length, length))
    elif out >= 2:
        bounds.append((max(-(-length // out), span // (out - 1) + 1),
                       -(-length // (out - 1)) - 1))
    ranges = []
    for low, high in bounds:
        low = max(low, 1)
        ranges.append(range(low, min(high, length, low + MAX_STRIDES - 1) + 1))
    return ranges


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


def full_kernel_areas(
    channels: int, out_channels: int, params: int
) -> Iterator[tuple[dict[str, Any], bool, int]]:
    """(filters, use_bias, kernel height * width) of a kernel that joins every input channel to
    every filter (Conv2D, Conv2DTranspose) and holds `params`, with a bias first."""
    for use_bias in (True, False):
        area = divides(params - out_channels * use_bias, channels * out_channels)
        if area:
            yield {"filters": out_channels}, use_bias, area


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


def transposed_steps(length: int, out: int, window: int) -> list[tuple[int, str, int | None]]:
    """(stride, padding, output_padding) that take `length` to `out` in a transposed
    convolution with `window` (Keras's `compute_conv_transpose_output_shape`): without
    output_padding first, stride 1 first; 'same' only where it differs from 'valid'."""
    found: list[tuple[int, str, int | None]] = []
    for stride in range(1, max(out, 1) + 1):
        valid = (length - 1) * stride + max(window, stride)
        if valid == out:
            found.append((stride, "valid", None))
        if length * stride == out and valid != out:
            found.append((stride, "same", None))
    for stride in range(2, max(out, 1) + 1):
        for padding, base in (("valid", (length - 1) * stride + window),
                              ("same", (length - 1) * stride + window % 2)):
            extra = out - base
            if 0 <= extra < stride:
                found.append((stride, padding, extra))
    return found


def _explicit_output_padding(window: int, stride: int, padding: str) -> int | None:
    """The output_padding that gives the same length as none, where there is one."""
    extra = max(window, stride) - window if padding == "valid" else stride - window % 2
    return extra if 0 <= extra < stride else None


def transposed_window_readings(
    spatial_in: tuple[int, int], spatial_out: tuple[int, int], window: tuple[int, int],
) -> Iterator[dict[str, Any]]:
    """strides/padding/output_padding configurations of a transposed convolution that give
    the spatial output: no output_padding first, then equal strides, smaller strides,
    'valid' padding."""
    rows = transposed_steps(spatial_in[0], spatial_out[0], window[0])
    cols = transposed_steps(spatial_in[1], spatial_out[1], window[1])
    combos = []
    for (sh, pad_h, extra_h) in rows:
        for (sw, pad_w, extra_w) in cols:
            if pad_h != pad_w:
                continue
            extras: tuple[int | None, int | None] = (extra_h, extra_w)
            if (extra_h is None) != (extra_w is None):
                extras = (
                    _explicit_output_padding(window[0], sh, pad_h) if extra_h is None else extra_h,
                    _explicit_output_padding(window[1], sw, pad_w) if extra_w is None else extra_w,
                )
                if None in extras:
                    continue
            if extras != (None, None) and extras == (
                _explicit_output_padding(window[0], sh, pad_h),
                _explicit_output_padding(window[1], sw, pad_w),
            ):
                continue  # the very same lengths as no output_padding, which comes first
            combos.append(((sh, sw), pad_h, extras))
    combos.sort(key=lambda c: (c[2] != (None, None), c[0][0] != c[0][1], max(c[0]),
                               c[1] != "valid"))
    for strides, padding, extras in dict.fromkeys(combos):
        config: dict[str, Any] = {}
        if strides != (1, 1):
            config["strides"] = square_or_pair(strides)
        if padding != "valid":
            config["padding"] = padding
        if extras != (None, None):
            config["output_padding"] = square_or_pair(extras)  # type: ignore[arg-type]
        yield config
