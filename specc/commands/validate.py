"""`specc validate SPEC...`: check specs without any framework and print their summaries."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from specc import __version__
from specc.errors import ExitCode, SpeccError

HELP = (
    "Validate specs without any framework: YAML, schema, graph, shapes, parameters and FLOPs; "
    "print a Keras-like summary with each declared expectation marked met or not. "
    "Exit 0 if everything holds, 1 if an expectation does not, 2 if a spec is invalid."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document with every file's result instead of tables",
    )


def run(args: argparse.Namespace) -> int:
    results = [validate_file(path, print_table=not args.json) for path in args.specs]
    exit_code = max(result["exit_code"] for result in results)
    if args.json:
        document = {"specc_version": __version__, "exit_code": exit_code, "files": results}
        print(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False))
    return exit_code


def validate_file(path: str, *, print_table: bool = True) -> dict[str, Any]:
    """Validate one spec, print its table (if asked) and its failures (stderr).

    Returns the file's JSON result; errors never escape as exceptions.
    """
    from specc.expectations import check_expectations
    from specc.spec.load import load_spec
    from specc.summary import box_for, render_summary, summary_json

    try:
        loaded = load_spec(path)
    except SpeccError as error:
        print(_one_line(error), file=sys.stderr)
        return {
            "file": path,
            "exit_code": int(error.exit_code),
            "status": "invalid",
            "error": _error_json(error, path),
            "model": None,
        }
    checks = check_expectations(loaded)
    failed = [check for check in checks if not check.met]
    if print_table:
        print(render_summary(loaded, checks, box_for(sys.stdout.encoding)))
        held = len(checks) - len(failed)
        print(f"{path}: {held} of {len(checks)} expectation(s) hold\n")
    for check in failed:
        print(str(check.as_error(path)), file=sys.stderr)
    code = ExitCode.EXPECTATION_FAILED if failed else ExitCode.OK
    return {
        "file": path,
        "exit_code": int(code),
        "status": "expectation_failed" if failed else "ok",
        "error": None,
        "model": summary_json(loaded, checks),
    }


def _one_line(error: SpeccError) -> str:
    text = str(error) if error.file else f"specc: {error}"
    return text.replace("\n", "\\n")


def _error_json(error: SpeccError, path: str) -> dict[str, Any]:
    return {
        "file": error.file or path,
        "line": error.position.line if error.position else None,
        "col": error.position.col if error.position else None,
        "message": error.message,
        "text": _one_line(error),
    }
