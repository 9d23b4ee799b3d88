"""The summary layouts Keras printed before Keras 3, re-implemented from its print_summary.

Keras 3 prints its own tables (box-drawn, through rich), and the tests print those with a
real `model.summary()`. Older layouts cannot be printed by the Keras installed here, so
they are written from the same rows by faithful copies of the historical code:

- `keras2_summary`: keras/utils/layer_utils.py `print_summary` of Keras 2.x and tf.keras
  before 2.6: fixed columns, each field cut at its column's edge with no marker, `____`
  rules between rows, further "Connected to" entries on rows of their own.
- `tf2_summary`: the TF 2.6-2.15 (Keras 2.9+) version: a leading space, cells wrapped onto
  the following lines at their column's width (or after `),` `],` `',`), a blank line after
  every row, "Connected to" printed as a Python list.

A `Row` is what both printed of one layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    name: str
    class_name: str
    output_shape: Any  # a tuple with None for the batch, a list of them, or "multiple"
    params: int
    connections: tuple[str, ...] = ()  # "conv2d[0][0]" entries
    trainable: bool = True


@dataclass(frozen=True)
class Printed:
    model_name: str | None
    rows: Sequence[Row]
    trainable: int
    non_trainable: int
    sequential: bool


def keras2_summary(model: Printed, line_length: int | None = None,
                   positions: Sequence[float] | None = None) -> str:
    lines: list[str] = []
    print_fn: Callable[[str], None] = lines.append
    if model.sequential:
        line_length = line_length or 65
        positions = positions or [.45, .85, 1.]
        to_display = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [.33, .55, .67, 1.]
        to_display = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def print_row(fields: Sequence[Any], positions: Sequence[int]) -> None:
        line = ""
        for i in range(len(fields)):
            if i > 0:
                line = line[:-1] + " "
            line += str(fields[i])
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    if model.model_name is not None:
        print_fn(f'Model: "{model.model_name}"')
    print_fn("_" * line_length)
    print_row(to_display, positions)
    print_fn("=" * line_length)
    for i, row in enumerate(model.rows):
        fields = [f"{row.name} ({row.class_name})", row.output_shape, row.params]
        if model.sequential:
            print_row(fields, positions)
        else:
            connections = list(row.connections)
            print_row([*fields, connections[0] if connections else ""], positions)
            for connection in connections[1:]:
                print_row(["", "", "", connection], positions)
        print_fn(("=" if i == len(model.rows) - 1 else "_") * line_length)
    print_fn(f"Total params: {model.trainable + model.non_trainable:,}")
    print_fn(f"Trainable params: {model.trainable:,}")
    print_fn(f"Non-trainable params: {model.non_trainable:,}")
    print_fn("_" * line_length)
    return "\n".join(lines) + "\n"


def tf2_summary(model: Printed, line_length: int | None = None,
                positions: Sequence[float] | None = None, sizes: bool = False,
                show_trainable: bool = False) -> str:
    lines: list[str] = []
    print_fn: Callable[[str], None] = lines.append
    if model.sequential:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        to_display = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.70, 1.0]
        to_display = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:  # TF 2.8+
        line_length += 11
        positions = [*positions, line_length]
        to_display = [*to_display, "Trainable"]

    def print_row(fields: Sequence[Any], positions: Sequence[int]) -> None:
        left_to_print = [str(x) for x in fields]
        while any(left_to_print):
            line = ""
            for col in range(len(left_to_print)):
                start_pos = positions[col - 1] if col > 0 else 0
                end_pos = positions[col]
                # Leave room for 2 spaces to delineate columns; none after the last.
                space = 2 if col != len(positions) - 1 else 0
                cutoff = end_pos - start_pos - space
                fit_into_line = left_to_print[col][:cutoff]
                # For nicer formatting we line-break on seeing end of tuple/dict etc.
                line_break_conditions = ("),", "},", "],", "',")
                candidate_cutoffs = [
                    fit_into_line.find(x) + len(x)
                    for x in line_break_conditions
                    if fit_into_line.find(x) >= 0
                ]
                if candidate_cutoffs:
                    cutoff = min(candidate_cutoffs)
                    fit_into_line = fit_into_line[:cutoff]
                if col == 0:
                    line += " "
                line += fit_into_line
                line += " " * space if space else ""
                left_to_print[col] = left_to_print[col][cutoff:]
                line += " " * (positions[col] - len(line))
            print_fn(line)

    print_fn(f'Model: "{model.model_name}"')
    print_fn("_" * line_length)
    print_row(to_display, positions)
    print_fn("=" * line_length)
    for row in model.rows:
        fields: list[Any] = [f"{row.name} ({row.class_name})", row.output_shape, row.params]
        if not model.sequential:
            fields.append(list(row.connections))
        if show_trainable:
            fields.append("Y" if row.trainable else "N")
        print_row(fields, positions)
        print_fn(" " * line_length)
    print_fn("=" * line_length)
    total = model.trainable + model.non_trainable
    for label, count in (("Total", total), ("Trainable", model.trainable),
                         ("Non-trainable", model.non_trainable)):
        size = f" ({count * 4 / 1024:.2f} KB)" if sizes else ""
        print_fn(f"{label} params: {count:,}{size}")
    print_fn("_" * line_length)
    return "\n".join(lines) + "\n"


def rows_of_keras_model(model: Any, tf2_input_lists: bool = True) -> Printed:
    """What the historical print_summary read from a model: names, classes, output shapes,
    counts and inbound connections (a real Keras 3 model stands in for a Keras 2 one)."""
    import keras

    sequential = isinstance(model, keras.Sequential)
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape)
        class_name = type(layer).__name__
        if class_name == "InputLayer" and tf2_input_lists:
            shape = [shape]  # tf.keras printed an InputLayer's output shape as a list
        connections = tuple(
            f"{tensor._keras_history.operation.name}[0][0]"
            for node in layer._inbound_nodes for tensor in node.input_tensors
        )
        rows.append(Row(layer.name, class_name, shape, layer.count_params(), connections,
                        layer.trainable))
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    non_trainable = sum(int(w.numpy().size) for w in model.non_trainable_weights)
    return Printed(model.name, rows, trainable, non_trainable, sequential)
