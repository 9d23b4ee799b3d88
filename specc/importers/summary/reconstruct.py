"""From a printed summary's rows to a spec: types, names, wiring, hyper-parameters.

Every layer type proposes the configurations that could have printed its row
(:meth:`specc.layers.base.Layer.summary_readings`, most common first); the layer's own
shape and parameter rules decide which fit. The first that fits is chosen; when others fit
too, or when an argument is one a summary never shows, a note says so. Notes become YAML
comments on the layer's line and the list printed at the end of the command.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice, pairwise, product
from typing import Any

from pydantic import ValidationError

from specc.errors import ExpectationError, LayerError, Position, SpeccError
from specc.importers.summary.parse import PrintedLayer, PrintedSummary, error_at
from specc.layers.base import Layer, LayerExpect, elements
from specc.layers.readings import PrintedRow, Reading
from specc.layers.registry import LAYER_TYPES, nearest_layer_type
from specc.limits import MAX_LAYERS, ModelLimitError, check_model_limits
from specc.spec.model import DEFER_WIRING_CHECK, InputSpec, ModelExpect, Spec, first_wiring_problem
from specc.spec.types import IntPair, Shape

__all__ = ["Imported", "reconstruct"]

INPUT_LAYER = "InputLayer"
MAX_READINGS = 5_000  # per layer and tried output shape; the hooks yield the common ones first
MAX_ALTERNATIVES = 4  # "also fits" values listed in a note
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_WIRING_TRIES = 256  # input combinations tried for one row whose inputs' names are cut
_NESTED_MODELS = frozenset({"Sequential", "Functional", "Model"})  # one row for many layers
# A row's input: the layer's name, or (the name as the table cut it, every layer it could be).
_Input = str | tuple[str, list[str]]


def _positions(choices: list[tuple[str, ...]]) -> list[list[str]]:
    return [list(dict.fromkeys(choice[i] for choice in choices))
            for i in range(len(choices[0]))]


def _chain_end(fitting: list[tuple[str, ...]],
               wired: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """Where every layer a cut name could be already feeds another, and they form one
    chain (conv -> bn -> relu, each reading the one before), its last layer: what the
    chain exists to produce. None where they do not."""
    chosen = []
    for names in _positions(fitting):
        if not all(before in wired.get(after, ()) for before, after in pairwise(names)):
            return None
        chosen.append(names[-1])
    return tuple(chosen) if tuple(chosen) in fitting else None


def _one_order_each(choices: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The choices, each set of inputs once: a commutative merge (Add) reading (a, b)
    computes what it computes reading (b, a)."""
    return list({tuple(sorted(choice)): choice for choice in reversed(choices)}.values())[::-1]


@dataclass
class Imported:
    spec: Spec
    comments: dict[str, str] = field(default_factory=dict)  # layer name (or "input") -> note
    guesses: list[tuple[int, str]] = field(default_factory=list)  # (line, "name (Type): note")


@dataclass
class _Fit:
    reading: Reading
    layer: Layer


def reconstruct(
    summary: PrintedSummary, name: str, input_shape: Shape | None = None
) -> Imported:
    """The spec the table describes; raises a located SpeccError where it cannot."""
    rows = list(summary.layers)
    types = [_type_candidates(summary.file, row) for row in rows]
    inputs = [index for index, candidates in enumerate(types) if candidates == [INPUT_LAYER]]
    if len(inputs) > 1:
        raise error_at(summary.file, rows[inputs[1]].line, "a second InputLayer: specc models "
                       "have one input")
    if inputs and inputs[0] != 0:
        raise error_at(summary.file, rows[inputs[0]].line, "the InputLayer must be the first row")
    input_row = rows[0] if inputs else None
    _refuse_variable_sizes(summary.file, rows, given_input=input_shape is not None)
    _refuse_shared_layers(summary.file, rows)
    body = [(row, [t for t in candidates if t != INPUT_LAYER])
            for row, candidates in zip(rows, types, strict=True) if candidates != [INPUT_LAYER]]
    if not body:
        raise error_at(summary.file, rows[0].line, "the table has an InputLayer and no layers")
    if len(body) > MAX_LAYERS:
        raise error_at(summary.file, body[MAX_LAYERS][0].line, f"the table has {len(body):,} "
                       f"layers; a spec has at most {MAX_LAYERS:,}")
    builder = _Builder(summary, input_row, [row for row, _ in body])
    return builder.build(name, [type_name for _, type_name in body], input_shape)


def _refuse_variable_sizes(file: str, rows: list[PrintedLayer], given_input: bool) -> None:
    """A model built for any input size prints `None` sizes, which hide what each layer does
    to them (a stride, a padding); only the input's own may be given with --input-shape."""
    variable = [row for row in rows if row.variable_size]
    layers = [row for row in variable if row.type_name != INPUT_LAYER]
    if layers:
        fix = "print the summary of the model built for one size (keras.Input((224, 224, 3)))"
    elif variable and not given_input:
        fix = "give --input-shape H,W,C"
    else:
        return
    row = (layers or variable)[0]
    raise error_at(file, row.line, f"layer {row.name}: its output shape {row.shape_text} has a "
                   "variable size (the model takes any input size), which hides what the layers "
                   f"do to sizes; {fix}")


def _refuse_shared_layers(file: str, rows: list[PrintedLayer]) -> None:
    """A layer called more than once shows as one row listing every call's input, read by
    others as `name[1][0]` (its second call); a spec calls each layer once."""
    called_again = {connection.name for row in rows for connection in row.connections
                    if connection.call > 0 and not connection.cut}
    for row in rows:
        if row.name in called_again:
            evidence = f"layers read `{row.name}[1][0]`, its second call"
        elif not row.name_cut and any(connection.name == row.name and not connection.cut
                                      for connection in row.connections):
            evidence = "it reads its own output"
        else:
            continue
        raise error_at(file, row.line, f"layer {row.name}: is a shared layer, called more than "
                       f"once ({evidence}); specc models call each layer once")


# ---------------------------------------------------------------- types and names


def snake_case(name: str) -> str:
    """Keras's default layer name for a class: MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _type_candidates(file: str, row: PrintedLayer) -> list[str]:
    """The registered types the printed type can be: itself, or those a cut one starts
    (narrowed by Keras's default layer names, else by a word of the name; reconstruction
    decides between the rest)."""
    known = [*LAYER_TYPES, INPUT_LAYER]
    if not row.type_cut:
        if row.type_name in known:
            return [row.type_name]
        if row.type_name in _NESTED_MODELS:
            raise error_at(file, row.line, f"layer {row.name}: is a nested {row.type_name} "
                           "model, whose layers a summary does not show; import the model "
                           "itself with `specc import keras`, which inlines nested models")
        nearest = nearest_layer_type(row.type_name)
        hint = f"; the nearest known type is {nearest}" if nearest else ""
        raise error_at(file, row.line, f"layer {row.name}: specc does not know the layer type "
                       f"{row.type_name!r}{hint}")
    candidates = [t for t in known if t.startswith(row.type_name)]
    by_name = [t for t in candidates if row.name.startswith(snake_case(t))]
    if by_name:  # Keras names layers after their class: max_pooling2d_1
        # The longest class name the layer's name starts with: conv2d_transpose_1 is a
        # Conv2DTranspose, though it starts with conv2d too.
        longest = max(len(snake_case(t)) for t in by_name)
        return [t for t in by_name if len(snake_case(t)) == longest]
    # Else by a word of the name: block_1_expand_relu (R is a ReLU, not a Reshape.
    by_word = [t for t in candidates if t.lower() in row.name.lower().split("_")]
    if by_word:
        return by_word
    if not candidates:
        nearest = nearest_layer_type(row.type_name)
        hint = f"; the nearest known type is {nearest}" if nearest else ""
        raise error_at(file, row.line, f"layer {row.name}: the type is cut to "
                       f"{_cut(row)!r} and no type specc knows starts so{hint}")
    return candidates


def _cut(row: PrintedLayer) -> str:
    return f"({row.type_name}" if row.type_name else "(no type)"


def identifier(name: str) -> str:
    """A printed name as a spec name: ASCII letters, digits and `_`, not a keyword."""
    cleaned = re.sub(r"\W", "_", name, flags=re.ASCII) or "layer"
    cleaned = cleaned if _IDENTIFIER.match(cleaned) else f"layer_{cleaned}"
    if keyword.iskeyword(cleaned) or keyword.issoftkeyword(cleaned) or cleaned.startswith("__"):
        cleaned = f"layer_{cleaned.strip('_')}"
    return cleaned[:64]


# ---------------------------------------------------------------- building


class _Builder:
    def __init__(
        self, summary: PrintedSummary, input_row: PrintedLayer | None, rows: list[PrintedLayer]
    ) -> None:
        self.summary = summary
        self.file = summary.file
        self.input_row = input_row
        self.rows = rows
        self.imported_names = self._names()
        self.comments: dict[str, list[str]] = {}
        self.guesses: list[tuple[int, str]] = []

    def _names(self) -> list[str]:
        taken = {self._input_name()}
        names = []
        for row in self.rows:
            base = identifier(row.name)
            unique, count = base, 1
            while unique in taken:
                count += 1
                unique = f"{base}_{count}"
            taken.add(unique)
            names.append(unique)
        return names

    def _input_name(self) -> str:
        if self.input_row is None:
            return "input"
        return identifier(self.input_row.name)

    def note(self, key: str, line: int, label: str, text: str) -> None:
        self.comments.setdefault(key, []).append(text)
        self.guesses.append((line, f"{label}: {text}"))

    # --- the whole model

    def build(self, name: str, types: list[list[str]], input_shape: Shape | None) -> Imported:
        entries = [self._sources(index) for index in range(len(self.rows))]
        read = {entry for row in entries for entry in row if isinstance(entry, str)}
        wired: dict[str, tuple[str, ...]] = {}
        input_name = self._input_name()
        shape = input_shape or self._printed_input_shape()
        if shape is None:
            shape = self._infer_input_shape(types[0][0])
        shapes: dict[str, Shape] = {input_name: shape}
        layers: list[Layer] = []
        figures: list[tuple[int, int, int]] = []  # (index, parameters, output elements)
        for index, (row, candidates) in enumerate(zip(self.rows, types, strict=True)):
            sources = self._resolve_inputs(index, entries[index], read, wired, candidates,
                                           shapes)
            wired[self.imported_names[index]] = sources
            in_shapes = tuple(shapes[source] for source in sources)
            layer = self._layer(index, row, candidates, in_shapes, sources)
            type_name = layer.type
            layers.append(layer)
            try:
                shapes[layer.name] = row.output_shape or layer.output_shape(in_shapes)
                figures.append((index, layer.param_count(in_shapes).total,
                                elements(layer.output_shape(in_shapes))))
            except LayerError as error:
                raise ExpectationError(
                    f"layer {layer.name} ({type_name}): {error.message}", file=self.file,
                    position=Position(row.line, 1),
                ) from None
        self._check_limits(figures, shape)
        spec = self._spec(name, InputSpec.model_construct(name=input_name, shape=shape), layers)
        comments = {key: "; ".join(texts) for key, texts in self.comments.items()}
        return Imported(spec, comments, self.guesses)

    def _check_limits(self, figures: list[tuple[int, int, int]], input_shape: Shape) -> None:
        """specc's model limits, at the row that crosses one (checked when the spec loads,
        they would point into a spec never written)."""
        try:
            check_model_limits(figures, elements(input_shape))
        except ModelLimitError as error:
            if error.index is None:
                row, label = self.input_row or self.rows[0], "input"
            else:
                row = self.rows[error.index]
                label = f"layer {row.name}"
            raise error_at(self.file, row.line, f"{label}: {error.message}") from None

    def _spec(self, name: str, input_spec: InputSpec, layers: list[Layer]) -> Spec:
        """The validated spec; what specc cannot express is an error at its row."""
        line = self.input_row.line if self.input_row else self.rows[0].line
        try:
            InputSpec.model_validate(input_spec.model_dump())
        except ValidationError:
            raise error_at(self.file, line, f"the input shape {list(input_spec.shape)} has "
                           f"{len(input_spec.shape)} dimensions; specc models take 1 to 3 "
                           "(channels-last images, sequences or vectors)") from None
        spec = Spec.model_validate(
            {"name": name, "description": self._description(), "input": input_spec.model_dump(),
             "layers": layers,
             "expect": ModelExpect(total_params=self.summary.model_total,
                                   trainable_params=self.summary.trainable,
                                   non_trainable_params=self.summary.non_trainable)},
            context={DEFER_WIRING_CHECK: True},
        )
        problem = first_wiring_problem(spec)
        if problem is not None:
            index = problem.path[1] if len(problem.path) > 1 else 0
            row = self.rows[index if isinstance(index, int) else 0]
            raise error_at(self.file, row.line, f"{problem.message} (specc models have one "
                           "input and one output)")
        return spec

    def _description(self) -> str:
        shown = f'"{self.summary.model_name}"' if self.summary.model_name else "a model"
        return f"Imported from the Keras summary of {shown} ({self.summary.file})."

    def _printed_input_shape(self) -> Shape | None:
        if self.input_row is None:
            return None
        if self.input_row.output_shape is None:
            self.note("input", self.input_row.line, "input",
                      f"its shape {self.input_row.shape_text!r} cannot be read; inferred "
                      "from the first layer")
        return self.input_row.output_shape

    # --- wiring

    def _resolve_inputs(self, index: int, entries: tuple[_Input, ...],
                        read: set[str], wired: dict[str, tuple[str, ...]],
                        candidates: list[str], shapes: dict[str, Shape]) -> tuple[str, ...]:
        """A row's inputs. A "Connected to" name the table cut may fit several layers above
        it. Of the choices whose shapes reproduce this row's figures, the one reading only
        layers no row reads yet is taken (every layer but the last feeds another), else the
        only one; several such choices are an error. The choice is marked as inferred."""
        if all(isinstance(entry, str) for entry in entries):
            return tuple(entry for entry in entries if isinstance(entry, str))
        row = self.rows[index]
        options = [[entry] if isinstance(entry, str) else entry[1] for entry in entries]
        choices = list(islice(product(*options), _MAX_WIRING_TRIES + 1))
        if len(choices) > _MAX_WIRING_TRIES:
            raise self._ambiguous(row, entries, options)
        fitting = [choice for choice in choices
                   if self._reproduced(index, candidates, choice, shapes)]
        if all(LAYER_TYPES[type_name].commutative for type_name in candidates):
            fitting = _one_order_each(fitting)
        unread = [choice for choice in fitting if all(
            isinstance(entry, str) or name not in read
            for entry, name in zip(entries, choice, strict=True)) and len(set(choice)) == len(choice)]
        if len(unread) == 1:
            chosen, reason = unread[0], "the one that fits and feeds no other layer yet"
        elif not unread and fitting:
            chosen = _chain_end(fitting, wired)
            reason = "the end of the chain of layers the cut name fits"
            if chosen is None:
                raise self._ambiguous(row, entries, _positions(fitting))
        else:
            raise self._ambiguous(row, entries, _positions(unread) if unread else options)
        for entry, name in zip(entries, chosen, strict=True):
            if isinstance(entry, str):
                continue
            printed, fitting_names = entry
            self.note(self.imported_names[index], row.line, f"{row.name} ({row.type_name})",
                      f"inferred: input {name} (the table cuts it to {printed!r}, which could "
                      f"also be {', '.join(other for other in fitting_names if other != name)}; "
                      f"{name} is {reason})")
        read.update(chosen)
        return chosen

    def _ambiguous(self, row: PrintedLayer, entries: tuple[_Input, ...],
                   options: list[list[str]]) -> SpeccError:
        position = next(i for i, entry in enumerate(entries)
                        if not isinstance(entry, str) and len(options[i]) > 1)
        printed = entries[position][0]
        shown = options[position]
        listed = " or ".join(shown[:6]) + (f" (and {len(shown) - 6} more)" if len(shown) > 6 else "")
        return error_at(self.file, row.line, f"layer {row.name}: its input {printed!r} is cut and "
                        f"could be {listed}; write the full name in the table")

    def _reproduced(self, index: int, candidates: list[str], sources: tuple[str, ...],
                    shapes: dict[str, Shape]) -> bool:
        """Whether a type of this row, reading `sources`, reproduces its printed figures."""
        row = self.rows[index]
        return bool(self._fitting_types(self._base(index, row, sources), row, candidates,
                                        tuple(shapes[source] for source in sources),
                                        is_last=index == len(self.rows) - 1))

    def _sources(self, index: int) -> tuple[_Input, ...]:
        row = self.rows[index]
        previous = self.imported_names[index - 1] if index else self._input_name()
        if not self.summary.functional or not row.connections:
            return (previous,)
        return tuple(self._source(index, connection) for connection in row.connections)

    def _source(self, index: int, connection: Any) -> _Input:
        """The layer a connection names, or (the printed name, every layer it could be)."""
        row = self.rows[index]
        printed = ([self.input_row] if self.input_row else []) + self.rows[:index]
        names = ([self._input_name()] if self.input_row else []) + self.imported_names[:index]
        exact = [name for candidate, name in zip(printed, names, strict=True)
                 if candidate.name == connection.name and not candidate.name_cut]
        if exact and not connection.cut:
            return exact[-1]
        matches = list(dict.fromkeys(
            name for candidate, name in zip(printed, names, strict=True)
            if candidate.name.startswith(connection.name)
            or (candidate.name_cut and connection.name.startswith(candidate.name))
        ))
        if len(matches) == 1:
            return matches[0]
        later = any(other.name.startswith(connection.name) for other in self.rows[index:])
        if not matches and index == 0 and self.input_row is None:
            return self._input_name()
        if not matches:
            reason = "a later layer" if later else "no layer above it"
            raise error_at(self.file, row.line, f"layer {row.name}: its input "
                           f"{connection.name!r} is {reason}; specc needs layers in graph order")
        return connection.name, matches

    # --- one layer

    def _layer(
        self, index: int, row: PrintedLayer, candidates: list[str], in_shapes: tuple[Shape, ...],
        sources: tuple[str, ...],
    ) -> Layer:
        name = self.imported_names[index]
        base = self._base(index, row, sources)
        is_last = index == len(self.rows) - 1
        found = self._fitting_types(base, row, candidates, in_shapes, is_last)
        # `(Conv2D`: only the `)` cut, a whole type name, the likelier than the longer ones
        whole = row.type_name if len(found) > 1 and row.type_name in found else None
        if len(candidates) > 1 and len(found) != 1 and not whole:
            which = " or ".join(found or candidates)
            raise error_at(self.file, row.line, f"layer {row.name}: the type is cut to "
                           f"{_cut(row)!r}, and {which} could each print this row; write the "
                           "full type in the table")
        type_name = whole or (next(iter(found)) if found else candidates[0])
        cls = LAYER_TYPES[type_name]
        base["type"] = type_name
        label = f"{name} ({type_name})"
        if row.name_cut or name != row.name:
            self.note(name, row.line, label, f"the table shows the name as {row.name!r}"
                      + ("…" if row.name_cut else ""))
        if whole:
            self.note(name, row.line, label, f"guessed: type {type_name} (the table cuts it to "
                      f"{_cut(row)!r}; {', '.join(t for t in found if t != whole)} also "
                      "reproduces the row)")
        elif len(candidates) > 1:
            self.note(name, row.line, label, f"the type is cut to {_cut(row)!r}; only "
                      f"{type_name} of {', '.join(candidates)} reproduces the row")
        if not found:
            return self._closest(cls, base, row, in_shapes, is_last, label)
        fits, out = found[type_name]
        if row.output_shape is None and out is not None:
            self.note(name, row.line, label, f"output shape printed as {row.shape_text!r}; "
                      f"{tuple(out)} fits its parameters")
        chosen = fits[0]
        for text in _notes(chosen, fits):
            self.note(name, row.line, label, text)
        return chosen.layer

    def _base(self, index: int, row: PrintedLayer, sources: tuple[str, ...]) -> dict[str, Any]:
        """The row's layer without its type: name, `inputs` where not the previous layer,
        `trainable: false` where the table shows it frozen, and the printed figures as
        expectations."""
        previous = self.imported_names[index - 1] if index else self._input_name()
        base: dict[str, Any] = {"name": self.imported_names[index]}
        if sources != (previous,):
            base["inputs"] = sources
        if row.trainable is False:
            base["trainable"] = False
        base["expect"] = LayerExpect(shape=row.output_shape, params=row.params)
        return base

    def _fitting_types(
        self, base: dict[str, Any], row: PrintedLayer, candidates: list[str],
        in_shapes: tuple[Shape, ...], is_last: bool,
    ) -> dict[str, tuple[list[_Fit], Shape | None]]:
        """The candidate types with a configuration reproducing the row, and those fits."""
        found = {}
        for type_name in candidates:
            fits, out = self._fits(LAYER_TYPES[type_name], {**base, "type": type_name}, row,
                                   in_shapes, is_last)
            if fits:
                found[type_name] = (fits, out)
        return found

    def _fits(
        self, cls: type[Layer], base: dict[str, Any], row: PrintedLayer,
        in_shapes: tuple[Shape, ...], is_last: bool,
    ) -> tuple[list[_Fit], Shape | None]:
        for out in self._output_candidates(row, in_shapes):
            printed = PrintedRow(in_shapes, out, row.params, is_last)
            fits = [fit for fit in _tried(cls, base, printed) if _reproduces(fit, printed)]
            if fits:
                return fits, out
        return [], None

    def _output_candidates(self, row: PrintedLayer, in_shapes: tuple[Shape, ...]) -> list[Shape]:
        """The printed shape; for one the column cut, that shape read whole; then (for
        `multiple` too) the input's shape and the next printed one, where they fit the cut."""
        if row.output_shape is not None:
            return [row.output_shape]
        index = self.rows.index(row)
        following = [later.output_shape for later in self.rows[index + 1:] if later.output_shape]
        closed = [row.closed_shape] if row.closed_shape else []
        candidates = [*closed, *in_shapes[:1], *following[:1]]
        return [shape for shape in dict.fromkeys(candidates) if row.could_print(shape)]

    def _closest(
        self, cls: type[Layer], base: dict[str, Any], row: PrintedLayer,
        in_shapes: tuple[Shape, ...], is_last: bool, label: str,
    ) -> Layer:
        """No configuration reproduces the row: the first with the printed shape (the check
        then names the layer and the figure that differs)."""
        for out in self._output_candidates(row, in_shapes) or [in_shapes[0]]:
            printed = PrintedRow(in_shapes, out, row.params, is_last)
            for fit in _tried(cls, base, printed):
                if fit.layer.output_shape(in_shapes) == out:
                    self.note(base["name"], row.line, label, f"no {cls.type_name()} "
                              f"configuration reproduces {row.params:,} parameters")
                    return fit.layer
        raise ExpectationError(
            f"layer {base['name']} ({cls.type_name()}): no {cls.type_name()} configuration takes "
            f"input {_shapes(in_shapes)} to output {row.shape_text} with {row.params:,} "
            "parameters",
            file=self.file, position=Position(row.line, 1),
        )

    # --- the input shape when the table has no InputLayer row

    def _infer_input_shape(self, first_type: str) -> Shape:
        row = self.rows[0]
        cls = LAYER_TYPES[first_type]
        base = {"type": first_type, "name": self.imported_names[0]}
        known = self.input_row.shape_prefix if self.input_row else ()
        for shape in _input_candidates(row):
            if shape[:len(known)] != known:
                continue
            for out in self._output_candidates(row, (shape,)):
                printed = PrintedRow((shape,), out, row.params, len(self.rows) == 1)
                fits = [fit for fit in islice(_tried(cls, base, printed), 50)
                        if _reproduces(fit, printed)]
                if fits:
                    self.note("input", row.line, "input", (
                        f"no InputLayer row: shape {list(shape)} inferred from the first layer "
                        f"{row.name} (give --input-shape to set it)"))
                    return shape
        raise error_at(self.file, row.line, f"the table has no InputLayer row and the input "
                       f"shape cannot be inferred from layer {row.name}; give --input-shape "
                       "H,W,C")


# Input sizes of common data sets (MNIST 28, CIFAR 32, ImageNet 224, ...), tried first.
COMMON_INPUT_SIZES = (28, 32, 224, 227, 299, 64, 96, 128, 256, 48, 112, 160, 192, 384, 512)


def _input_candidates(row: PrintedLayer) -> Iterable[Shape]:
    """Input shapes to try for a first layer, the likeliest first: a common data-set size,
    the layer's own size (stride 1, 'same'), then the sizes a 'valid' window or a stride
    would shrink from; 3 or 1 channels first."""
    out = row.output_shape
    if out is None:
        return
    channels = [3, 1, 4, 2]
    if out[-1]:
        channels += [row.params // out[-1] - 1, row.params // out[-1]]
    channels += list(range(5, 2049))
    channels = [c for c in dict.fromkeys(channels) if c > 0]
    if len(out) == 3:
        height, width = out[0], out[1]
        spatial = [(height + d, width + d) for d in (0, 2, 4, 6, 10)]
        spatial += [(2 * height, 2 * width), (2 * height + 1, 2 * width + 1)]
        spatial.sort(key=lambda size: size[0] not in COMMON_INPUT_SIZES)
        for h, w in spatial:
            for channel in channels:
                yield (h, w, channel)
    elif len(out) == 1:
        for channel in channels:
            yield (channel,)


def _tried(cls: type[Layer], base: dict[str, Any], printed: PrintedRow) -> Iterable[_Fit]:
    """The readings the type proposes that make a valid layer for these inputs."""
    for reading in islice(cls.summary_readings(printed), MAX_READINGS):
        try:
            layer = cls.model_validate({**base, **reading.config})
            layer.output_shape(printed.input_shapes)
        except (ValidationError, LayerError, ValueError):
            continue
        yield _Fit(reading, layer)


def _reproduces(fit: _Fit, printed: PrintedRow) -> bool:
    layer, shapes = fit.layer, printed.input_shapes
    return (layer.output_shape(shapes) == printed.output_shape
            and layer.param_count(shapes).total == printed.params)


# ---------------------------------------------------------------- notes


def _notes(chosen: _Fit, fits: Sequence[_Fit]) -> list[str]:
    notes = []
    keys = list(dict.fromkeys(key for fit in fits for key in fit.reading.config))
    differing = [key for key in keys if len({repr(getattr(fit.layer, key)) for fit in fits}) > 1]
    if differing:
        def values(fit: _Fit) -> str:
            shown = [_value(fit.layer, key) for key in differing]
            if len(differing) == 1:
                return shown[0]
            return " ".join(f"{key} {value}" for key, value in zip(differing, shown, strict=True))

        mine = ", ".join(f"{key} {_value(chosen.layer, key)}" for key in differing)
        others = list(dict.fromkeys(values(fit) for fit in fits if values(fit) != values(chosen)))
        shown = ", ".join(others[:MAX_ALTERNATIVES])
        more = f" and {len(others) - MAX_ALTERNATIVES} more" if len(others) > MAX_ALTERNATIVES else ""
        notes.append(f"guessed: {mine} (also fits {shown}{more})")
    for key, why in chosen.reading.unshown.items():
        notes.append(f"guessed: {key} {_value(chosen.layer, key)} ({why})")
    return notes


def _value(layer: Layer, key: str) -> str:
    """An argument as a note shows it: windows as 3x3, None as `none`."""
    value = getattr(layer, key)
    if key in ("strides",) and value is None:  # poolings: strides default to the pool size
        value = getattr(layer, "pool_size", value)
    if isinstance(value, int) and not isinstance(value, bool) and _is_pair_field(layer, key):
        value = (value, value)
    if value is None:
        return "none"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}x{value[1]}"
    return str(value)


def _is_pair_field(layer: Layer, key: str) -> bool:
    """Whether the argument is an "int or tuple of 2 ints" (kernel_size, strides, ...)."""
    return type(layer).model_fields[key].annotation in (IntPair, IntPair | None)


def _shapes(shapes: Sequence[Shape]) -> str:
    return ", ".join("(None, " + ", ".join(map(str, shape)) + ")" for shape in shapes)
