"""The `specc` command line: one subcommand per module in `specc.commands`.

Command modules import their heavy dependencies (torch, tensorflow) inside `run`, so
`specc validate` stays a fast, framework-free feedback loop.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Sequence

from specc import __version__
from specc.errors import ExitCode, SpeccError, one_line, os_error

# Shown in this order in --help; every module in specc.commands is a subcommand.
PREFERRED_ORDER = ("validate", "schema", "build", "parity", "train", "eval", "export",
                   "import")

EPILOG = """exit codes:
  0    everything holds
  1    the spec is valid but an expectation (or the build gate) does not hold
  2    invalid input: YAML, schema, usage, data, a checkpoint, or a backend that cannot
       express the spec; a file or folder that cannot be read or written (`path: reason`)
  3    an internal error in specc: one line names it and the file holding the full report
  4    a process of a multi-process training run (--nproc, torchrun) died
  130  interrupted (training saves its checkpoint first)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 2
        self.exit(ExitCode.INVALID_INPUT, f"specc: error: {message} (see `specc --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="specc",
        description="A declarative model-spec compiler: validate a YAML layer table, generate "
        "Keras and PyTorch source from it, check both, train and evaluate.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"specc {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module_name in _command_names():
        module = importlib.import_module(f"specc.commands.{module_name}")
        subparser = subparsers.add_parser(
            _command_name(module_name, module),
            help=module.HELP,
            description=module.HELP,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def _command_names() -> list[str]:
    """The command modules, in --help order."""
    import specc.commands

    found = {info.name for info in pkgutil.iter_modules(specc.commands.__path__)}
    order = {name: rank for rank, name in enumerate(PREFERRED_ORDER)}
    return sorted(found, key=lambda name: (order.get(name.rstrip("_"), len(order)), name))


def _command_name(module_name: str, module: object) -> str:
    """A module's `NAME` where the command is a Python keyword (import_.py: "import")."""
    return str(getattr(module, "NAME", module_name))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Whatever happens, the terminal gets at most one line of error: specc's
    own errors and OS errors as `path: what is wrong`, anything else (a bug) as one line
    naming it and the file holding its full traceback. Library warnings are not shown."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            args = build_parser().parse_args(argv)
            return int(args.run(args))
        except SpeccError as error:
            return _fail(f"specc: {error}" if error.file is None else str(error), error.exit_code)
        except OSError as error:
            located = os_error(error)
            return _fail(str(located) if located.file else f"specc: {located}", located.exit_code)
        except KeyboardInterrupt:
            return _fail("specc: interrupted", ExitCode.INTERRUPTED)
        except Exception as error:  # noqa: BLE001  (a bug: one line, the report in a file)
            return _fail(_internal_error(error), ExitCode.INTERNAL_ERROR)


def _fail(message: str, code: int) -> int:
    print(one_line(message), file=sys.stderr)
    return int(code)


def _internal_error(error: Exception) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    what = f"{type(error).__name__}: {first}" if first else type(error).__name__
    report = "".join(traceback.format_exception(error))
    try:
        handle, name = tempfile.mkstemp(
            prefix=f"specc-crash-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(f"specc {__version__}, {sys.argv!r}\n\n{report}")
        where = f"the full report is in {name}"
    except OSError as write_error:
        where = f"no report could be written ({write_error.strerror})"
    return f"specc: internal error, a bug in specc ({what}); {where}"


if __name__ == "__main__":
    sys.exit(main())
