"""Importers: `specc import <source> ...` turns a model described elsewhere into a spec.

Each module (or package) in ``specc/importers/`` is one source, found with pkgutil like the
commands in ``specc/commands/``, and exposes:

- ``HELP``: one paragraph, shown by ``specc import --help`` and ``specc import <source> -h``;
- ``add_arguments(parser)``: its arguments on its own argparse sub-parser;
- ``run(args) -> int``: the import; returns an exit code, raises :class:`SpeccError` for
  bad input (exit 2, one line).

Like commands, importers import heavy frameworks inside ``run`` only, so ``specc --help``
stays fast. Shared pieces every importer uses live here: reading the source text
(:func:`read_source_text`, ``-`` for standard input) and writing the output spec
atomically (:func:`write_output`: a temporary file renamed over the target, so an error
never leaves a half-written spec). The spec text itself comes from
:func:`specc.spec.writer.render_spec`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from specc.errors import SpeccError
from specc.limits import MAX_SPEC_BYTES

__all__ = ["MAX_SOURCE_BYTES", "read_source_text", "write_output"]

# A source to import is read whole; a printed summary of the largest model a spec may
# describe stays far below this.
MAX_SOURCE_BYTES = 8 * MAX_SPEC_BYTES


def read_source_text(path: str) -> str:
    """The text of ``path`` (``-``: standard input), decoded as UTF-8 with a BOM allowed.

    Raises a one-line SpeccError naming the path when it cannot be read, is too large, or is
    not text.
    """
    display = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        else:
            with open(path, "rb") as source:
                data = source.read(MAX_SOURCE_BYTES + 1)
    except OSError as error:
        raise SpeccError(f"{display}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise SpeccError(
            f"{display}: larger than {MAX_SOURCE_BYTES:,} bytes; this is not a model description "
            "specc can import"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpeccError(
            f"{display}: not UTF-8 text (byte {error.start} is {data[error.start]:#04x}); "
            "save the file as UTF-8"
        ) from None


def write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path`` (``-``: standard output) atomically: a temporary file in
    the same folder, renamed over the target; on any error nothing is left behind."""
    from specc.train.run_folder import write_text_atomic

    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise SpeccError(f"{path}: the folder {str(target.parent)!r} does not exist")
    if target.is_dir():
        raise SpeccError(f"{path}: is a folder; give the spec file's name")
    try:
        write_text_atomic(target, text)
    except OSError as error:
        raise SpeccError(f"{path}: cannot write: {error.strerror or error}") from None
