"""`specc import summary FILE -o SPEC.yaml`: a printed Keras ``model.summary()`` becomes a
checked spec.

The table is read in any layout Keras has printed (:mod:`.parse`), each row is given the
configuration that reproduces it (:mod:`.reconstruct`), every guess is written as a YAML
comment on its layer's line and listed at the end, and the table's own figures become the
spec's expectations. The command then checks them itself, as `specc validate` would:
exit 0 if the spec reproduces the table, 1 if a figure differs (naming the layer), 2 for
input that is not a summary (nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from specc.errors import ExitCode, SpeccError
from specc.files import same_file

if TYPE_CHECKING:
    from specc.expectations import ExpectationCheck

HELP = (
    "Read a printed Keras model.summary() table (Keras 2, TF 2.x or Keras 3 layout; FILE or "
    "- for standard input) and write a spec reproducing it, with every guessed value marked. "
    "Exit 0 if the spec reproduces the table, 1 if a figure differs, 2 if FILE is not a "
    "readable summary."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the printed summary (- for standard input)")
    parser.add_argument("-o", "--output", metavar="SPEC", required=True,
                        help="the spec to write (- for standard output)")
    parser.add_argument("--input-shape", metavar="H,W,C", type=_shape,
                        help="the model's input shape, for tables without an InputLayer row "
                        "(default: inferred from the first layer)")
    parser.add_argument("--name", help="the spec's name (default: the table's model name, "
                        "else the file name)")


def _shape(text: str) -> tuple[int, ...]:
    from specc.importers.summary.parse import MAX_SIZE

    parts = [part.strip() for part in text.strip("()[] ").split(",") if part.strip()]
    if not parts or len(parts) > 3 or not all(
            part.isdigit() and 0 < int(part) <= MAX_SIZE for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected 1 to 3 sizes from 1 to {MAX_SIZE:,} such as 32,32,3; received {text!r}")
    return tuple(int(part) for part in parts)


def run(args: argparse.Namespace) -> int:
    from specc.expectations import check_expectations
    from specc.importers import read_source_text, write_output
    from specc.importers.summary.parse import parse_summary
    from specc.importers.summary.reconstruct import reconstruct
    from specc.spec.load import load_spec_text
    from specc.spec.writer import render_spec

    display = "<stdin>" if args.file == "-" else args.file
    if same_file(args.file, args.output):
        raise SpeccError(f"{args.output}: is the summary being read (FILE); writing the spec "
                         "there would replace it: give the spec another name")
    summary = parse_summary(read_source_text(args.file), display)
    imported = reconstruct(summary, _spec_name(args, summary.model_name), args.input_shape)
    header = (
        f"Imported by `specc import summary` from {display} ({_LAYOUTS[summary.layout]} layout).\n"
        "Each layer expects the output shape and parameter count the table prints, so\n"
        "`specc validate` proves the reconstruction reproduces it. A summary does not show\n"
        "activations, dropout rates or initialisers: values marked `guessed` are choices."
    )
    text = render_spec(imported.spec, imported.comments, header=header)
    loaded = load_spec_text(text, args.output)  # the writer's output always loads
    checks = check_expectations(loaded)
    write_output(args.output, text)
    report = sys.stderr if args.output == "-" else sys.stdout
    failed = [check for check in checks if not check.met]
    print(f"{args.output}: {len(imported.spec.layers)} layers from {display}; "
          f"{len(checks) - len(failed)} of {len(checks)} expectation(s) hold", file=report)
    if imported.guesses:
        print(f"{len(imported.guesses)} guess(es), marked `# guessed` in the spec:", file=report)
        for line, guess in imported.guesses:
            print(f"  {display}:{line}: {guess}", file=report)
    for check in failed:
        print(str(check.as_error(args.output)), file=sys.stderr)
    if not summary.shows_trainable and _only_the_split_differs(failed):
        print(f"{display}:{summary.totals_line}: the table's trainable / non-trainable split "
              "differs from its layers': a frozen layer shows only in "
              "model.summary(show_trainable=True); print the table so, or set "
              "`trainable: false` on the frozen layers", file=sys.stderr)
    return int(ExitCode.EXPECTATION_FAILED if failed else ExitCode.OK)


def _only_the_split_differs(failed: list[ExpectationCheck]) -> bool:
    """Whether the model's total holds and its trainable count does not: what a frozen layer
    does to a table that does not show which layers are frozen."""
    quantities = {check.quantity for check in failed}
    return "trainable_params" in quantities and "total_params" not in quantities


_LAYOUTS = {"keras2": "Keras 2 (before TF 2.6)", "tf2": "TF 2.6-2.15", "keras3": "Keras 3"}


def _spec_name(args: argparse.Namespace, model_name: str | None) -> str:
    from specc.importers.summary.reconstruct import identifier

    if args.name:
        return identifier(args.name)
    if model_name:
        return identifier(model_name)
    stem = Path(args.file).stem if args.file != "-" else "imported"
    return identifier(stem.split(".")[0].replace("-", "_"))

