"""Strict YAML reading with a position for every key and value.

Specs are plain data, so this reader accepts a deliberately small YAML: one document whose
root is a mapping, no anchors, aliases or tags, string keys only, and YAML 1.2 core-schema
scalars. Everything else is refused with a one-line error at its position.

It walks PyYAML's event stream (safe loader, never constructing objects) and builds the
Python data itself with an explicit stack, so an alias bomb costs nothing (the first alias is
an error), deep nesting is an error rather than a RecursionError, and every node's position
is recorded in one pass.
"""

from __future__ import annotations

import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from specc.errors import Position, SpeccError
from specc.limits import (
    MAX_NESTING,
    MAX_NUMBER_DIGITS,
    MAX_SPEC_BYTES,
    MAX_YAML_VALUES,
    file_too_large,
)

PathKey = str | int
DataPath = tuple[PathKey, ...]

UTF8_BOM = b"\xef\xbb\xbf"

# libyaml's event parser when PyYAML has it (20x faster on large inputs), else PyYAML's own.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# What YAML allows as text, less NEL and the Unicode line/paragraph separators, which YAML 1.1
# parsers count as line breaks and editors do not (positions would disagree).
_NOT_ALLOWED = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) of the document starts, 1-based."""

    file: str
    values: dict[DataPath, Position] = field(default_factory=dict)
    keys: dict[DataPath, Position] = field(default_factory=dict)

    def value(self, path: DataPath) -> Position:
        """The position of the value at ``path``, or of its nearest recorded ancestor."""
        for end in range(len(path), -1, -1):
            position = self.values.get(path[:end])
            if position is not None:
                return position
        return Position(1, 1)

    def key(self, path: DataPath) -> Position:
        """The position of the key naming ``path``; the value's position for list items."""
        position = self.keys.get(path)
        return position if position is not None else self.value(path)


def format_path(path: DataPath) -> str:
    """``('layers', 3, 'filters')`` -> ``layers[3].filters``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the document"


# ---------------------------------------------------------------- reading bytes


def read_spec_text(path: Path, display: str) -> str:
    """The file's text: a regular file, at most MAX_SPEC_BYTES, UTF-8 without a BOM."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SpeccError(f"{display}: no such file") from None
    except OSError as error:
        raise SpeccError(f"{display}: cannot read: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SpeccError(
            f"{display}: is a directory; give the spec files in it, e.g. "
            f"{display.rstrip('/')}/*.yaml"
        )
    if not stat.S_ISREG(info.st_mode):
        raise SpeccError(f"{display}: not a regular file")
    if info.st_size > MAX_SPEC_BYTES:
        raise file_too_large(info.st_size, display)
    try:
        with open(path, "rb") as handle:
            # Read one byte past the cap, in case the file grew since stat.
            data = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise SpeccError(f"{display}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_SPEC_BYTES:
        raise file_too_large(len(data), display)
    return decode_spec_bytes(data, display)


def decode_spec_bytes(data: bytes, file: str) -> str:
    if data.startswith(UTF8_BOM):
        raise SpeccError(
            "byte-order mark (BOM) at the start of the file; save it as UTF-8 without a BOM",
            file=file,
            position=Position(1, 1),
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpeccError(
            "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8",
            file=file,
            position=Position(1, 1),
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        col = len(data[line_start : error.start].decode("utf-8", errors="replace")) + 1
        raise SpeccError(
            f"byte 0x{data[error.start]:02x} is not valid UTF-8; specs are UTF-8 text",
            file=file,
            position=Position(line, col),
        ) from None


# ---------------------------------------------------------------- scalars

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCT = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")

# Plain scalars that YAML 1.1 (PyYAML's default, many editors) and YAML 1.2 read differently.
_YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n"})
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+\Z")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\Z")
_UNDERSCORED = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?\Z")
_BINARY = re.compile(r"[-+]?0b[01_]+\Z")


def resolve_plain_scalar(text: str) -> Any:
    """A plain (unquoted) scalar under the YAML 1.2 core schema; raises ValueError on the
    YAML 1.1 forms that would read differently elsewhere."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    _refuse_yaml11_forms(text)
    if _INT.match(text):
        if len(text.lstrip("+-")) > MAX_NUMBER_DIGITS:
            raise ValueError(f"integer with {len(text.lstrip('+-'))} digits is too large")
        return int(text)
    if _OCT.match(text) or _HEX.match(text):
        if len(text) > MAX_NUMBER_DIGITS:
            raise ValueError(f"integer literal {text[:12]}... is too large")
        return int(text[2:], 8 if text[1] == "o" else 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


def _refuse_yaml11_forms(text: str) -> None:
    lowered = text.lower()
    if lowered in _YAML11_BOOLS:
        meaning = "true" if lowered in {"yes", "on", "y"} else "false"
        raise ValueError(
            f"`{text}` is ambiguous: YAML 1.1 reads it as {meaning}, YAML 1.2 as the string "
            f"'{text}'; write {meaning} for the boolean or '{text}' in quotes for the string"
        )
    if _LEADING_ZERO.match(text):
        digits = text.lstrip("+-")
        octal = f"octal {int(digits, 8)}" if set(digits) <= set("01234567") else "a string"
        raise ValueError(
            f"`{text}` has a leading zero: YAML 1.1 reads it as {octal}, YAML 1.2 as "
            f"{int(digits)}; write {int(text)} (or 0o{digits.lstrip('0')} for octal)"
        )
    if _SEXAGESIMAL.match(text):
        raise ValueError(
            f"`{text}` is a base-60 number in YAML 1.1 and a string in YAML 1.2; "
            f"quote it ('{text}') or write the number"
        )
    if "_" in text and _UNDERSCORED.match(text):
        raise ValueError(
            f"`{text}`: YAML 1.2 has no digit separators (YAML 1.1 reads it as "
            f"{text.replace('_', '')}); write {text.replace('_', '')}"
        )
    if _BINARY.match(text):
        raise ValueError(f"`{text}`: YAML 1.2 has no binary literals; write the number in decimal")


# ---------------------------------------------------------------- the document


class _Container:
    """A mapping or sequence being built, with the path of its value."""

    __slots__ = ("data", "key_positions", "path", "pending_key")

    def __init__(self, path: DataPath, data: dict[str, Any] | list[Any]) -> None:
        self.path = path
        self.data = data
        self.pending_key: str | None = None
        self.key_positions: dict[str, Position] = {}


def _position(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _kind(event: yaml.Event) -> str:
    if isinstance(event, yaml.MappingStartEvent):
        return "a mapping"
    if isinstance(event, yaml.SequenceStartEvent):
        return "a list"
    return "a scalar"


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.source = SourceMap(file)
        self.stack: list[_Container] = []
        self.root: Any = None
        self.documents = 0

    def error(self, message: str, mark: yaml.Mark) -> SpeccError:
        return SpeccError(message, file=self.file, position=_position(mark))

    def _count_value(self, mark: yaml.Mark) -> None:
        if len(self.source.values) >= MAX_YAML_VALUES:
            raise self.error(
                f"more than {MAX_YAML_VALUES:,} values in one spec; a spec needs far fewer", mark
            )

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.error(
                    "a second YAML document ('---'); a spec file holds exactly one",
                    event.start_mark,
                )
            return
        if isinstance(event, yaml.AliasEvent):
            raise self.error(
                f"alias *{event.anchor}: anchors and aliases are not allowed in a spec; "
                f"write the value out",
                event.start_mark,
            )
        if isinstance(event, yaml.NodeEvent):
            self._check_node(event)
        if isinstance(event, yaml.CollectionStartEvent):
            self._start_collection(event)
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.stack.pop()

    def _check_node(self, event: yaml.NodeEvent) -> None:
        if event.anchor is not None:
            raise self.error(
                f"anchor &{event.anchor}: anchors and aliases are not allowed in a spec; "
                f"write the value out",
                event.start_mark,
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise self.error(
                f"tag {shown}: explicit YAML tags are not allowed in a spec (specs are plain "
                f"data; nothing is ever constructed from a tag)",
                event.start_mark,
            )

    def _is_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return isinstance(top, _Container) and isinstance(top.data, dict) and (
            top.pending_key is None
        )

    def _value_path(self) -> DataPath:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.data, dict):
            key = top.pending_key
            assert key is not None
            return (*top.path, key)
        return (*top.path, len(top.data))

    def _store(self, value: Any) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.data, dict):
            assert top.pending_key is not None
            top.data[top.pending_key] = value
            top.pending_key = None
        else:
            top.data.append(value)

    def _start_collection(self, event: yaml.CollectionStartEvent) -> None:
        if self._is_key():
            raise self.error(
                f"{_kind(event)} used as a mapping key; keys must be plain strings",
                event.start_mark,
            )
        if len(self.stack) >= MAX_NESTING:
            raise self.error(
                f"nesting deeper than {MAX_NESTING} levels; a spec needs far fewer",
                event.start_mark,
            )
        self._count_value(event.start_mark)
        path = self._value_path()
        self.source.values[path] = _position(event.start_mark)
        data: dict[str, Any] | list[Any] = (
            {} if isinstance(event, yaml.MappingStartEvent) else []
        )
        self._store(data)
        self.stack.append(_Container(path, data))

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        plain = not event.style  # None (PyYAML) or '' (libyaml) for plain scalars
        if plain:
            try:
                value = resolve_plain_scalar(event.value)
            except ValueError as error:
                raise self.error(str(error), event.start_mark) from None
        else:
            value = event.value
        if self._is_key():
            self._key(value, event)
            return
        self._count_value(event.start_mark)
        path = self._value_path()
        self.source.values[path] = _position(event.start_mark)
        self._store(value)

    def _key(self, key: Any, event: yaml.ScalarEvent) -> None:
        top = self.stack[-1]
        position = _position(event.start_mark)
        if not isinstance(key, str):
            raise self.error(
                f"mapping key {event.value or 'null'} is {_type_word(key)}, not a string; keys "
                f"are names (quote it, '{event.value}', if you mean the string)",
                event.start_mark,
            )
        if key in top.key_positions:
            first = top.key_positions[key]
            raise self.error(
                f"duplicate key '{key}' (first defined at line {first.line}, column {first.col})",
                event.start_mark,
            )
        top.key_positions[key] = position
        top.pending_key = key
        self.source.keys[(*top.path, key)] = position


def _type_word(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def parse_yaml(text: str, file: str) -> tuple[dict[str, Any], SourceMap]:
    """Parse one spec document into plain data (dict/list/str/int/float/bool/None) and
    the position of every node. Raises SpeccError with a position on anything else."""
    _refuse_disallowed_characters(text, file)
    builder = _build(text, file, _LOADER)
    return _root_mapping(builder, text, file), builder.source


# libyaml looks far ahead inside flow collections; past this many characters, its own
# position for too-deep nesting is reported rather than re-parsing to find the exact bracket.
_RELOCATE_NESTING_WITHIN = 1 << 16


def _build(text: str, file: str, loader: type) -> _Builder:
    builder = _Builder(file)
    try:
        for event in yaml.parse(text, Loader=loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        if (
            "maximum nesting depth" in (error.problem or "")
            and loader is not yaml.SafeLoader
            and mark is not None
            and mark.index <= _RELOCATE_NESTING_WITHIN
        ):
            # PyYAML's parser hands over each bracket as it comes: the builder then stops
            # at the exact one that crosses MAX_NESTING.
            prefix = "\n".join(text.split("\n", mark.line + 1)[: mark.line + 1])
            _build(prefix, file, yaml.SafeLoader)
        raise _syntax_error(error, text, file) from None
    except yaml.YAMLError as error:  # any other YAML failure, reported at the file start
        raise SpeccError(f"YAML error: {error}", file=file, position=Position(1, 1)) from None
    return builder


def _root_mapping(builder: _Builder, text: str, file: str) -> dict[str, Any]:
    if builder.documents == 0 or (builder.root is None and not builder.source.values):
        raise SpeccError(
            "empty spec: expected a mapping with `name`, `input` and `layers`",
            file=file,
            position=Position(1, 1),
        )
    root = builder.root
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else f"the scalar {_shorten(root)}"
        raise SpeccError(
            f"the document is {kind}; a spec is a mapping with `name`, `input` and `layers`",
            file=file,
            position=builder.source.value(()),
        )
    return root


def _shorten(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _syntax_error(error: yaml.MarkedYAMLError, text: str, file: str) -> SpeccError:
    mark = error.problem_mark or error.context_mark
    position = _position(mark) if mark is not None else Position(1, 1)
    problem = error.problem or "invalid YAML"
    lines = text.split("\n")
    line = lines[position.line - 1] if mark is not None and position.line <= len(lines) else ""
    if line[position.col - 1 : position.col] == "\t":
        in_indentation = not line[: position.col - 1].strip(" ")
        return SpeccError(
            "tab character in indentation; YAML indents with spaces only"
            if in_indentation
            else "tab character where YAML does not allow one; use spaces",
            file=file,
            position=position,
        )
    if "maximum nesting depth" in problem:  # libyaml's own bound, met while looking ahead
        return SpeccError(
            f"nesting deeper than {MAX_NESTING} levels; a spec needs far fewer",
            file=file,
            position=position,
        )
    message = f"YAML syntax error: {problem}"
    if error.context and error.context_mark is not None:
        context = _position(error.context_mark)
        message += f" ({error.context} at line {context.line}, column {context.col})"
    elif error.context:
        message += f" ({error.context})"
    return SpeccError(message, file=file, position=position)


def _refuse_disallowed_characters(text: str, file: str) -> None:
    found = _NOT_ALLOWED.search(text)
    if found is None:
        return
    index = found.start()
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    raise SpeccError(
        f"character U+{ord(found.group()):04X} is not allowed in a spec (control characters and "
        f"Unicode line separators are refused)",
        file=file,
        position=Position(line, col),
    )
