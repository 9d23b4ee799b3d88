"""The validated model as Keras prints it (``model.summary()``), plus FLOPs and expectations.

Plain string building, no rich: ``specc validate`` is a fast feedback loop and rich's import
costs more than the whole table. Falls back to ASCII when the output cannot encode boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from specc.expectations import ExpectationCheck
from specc.layers.base import format_shape

if TYPE_CHECKING:
    from specc.spec.load import LoadedSpec


@dataclass(frozen=True)
class _Box:
    top: tuple[str, str, str, str]  # left, fill, join, right
    head: tuple[str, str, str]  # left, separator, right for the header row
    under_head: tuple[str, str, str, str]
    row: tuple[str, str, str]
    between: tuple[str, str, str, str]
    bottom: tuple[str, str, str, str]
    met: str
    failed: str


UNICODE = _Box(
    ("┏", "━", "┳", "┓"), ("┃", "┃", "┃"), ("┡", "━", "╇", "┩"), ("│", "│", "│"),
    ("├", "─", "┼", "┤"), ("└", "─", "┴", "┘"), "✓", "✗",
)
ASCII = _Box(
    ("+", "=", "+", "+"), ("|", "|", "|"), ("+", "=", "+", "+"), ("|", "|", "|"),
    ("+", "-", "+", "+"), ("+", "-", "+", "+"), "ok", "FAIL",
)


def box_for(encoding: str | None) -> _Box:
    """Unicode boxes where the stream can encode them (a UTF-8 terminal), else ASCII."""
    try:
        "┏━┳┓┃┡╇┩│├─┼┤└┴┘✓✗".encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return UNICODE


def render_summary(loaded: LoadedSpec, checks: list[ExpectationCheck], box: _Box = UNICODE) -> str:
    """Keras's summary table with a FLOPs column and each layer's expectation verdict."""
    info = loaded.info
    by_layer: dict[int, list[ExpectationCheck]] = {}
    for check in checks:
        if check.layer_index is not None:
            by_layer.setdefault(check.layer_index, []).append(check)
    graph = any(layer.layer.inputs is not None for layer in info.layers)
    headers = ["Layer (type)", "Output Shape", "Param #", "FLOPs"]
    if graph:
        headers.append("Connected to")
    headers.append("Expect")
    rows = [
        _row(
            f"{loaded.spec.input.name} (InputLayer)",
            format_shape(loaded.spec.input.shape), 0, 0, graph, "", [], box,
        )
    ]
    for layer in info.layers:
        rows.append(
            _row(
                f"{layer.layer.name} ({layer.layer.type})",
                format_shape(layer.output_shape),
                layer.params.total,
                layer.flops,
                graph,
                ", ".join(layer.input_names),
                by_layer.get(layer.index, []),
                box,
            )
        )
    right_aligned = {2, 3}
    lines = [f'Model: "{loaded.spec.name}"', *_table(headers, rows, right_aligned, box)]
    lines.extend(_totals(loaded, checks, box))
    return "\n".join(lines)


def _row(
    label: str,
    shape: str,
    params: int,
    flops: int,
    graph: bool,
    connected: str,
    checks: list[ExpectationCheck],
    box: _Box,
) -> list[str]:
    row = [label, shape, f"{params:,}", compact(flops)]
    if graph:
        row.append(connected)
    row.append(_verdict(checks, box))
    return row


def _verdict(checks: list[ExpectationCheck], box: _Box) -> str:
    if not checks:
        return ""
    failed = [check.quantity for check in checks if not check.met]
    return f"{box.failed} {', '.join(failed)}" if failed else box.met


def _table(
    headers: list[str], rows: list[list[str]], right_aligned: set[int], box: _Box
) -> list[str]:
    widths = [max(len(row[i]) for row in [headers, *rows]) + 2 for i in range(len(headers))]

    def rule(parts: tuple[str, str, str, str]) -> str:
        left, fill, join, right = parts
        return left + join.join(fill * width for width in widths) + right

    def line(cells: list[str], edges: tuple[str, str, str]) -> str:
        left, separator, right = edges
        texts = [
            (f" {cell.rjust(width - 2)} " if i in right_aligned else f" {cell.ljust(width - 2)} ")
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return left + separator.join(texts) + right

    out = [rule(box.top), line(headers, box.head), rule(box.under_head)]
    for number, row in enumerate(rows):
        if number:
            out.append(rule(box.between))
        out.append(line(row, box.row))
    out.append(rule(box.bottom))
    return out


def _totals(loaded: LoadedSpec, checks: list[ExpectationCheck], box: _Box) -> list[str]:
    info = loaded.info
    by_quantity = {check.quantity: check for check in checks if check.layer_index is None}

    def mark(quantity: str) -> str:
        check = by_quantity.get(quantity)
        if check is None:
            return ""
        return f"  {box.met}" if check.met else f"  {box.failed} expected {check.declared:,}"

    return [
        f" Total params: {info.total_params:,} ({memory_size(info.total_params)})"
        + mark("total_params"),
        f" Trainable params: {info.trainable_params:,} ({memory_size(info.trainable_params)})"
        + mark("trainable_params"),
        f" Non-trainable params: {info.non_trainable_params:,} "
        f"({memory_size(info.non_trainable_params)})" + mark("non_trainable_params"),
        f" FLOPs per example: {info.flops:,} ({compact(info.flops)})",
    ]


def memory_size(params: int) -> str:
    """Keras's `readable_memory_size` of float32 weights: 78,990,642 -> '301.33 MB'."""
    size = float(params * 4)
    units = ("B", "KB", "MB", "GB", "TB", "PB")
    for unit in units[:-1]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


def compact(count: int) -> str:
    """1234567 -> '1.23M'."""
    for scale, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if count >= scale:
            return f"{count / scale:.2f}{suffix}"
    return str(count)


# ---------------------------------------------------------------- JSON


def summary_json(loaded: LoadedSpec, checks: list[ExpectationCheck]) -> dict[str, Any]:
    """The same result, machine-readable."""
    info = loaded.info
    return {
        "name": loaded.spec.name,
        "sha256": loaded.sha256,
        "input": {"name": loaded.spec.input.name, "shape": list(loaded.spec.input.shape)},
        "layers": [
            {
                "index": layer.index,
                "name": layer.layer.name,
                "type": layer.layer.type,
                "inputs": list(layer.input_names),
                "input_shapes": [list(shape) for shape in layer.input_shapes],
                "output_shape": list(layer.output_shape),
                "params": {
                    "total": layer.params.total,
                    "trainable": layer.params.trainable,
                    "non_trainable": layer.params.non_trainable,
                    "formula": layer.params.formula,
                },
                "flops": layer.flops,
            }
            for layer in info.layers
        ],
        "totals": {
            "total_params": info.total_params,
            "trainable_params": info.trainable_params,
            "non_trainable_params": info.non_trainable_params,
            "flops": info.flops,
        },
        "expectations": [check_json(check, loaded.source.file) for check in checks],
    }


def check_json(check: ExpectationCheck, file: str) -> dict[str, Any]:
    return {
        "subject": check.subject,
        "layer_index": check.layer_index,
        "quantity": check.quantity,
        "declared": list(check.declared) if isinstance(check.declared, tuple) else check.declared,
        "inferred": list(check.inferred) if isinstance(check.inferred, tuple) else check.inferred,
        "met": check.met,
        "explanation": check.explanation,
        "file": file,
        "line": check.position.line,
        "col": check.position.col,
        "message": None if check.met else check.message(),
    }
