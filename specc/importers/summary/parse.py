"""Reading a printed Keras ``model.summary()`` table, in every layout Keras has printed.

- Keras 2 before TF 2.6: ``____`` rules between rows, fixed columns, text cut without a
  marker (``(Batch``, ``(MaxPooling2``), extra "Connected to" entries on rows of their own;
- TF 2.6 to 2.15: a leading space, rows separated by blank lines, cells wrapped onto the
  next lines (``(BatchN`` + ``ormalization)``), "Connected to" as a Python list whose ``]``
  may sit alone on the next line, columns shifted right by a long name;
- Keras 3: a box-drawn table, cells wrapped inside the box, words cut with ``…``, ``-`` for
  no input, sizes after the totals, an optional ``Optimizer params:`` line.

The result is a :class:`PrintedSummary`: each row's name, type, output shape and parameter
count as printed, with the 1-based line it starts on, and the totals. Nothing here knows
specc's layer types; :mod:`.reconstruct` gives the rows meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from specc.errors import Position, SpeccError

__all__ = ["Connection", "PrintedLayer", "PrintedSummary", "parse_summary"]

ELLIPSIS = "…"
# An output shape's sizes: a larger one makes the search for the configurations that print
# the row (strides, windows) take minutes, and fits no model within specc's limits anyway.
MAX_SIZE = 1 << 20
MAX_ROW_CHARS = 10_000  # a row's line; Keras prints a few hundred at the widest line_length
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# No-break and other Unicode spaces, as text copied from a web page or a notebook has them.
_OTHER_SPACES = re.compile(r"(?![\n\r\t\f\v ])\s")
_VERTICAL = "│┃|"
_BOX_RULE = re.compile(r"^[\s┏┓┗┛┡┩┢┪├┤┼┬┴└┘┌┐╇╈━─═╞╡╪+\-|│┃]+$")
_MODEL = re.compile(r'^\s*Model:\s*"?(?P<name>[^"]*?)"?\s*$')
_TOTAL = re.compile(
    r"^\s*(?P<what>Total|Trainable|Non-trainable|Optimizer) params:\s*(?P<count>\d[\d,]*)"
)
_DIM = r"(?:None|\d+)"
# An output shape as printed, possibly cut at its column's edge or wrapped (no closing `)`).
_SHAPE = rf"(?:multiple|\?|\[?\({_DIM}(?:,\s*{_DIM}?)*,?\)?\]?)"
_FIRST_LINE = re.compile(
    rf"^\s*(?P<cell>\S.*?)\s*(?<=\s)(?P<shape>{_SHAPE})\s+(?P<params>\d[\d,]*)"
    r"(?:\s+\((?:unused|unbuilt)\))?(?:\s+(?P<rest>\S.*?))?\s*$"
)
_NAME_CELL = re.compile(
    r"^(?P<name>[^\s(]+?)\s*(?:\((?P<type>[^)\s…]*)(?P<end>\)|…)?)?$"
)
# `show_trainable=True` adds a last column, its title possibly cut (`Traina…`).
TRAINABLE = "Trainable"
_TRAINABLE_VALUES = {"Y": True, "N": False}  # Keras 3 prints `-` for a layer without weights
_CONNECTION = re.compile(
    r"(?P<name>[A-Za-z_][\w.\-/]*)(?P<index>\[(?P<node>\d+)\]\[\d+\])?(?P<cut>…)?")


@dataclass(frozen=True)
class Connection:
    """One "Connected to" entry: a layer name, or the start of one when the table cut it."""

    name: str
    cut: bool
    call: int = 0  # which call of the layer: `shared[1][0]` reads its second


@dataclass(frozen=True)
class PrintedLayer:
    line: int
    name: str
    name_cut: bool
    type_name: str  # as printed: possibly only its start (`type_cut`)
    type_cut: bool
    output_shape: tuple[int, ...] | None  # batch left out; None: `multiple`, `?` or cut
    shape_text: str
    params: int
    connections: tuple[Connection, ...] = ()
    trainable: bool | None = None  # the `Trainable` column (show_trainable=True): Y / N

    @property
    def variable_size(self) -> bool:
        """Whether the shape is printed whole with an unknown size past the batch, as Keras
        prints a model built for any input size: `(None, None, None, 3)`."""
        text = self.shape_text.strip().removeprefix("[").removesuffix("]").strip()
        dims = [dim.strip() for dim in text.removeprefix("(").removesuffix(")").split(",")]
        return text.startswith("(") and text.endswith(")") and "None" in dims[1:]

    @property
    def shape_prefix(self) -> tuple[int, ...]:
        """The dimensions printed in full before a cut: `[(None, 128, 128, ` -> (128, 128)."""
        text = self.shape_text.strip().lstrip("[(")
        parts = text.split(",")[:-1]  # the last part is cut (or the whole shape was not)
        dims = [part.strip() for part in parts]
        if self.output_shape is not None or not dims or dims[0] != "None":
            return self.output_shape or ()
        known = []
        for dim in dims[1:]:
            if not dim.isdigit():
                break
            known.append(int(dim))
        return tuple(known)

    @property
    def cut_digits(self) -> str:
        """The digits after a cut shape's last comma, the start of its next dimension:
        `(None, 147, 147, 12` -> "12"; empty where the shape is whole or shows none."""
        text = self.shape_text.strip().lstrip("[(")
        if self.output_shape is not None or not text.startswith("None,"):
            return ""
        last = text.split(",")[-1].strip()
        return last if last.isdigit() else ""

    @property
    def closed_shape(self) -> tuple[int, ...] | None:
        """A cut shape read as if its last number were whole: `(None, 147, 147, 128` ->
        (147, 147, 128), the likeliest shape to have printed it."""
        if not self.cut_digits:
            return None
        return (*self.shape_prefix, int(self.cut_digits))

    def could_print(self, shape: tuple[int, ...]) -> bool:
        """Whether a layer of output `shape` prints this row's shape: the same one; where
        the column cut it, one starting with what it shows; any for `multiple` or `?`."""
        if self.output_shape is not None:
            return shape == self.output_shape
        known = self.shape_prefix
        if shape[:len(known)] != known:
            return False
        return not self.cut_digits or (
            len(shape) > len(known) and str(shape[len(known)]).startswith(self.cut_digits))


@dataclass
class PrintedSummary:
    file: str
    layout: str  # "keras2", "tf2" or "keras3"
    model_name: str | None
    functional: bool
    layers: list[PrintedLayer] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)  # "Total", "Trainable", ...
    totals_line: int = 0
    shows_trainable: bool = False  # printed with show_trainable=True: rows say if frozen

    @property
    def trainable(self) -> int:
        return self.totals["Trainable"]

    @property
    def non_trainable(self) -> int:
        return self.totals["Non-trainable"]

    @property
    def model_total(self) -> int:
        """The model's own parameters: Keras 3 adds the optimizer's to `Total params`."""
        return self.trainable + self.non_trainable


def parse_summary(text: str, file: str) -> PrintedSummary:
    """The printed table in ``text``; raises a one-line SpeccError at the line at fault."""
    text = _OTHER_SPACES.sub(" ", text.replace("\r\n", "\n"))
    lines = [_ANSI.sub("", line).rstrip() for line in text.split("\n")]
    lines = [line.rstrip("\r") for line in lines]
    lines = _without_line_prefix(lines)
    header = _find_header(lines, file)
    model_name = _model_name(lines, header)
    if _is_table_line(lines[header]):
        summary, end = _parse_box(lines, _header_lines(lines, header), file, model_name)
    else:
        summary, end = _parse_text(lines, header, file, model_name)
    _refuse_a_second_summary(lines, end, header, file, model_name)
    _parse_totals(summary, lines, end)
    _check_totals(summary)
    return summary


def error_at(file: str, line: int, message: str, col: int = 1) -> SpeccError:
    return SpeccError(message, file=file, position=Position(line, col))


# ---------------------------------------------------------------- header and name


def _find_header(lines: list[str], file: str) -> int:
    """The index of the header's first line."""
    for index, line in enumerate(lines):
        if _is_header(lines, index):
            cropped = _cropped_at(lines, index)
            if cropped is not None:
                raise error_at(file, index + 1, f"the table is cropped at column {cropped}: it "
                               "was printed wider than its console, and what lay beyond (cut "
                               "figures, inputs) is lost; print it again with "
                               "model.summary(line_length=...) no wider than the console")
            if not any("Param #" in title or _is_title(title, "Param #")
                       for title in _titles(lines, index)):
                raise error_at(file, index + 1, "the header has no `Param #` column; specc "
                               "needs each layer's parameter count")
            return index
    raise error_at(
        file, 1,
        "not a Keras model summary: no header row `Layer (type)  Output Shape  Param #` "
        "(print the model with `model.summary()` and paste the whole table)",
    )


def _without_line_prefix(lines: list[str]) -> list[str]:
    """The lines without the text a quote, a comment or a logger put before each of them
    (`> `, `# `, `INFO:root:`, a timestamp): what stands before the table on the first line
    of its header or top edge, matched on every line with any digits taken as any digits."""
    marker = next((line[:_table_start(line)].rstrip() for line in lines
                   if "Layer (type)" in line or "┏" in line), "")
    if not marker.strip():
        return lines
    pattern = re.compile("".join(r"\d" if char.isdigit() else re.escape(char) for char in marker))
    return [line[match.end():] if (match := pattern.match(line)) else line for line in lines]


def _table_start(line: str) -> int:
    """Where the table starts on a header line or a Keras 3 top edge."""
    return min(line.find(text) % (len(line) + 1) for text in [*_VERTICAL, "┏", "Layer (type)"])


def _is_header(lines: list[str], index: int) -> bool:
    titles = _titles(lines, index)
    return all(any(wanted in title or _is_title(title, wanted) for title in titles)
               for wanted in ("Layer (type)", "Output Shape"))


def _is_title(cell: str, title: str) -> bool:
    """Whether a header cell is `title`, possibly with words cut by a narrow box (`Pa… #`,
    `Traina…`)."""
    words, whole = cell.split(), title.split()
    return len(words) == len(whole) and all(
        word == full or (word.endswith(ELLIPSIS) and full.startswith(word[:-1]))
        for word, full in zip(words, whole, strict=True))


def _titles(lines: list[str], index: int) -> list[str]:
    """What a header starting at `index` holds: a text header's line; a box's cells, joined
    across the lines a narrow table wraps its titles onto (`Output` over `Shape`)."""
    if not _is_table_line(lines[index]):
        return [lines[index]]
    rows = [_cells(lines[line]) for line in _header_lines(lines, index)]
    if any(len(cells) != len(rows[0]) for cells in rows):
        rows = rows[:1]
    return [" ".join(cell for cell in column if cell) for column in zip(*rows)]


def _header_lines(lines: list[str], first: int) -> range:
    """The lines of a header starting at `first`: one, or under a box's top edge every table
    line down to the rule below the titles."""
    top = lines[first - 1].strip() if first else ""
    if not (_is_table_line(lines[first]) and top.startswith(("┏", "┌", "+"))):
        return range(first, first + 1)
    last = first
    while (last + 1 < len(lines) and _is_table_line(lines[last + 1])
           and not _BOX_RULE.match(lines[last + 1].strip())):
        last += 1
    return range(first, last + 1)


def _refuse_a_second_summary(
    lines: list[str], end: int, first: int, file: str, model_name: str | None
) -> None:
    """A file holding two tables (a notebook's generator and discriminator) is refused: which
    one to import is the user's choice, not the first one's by default."""
    second = next((index for index in range(end, len(lines)) if _is_header(lines, index)), None)
    if second is None:
        return
    raise error_at(file, second + 1, f"a second model summary{_quoted(_model_name(lines, second))} "
                   f"starts here, after the one{_quoted(model_name)} at line {first + 1}; specc "
                   "imports one model: keep only its table in the file")


def _quoted(model_name: str | None) -> str:
    return f' ("{model_name}")' if model_name else ""


def _model_name(lines: list[str], header: int) -> str | None:
    for line in reversed(lines[max(0, header - 3):header]):
        match = _MODEL.match(line)
        if match:
            return match["name"]
    return None


# ---------------------------------------------------------------- Keras 3 boxes


def _is_table_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and stripped[0] in _VERTICAL


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner[:1] in _VERTICAL else inner
    inner = inner[:-1] if inner[-1:] in _VERTICAL else inner
    return [cell.strip() for cell in re.split(f"[{_VERTICAL}]", inner)]


def _cropped_at(lines: list[str], header: int) -> int | None:
    """The width a Keras 3 table was cropped to, or None. Rich crops a table wider than its
    console (a `line_length` above the terminal's width, or 80 columns when output is
    captured): every line then stops at the same column, without the right border."""
    top = lines[header - 1].rstrip() if header else ""
    head = lines[header].rstrip()
    if not top.lstrip().startswith("┏") or (head[-1:] in _VERTICAL and top.endswith("┓")):
        return None
    return len(top)


def _parse_box(
    lines: list[str], header: range, file: str, model_name: str | None
) -> tuple[PrintedSummary, int]:
    titles = _titles(lines, header.start)
    columns = _column_indices(titles, file, header.start)
    summary = PrintedSummary(file, "keras3", model_name, "connected" in columns,
                             shows_trainable="trainable" in columns)
    group: list[tuple[int, list[str]]] = []
    for index in range(header.stop, len(lines)):
        stripped = lines[index].strip()
        if _is_table_line(stripped) and not _BOX_RULE.match(stripped):
            _check_row_length(lines, index, file)
            cells = _cells(lines[index])
            if len(cells) != len(titles):
                raise error_at(file, index + 1, f"this table row has {len(cells)} cells; the "
                               f"header has {len(titles)}")
            group.append((index + 1, cells))
            continue
        if group:
            if group[0][1][columns["name"]].startswith("└"):  # Keras 3's expand_nested=True
                raise _nested_error(file, group[0][0], summary.layers)
            summary.layers.append(_box_row(group, columns, file))
            group = []
        if _is_bottom_edge(lines, index, bool(summary.layers)):
            return summary, index + 1
        if stripped and not _BOX_RULE.match(stripped):
            raise error_at(file, index + 1, "the table is cut off here: expected a row or the "
                           "table's bottom edge")
    raise error_at(file, _last_line(lines), "the table is cut off: it has no bottom edge "
                   "and no `Total params:` line")


def _is_bottom_edge(lines: list[str], index: int, after_rows: bool) -> bool:
    """└───┘ (or rich's ASCII `+---+` when no table row follows it)."""
    stripped = lines[index].strip()
    if stripped.startswith(("└", "┗")):
        return True
    following = next((line for line in lines[index + 1:] if line.strip()), "")
    return after_rows and stripped.startswith("+") and not _is_table_line(following)


def _check_row_length(lines: list[str], index: int, file: str) -> None:
    """A row's line is a few hundred characters; reading one of millions would take minutes
    and gigabytes of regular-expression backtracking."""
    if len(lines[index]) > MAX_ROW_CHARS:
        raise error_at(file, index + 1, f"a line of {len(lines[index]):,} characters inside the "
                       f"table; Keras prints rows of a few hundred (specc reads up to "
                       f"{MAX_ROW_CHARS:,})")


def _nested_error(file: str, line: int, above: list[PrintedLayer]) -> SpeccError:
    """A nested model's layers, printed under its row by `expand_nested=True`."""
    which = f"layer {above[-1].name} is a nested model" if above else "a nested model"
    return error_at(file, line, f"{which}, its layers printed here by expand_nested=True "
                    "without their wiring; specc reads a model's own layers: import the model "
                    "itself with `specc import keras`, which inlines nested models")


def _box_row(group: list[tuple[int, list[str]]], columns: dict[str, int], file: str) -> PrintedLayer:
    line = group[0][0]

    def column(key: str) -> list[str]:
        return [cells[columns[key]] for _, cells in group if cells[columns[key]]]

    name_cell = " ".join(column("name"))
    shape_text = " ".join(column("shape"))
    params_text = "".join(column("params"))
    connections = _connections(" ".join(column("connected"))) if "connected" in columns else ()
    trainable = _TRAINABLE_VALUES.get("".join(column("trainable"))) if "trainable" in columns else None
    return _printed_layer(file, line, name_cell, shape_text, params_text, connections, trainable)


def _column_indices(titles: list[str], file: str, header: int) -> dict[str, int]:
    wanted = {"name": "Layer (type)", "shape": "Output Shape", "params": "Param #",
              "connected": "Connected to", "trainable": TRAINABLE}
    found = {key: index for key, title in wanted.items()
             for index, cell in enumerate(titles) if _is_title(cell, title)}
    for key in ("name", "shape", "params"):
        if key not in found:
            raise error_at(file, header + 1, f"the header has no `{wanted[key]}` cell")
    return found


# ---------------------------------------------------------------- Keras 2 and TF 2.x text


def _parse_text(
    lines: list[str], header: int, file: str, model_name: str | None
) -> tuple[PrintedSummary, int]:
    titles = lines[header]
    starts = [titles.index(title) for title in ("Layer (type)", "Output Shape", "Param #")]
    keys = ["cell", "shape", "params"]  # what each column holds, as _text_row names it
    functional = "Connected to" in titles
    if functional:
        starts.append(titles.index("Connected to"))
        keys.append("rest")
    if TRAINABLE in titles[starts[-1] + 1:]:
        starts.append(titles.index(TRAINABLE, starts[-1] + 1))
        keys.append("trainable")
    # TF 2.x indents its titles by one space more than the rule above them
    layout = "tf2" if _indent(titles) > _indent(lines[header - 1] if header else "") else "keras2"
    summary = PrintedSummary(file, layout, model_name, functional,
                             shows_trainable="trainable" in keys)
    body = header + 1
    if body >= len(lines) or not set(lines[body].strip()) <= {"="} or not lines[body].strip():
        raise error_at(file, body + 1, "expected the `====` rule under the header")
    columns = list(zip(starts, keys, strict=True))
    group: list[int] = []
    for index in range(body + 1, len(lines)):
        line = lines[index]
        if line.lstrip().startswith(("|", "¯")):  # TF 2.x's expand_nested=True
            if group:
                summary.layers.append(_text_row(lines, group, columns, layout, file))
            raise _nested_error(file, index + 1, summary.layers)
        closing = set(line.strip()) == {"="} or _TOTAL.match(line)
        if closing or not line.strip() or set(line.strip()) == {"_"}:
            if group:
                summary.layers.append(_text_row(lines, group, columns, layout, file))
                group = []
            if closing:
                return summary, index
            continue
        _check_row_length(lines, index, file)
        group.append(index)
    raise error_at(file, _last_line(lines), "the table is cut off: it has no closing `====` "
                   "rule and no `Total params:` line")


def _text_row(lines: list[str], group: list[int], columns: list[tuple[int, str]],
              layout: str, file: str) -> PrintedLayer:
    """One row from its lines; `columns`: where each column starts, and what it holds."""
    # Runs of spaces collapsed: they only separate the cells, and a line of millions of them
    # would take _FIRST_LINE's backtracking hours.
    match = _FIRST_LINE.match(" ".join(lines[group[0]].split()))
    if match is None:
        raise error_at(file, group[0] + 1, "cannot read this row: expected `name (Type)`, an "
                       "output shape such as `(None, 32, 32, 96)` and a parameter count")
    keys = [key for _, key in columns]
    rest, trainable = _split_trainable(match["rest"] or "", "trainable" in keys)
    parts = {"cell": [match["cell"]], "shape": [match["shape"]], "rest": [rest],
             "params": [match["params"]]}
    for index in group[1:]:
        for chunk in re.finditer(r"\S+(?: \S+)*", lines[index]):
            key = next(key for start, key in reversed(columns) if start <= chunk.start() + 2)
            if key == "params" and not _wrapped_count(match["params"], chunk.group(), columns):
                raise error_at(file, index + 1, "a parameter count on a continuation line; "
                               "is a row missing its name?")
            parts.setdefault(key, []).append(chunk.group())
    # TF 2.x cuts wrapped cells at a fixed width, so the pieces join without spaces; Keras 2
    # prints each further "Connected to" entry on a line of its own.
    name_cell = "".join(parts["cell"])
    entries = ("" if layout == "tf2" else " ").join(parts["rest"])
    connections = _connections(entries) if "rest" in keys else ()
    return _printed_layer(file, group[0] + 1, name_cell, "".join(parts["shape"]),
                          "".join(parts["params"]), connections, trainable)


def _wrapped_count(first: str, more: str, columns: list[tuple[int, str]]) -> bool:
    """Whether `more` continues a count TF 2.x wrapped: `first` filled the column (8 digits
    in a functional table's) and `more` is digits."""
    starts = [start for start, _ in columns]
    at = [key for _, key in columns].index("params")
    width = starts[at + 1] - starts[at] - 2 if at + 1 < len(starts) else None
    return more.replace(",", "").isdigit() and width is not None and len(first) >= width


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _split_trainable(rest: str, has_column: bool) -> tuple[str, bool | None]:
    """A row's text after its count without, and the value of, its `Trainable` cell (the
    last word: `Y` or `N`)."""
    words = rest.rsplit(maxsplit=1)
    if not has_column or not words or words[-1] not in _TRAINABLE_VALUES:
        return rest, None
    return (words[0] if len(words) > 1 else ""), _TRAINABLE_VALUES[words[-1]]


# ---------------------------------------------------------------- cells


def _printed_layer(
    file: str, line: int, name_cell: str, shape_text: str, params_text: str,
    connections: tuple[Connection, ...], trainable: bool | None = None,
) -> PrintedLayer:
    match = _NAME_CELL.match(name_cell.strip())
    if match is None:
        raise error_at(file, line, f"cannot read the layer cell {name_cell!r}: expected "
                       "`name (Type)`")
    name = match["name"]
    type_name = match["type"] or ""
    type_cut = match["end"] != ")"
    params_digits = params_text.replace(",", "").strip()
    params_digits = params_digits.split()[0] if params_digits else ""
    if "(unbuilt)" in params_text:
        raise error_at(file, line, f"layer {name} is unbuilt (Keras prints `?` for its shape and "
                       "`0 (unbuilt)` for its count): the table holds nothing to import; build "
                       "the model (keras.Input(...) as its first layer, or model.build(...)) and "
                       "print its summary again")
    if ELLIPSIS in params_text:
        raise error_at(file, line, f"layer {name}: the parameter count is cut to "
                       f"{params_text.strip()!r}: its column was too narrow; print the table "
                       "wider with model.summary(line_length=...)")
    unreadable = [int(size) for size in re.findall(r"\d+", shape_text)
                  if not 0 < int(size) <= MAX_SIZE]
    if unreadable:
        raise error_at(file, line, f"layer {name}: its output shape {shape_text.strip()} has a "
                       f"size of {unreadable[0]:,}; specc reads sizes from 1 to {MAX_SIZE:,}")
    if not params_digits.isdigit():
        raise error_at(file, line, f"layer {name}: the parameter count {params_text!r} is not "
                       "a number")
    return PrintedLayer(
        line=line,
        name=name.rstrip(ELLIPSIS),
        name_cut=name.endswith(ELLIPSIS) or "(" not in name_cell,  # Keras 2 cut it unmarked
        type_name=type_name,
        type_cut=type_cut,
        output_shape=parse_shape(shape_text),
        shape_text=shape_text,
        params=int(params_digits),
        connections=connections,
        trainable=trainable,
    )


def parse_shape(text: str) -> tuple[int, ...] | None:
    """``(None, 32, 32, 96)`` -> (32, 32, 96); None for `multiple`, `?`, a cut shape or one
    with an unknown non-batch dimension."""
    text = text.strip().removeprefix("[").removesuffix("]").strip()
    if not (text.startswith("(") and text.endswith(")")):
        return None
    dims = [part.strip() for part in text[1:-1].split(",") if part.strip()]
    if len(dims) < 2 or dims[0] != "None" or not all(dim.isdigit() for dim in dims[1:]):
        return None  # also `(None,)`: no size besides the batch
    return tuple(int(dim) for dim in dims[1:])


def _connections(text: str) -> tuple[Connection, ...]:
    if text.strip() in ("", "-"):
        return ()
    found = []
    for match in _CONNECTION.finditer(text):
        cut = match["cut"] is not None or match["index"] is None
        found.append(Connection(match["name"], cut, int(match["node"] or 0)))
    return tuple(found)


# ---------------------------------------------------------------- totals


def _parse_totals(summary: PrintedSummary, lines: list[str], end: int) -> None:
    for index in range(end, len(lines)):
        match = _TOTAL.match(lines[index])
        if match:
            summary.totals.setdefault(match["what"], int(match["count"].replace(",", "")))
            summary.totals_line = summary.totals_line or index + 1
    for what in ("Total", "Trainable", "Non-trainable"):
        if what not in summary.totals:
            raise error_at(summary.file, _last_line(lines), f"the summary is cut off: no "
                           f"`{what} params:` line after the table")


def _last_line(lines: list[str]) -> int:
    """The 1-based number of the last line with text (where a cut-off table ends)."""
    return max((index + 1 for index, line in enumerate(lines) if line.strip()), default=1)


def _check_totals(summary: PrintedSummary) -> None:
    if not summary.layers:
        raise error_at(summary.file, summary.totals_line, "the table has no layer rows")
    expected_total = summary.model_total + summary.totals.get("Optimizer", 0)
    if summary.totals["Total"] != expected_total:
        raise error_at(summary.file, summary.totals_line, (
            f"Total params {summary.totals['Total']:,} is not trainable + non-trainable"
            + (" + optimizer" if "Optimizer" in summary.totals else "")
            + f" ({expected_total:,}); the totals are inconsistent"
        ))
    layer_sum = sum(layer.params for layer in summary.layers)
    if layer_sum != summary.model_total:
        raise error_at(summary.file, summary.totals_line, (
            f"the layers' parameter counts add up to {layer_sum:,}, but the totals say "
            f"{summary.model_total:,} (trainable + non-trainable); a row is missing or a "
            "count is wrong"
        ))
