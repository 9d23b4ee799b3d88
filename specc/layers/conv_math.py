"""Window arithmetic shared by convolutions and poolings, exactly as Keras computes it."""

from __future__ import annotations

from typing import Literal

from specc.errors import LayerError

Padding = Literal["valid", "same"]


def as_pair(argument: str, value: int | tuple[int, int], minimum: int = 1) -> tuple[int, int]:
    """Normalise a Keras "int or tuple of 2 ints" argument, with Keras's error wording."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if any(v < minimum for v in pair):
        expected = "a strictly positive value" if minimum == 1 else f"values >= {minimum}"
        raise LayerError(
            f"Invalid value for argument `{argument}`. Expected {expected}. "
            f"Received {argument}={value}.",
            field=argument,
        )
    return pair  # type: ignore[return-value]


def output_length(length: int, window: int, stride: int, dilation: int, padding: Padding) -> int:
    """Keras's `compute_conv_output_shape` for one spatial axis."""
    if padding == "same":
        return (length + stride - 1) // stride
    effective = (window - 1) * dilation + 1
    return (length - effective) // stride + 1 if length >= effective else 0


def same_padding(length: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' padding (before, after): the odd pixel goes after (bottom/right)."""
    effective = (window - 1) * dilation + 1
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def spatial_output(
    layer_kind: str,
    height_width: tuple[int, int],
    window: tuple[int, int],
    strides: tuple[int, int],
    dilation: tuple[int, int],
    padding: Padding,
    window_argument: str,
) -> tuple[int, int]:
    """Output height and width, refusing a window that does not fit its input."""
    out = tuple(
        output_length(n, k, s, d, padding)
        for n, k, s, d in zip(height_width, window, strides, dilation, strict=True)
    )
    if min(out) <= 0:
        raise LayerError(
            f"{layer_kind} window {window[0]}x{window[1]} (dilation {dilation[0]}x{dilation[1]}) "
            f"is larger than its {height_width[0]}x{height_width[1]} input with padding='valid'; "
            f"use a smaller `{window_argument}`, padding='same', or a larger input",
            field=window_argument,
        )
    return out  # type: ignore[return-value]


def torch_padding(
    height_width: tuple[int, int],
    window: tuple[int, int],
    strides: tuple[int, int],
    dilation: tuple[int, int],
    padding: Padding,
) -> tuple[tuple[int, int], tuple[int, int, int, int] | None]:
    """Keras's padding in PyTorch's terms, computed from the known input size.

    Returns the symmetric (height, width) padding a torch layer takes itself, and, when
    TensorFlow's 'same' rule pads unevenly (the odd pixel at the bottom/right), the
    (left, right, top, bottom) padding to apply with F.pad before the layer instead.
    """
    if padding == "valid":
        return (0, 0), None
    (top, bottom), (left, right) = (
        same_padding(n, k, s, d)
        for n, k, s, d in zip(height_width, window, strides, dilation, strict=True)
    )
    if top == bottom and left == right:
        return (top, left), None
    return (0, 0), (left, right, top, bottom)
