"""Checking what a spec declares (``expect:``) against what specc infers, with the arithmetic.

Each declared value becomes one :class:`ExpectationCheck`; a failed one reads as
``file:line:col: layer conv2d_1 (Conv2D): expected params 34,000, inferred 34,944 =
(11*11*3 + 1)*96``. ``specc validate`` prints them all; ``specc build`` calls
:func:`require_expectations` to refuse a spec whose expectations fail, with the same line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from specc.errors import ExpectationError, Position
from specc.graph import LayerInfo, ModelInfo
from specc.layers.base import format_shape

if TYPE_CHECKING:
    from specc.spec.load import LoadedSpec
    from specc.spec.yaml_source import SourceMap

__all__ = ["ExpectationCheck", "check_expectations", "failed_expectations", "require_expectations"]


@dataclass(frozen=True)
class ExpectationCheck:
    """One declared value and what specc inferred for it."""

    subject: str  # "layer conv2d_1 (Conv2D)" or "model"
    layer_index: int | None
    quantity: str  # shape, params, trainable, non_trainable, total_params, ...
    declared: Any
    inferred: Any
    explanation: str  # the arithmetic behind the inferred value: "= (3*3*3 + 1)*8", "from ..."
    position: Position

    @property
    def met(self) -> bool:
        if self.quantity == "shape":
            return _shape_matches(self.declared, self.inferred)
        return bool(self.declared == self.inferred)

    def message(self) -> str:
        return (
            f"{self.subject}: expected {self.quantity} {_show(self.quantity, self.declared)}, "
            f"inferred {_show(self.quantity, self.inferred)} {self.explanation}"
        )

    def as_error(self, file: str) -> ExpectationError:
        return ExpectationError(self.message(), file=file, position=self.position)


def check_expectations(loaded: LoadedSpec) -> list[ExpectationCheck]:
    """Every declared expectation of the spec, in file order, each with its verdict."""
    checks: list[ExpectationCheck] = []
    for info in loaded.info.layers:
        checks.extend(_layer_checks(info, loaded.source))
    checks.extend(_model_checks(loaded.info, loaded.source))
    return sorted(checks, key=lambda check: (check.position.line, check.position.col))


def failed_expectations(loaded: LoadedSpec) -> list[ExpectationCheck]:
    return [check for check in check_expectations(loaded) if not check.met]


def require_expectations(loaded: LoadedSpec) -> None:
    """Raise :class:`ExpectationError` (exit 1) at the first expectation that does not hold."""
    failed = failed_expectations(loaded)
    if failed:
        raise failed[0].as_error(loaded.source.file)


# ---------------------------------------------------------------- layers


def _layer_checks(info: LayerInfo, source: SourceMap) -> list[ExpectationCheck]:
    expect = info.layer.expect
    if expect is None:
        return []
    subject = f"layer {info.layer.name} ({info.layer.type})"
    base = ("layers", info.index, "expect")
    params = info.params
    candidates: list[tuple[str, Any, Any, str]] = [
        ("shape", expect.shape, info.output_shape, shape_explanation(info)),
        ("params", expect.params, params.total, f"= {params.formula}"),
        ("trainable", expect.trainable, params.trainable, _split_explanation(info, "trainable")),
        (
            "non_trainable",
            expect.non_trainable,
            params.non_trainable,
            _split_explanation(info, "non-trainable"),
        ),
    ]
    return [
        ExpectationCheck(
            subject, info.index, quantity, declared, inferred, why, source.value((*base, quantity))
        )
        for quantity, declared, inferred, why in candidates
        if declared is not None
    ]


def _split_explanation(info: LayerInfo, part: str) -> str:
    params = info.params
    return (
        f"(of {params.total:,} = {params.formula}: {params.trainable:,} trainable, "
        f"{params.non_trainable:,} non-trainable)"
    )


def shape_explanation(info: LayerInfo) -> str:
    """How the output shape follows from the input: the window arithmetic where there is one."""
    inputs = ", ".join(format_shape(shape) for shape in info.input_shapes)
    rule = _window_rule(info)
    text = f"from input {inputs}"
    return f"{text}: {rule}" if rule else text


def _window_rule(info: LayerInfo) -> str | None:
    layer = info.layer
    window = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    if window is None or len(info.input_shapes) != 1 or len(info.input_shapes[0]) != 3:
        return None
    kernel = _pair(window)
    strides = _pair(getattr(layer, "strides", None) or window)
    dilation = _pair(getattr(layer, "dilation_rate", None) or 1)
    padding = getattr(layer, "padding", "valid")
    if None in (kernel, strides, dilation) or padding not in {"valid", "same"}:
        return None
    axes = []
    for axis, n, k, s, d, out in zip(
        ("height", "width"), info.input_shapes[0][:2], kernel, strides, dilation,
        info.output_shape[:2], strict=False,
    ):
        if padding == "same":
            axes.append(f"{axis} ceil({n}/{s}) = {out}")
        else:
            effective = k if d == 1 else f"({k} - 1)*{d} + 1"
            axes.append(f"{axis} ({n} - {effective})//{s} + 1 = {out}")
    return f"padding='{padding}', " + ", ".join(axes)


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value  # type: ignore[return-value]
    return None


def _shape_matches(declared: Sequence[int | None], inferred: Sequence[int]) -> bool:
    return len(declared) == len(inferred) and all(
        want is None or want == got for want, got in zip(declared, inferred, strict=True)
    )


# ---------------------------------------------------------------- model totals


def _model_checks(info: ModelInfo, source: SourceMap) -> list[ExpectationCheck]:
    expect = info.spec.expect
    if expect is None:
        return []
    with_params = [layer for layer in info.layers if layer.params.total]
    summed = f"summed over the {len(with_params)} layers with parameters"
    split = f"= {info.trainable_params:,} trainable + {info.non_trainable_params:,} non-trainable"
    candidates = [
        ("total_params", expect.total_params, info.total_params, f"{split}, {summed}"),
        ("trainable_params", expect.trainable_params, info.trainable_params, summed),
        ("non_trainable_params", expect.non_trainable_params, info.non_trainable_params, summed),
    ]
    return [
        ExpectationCheck(
            "model", None, quantity, declared, inferred, why,
            source.value(("expect", quantity)),
        )
        for quantity, declared, inferred, why in candidates
        if declared is not None
    ]


def _show(quantity: str, value: Any) -> str:
    if quantity == "shape":
        return format_shape(value)
    return f"{value:,}" if isinstance(value, int) else str(value)
