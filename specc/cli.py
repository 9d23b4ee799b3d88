"""The `specc` command line: one subcommand per module in `specc.commands`.

Command modules import their heavy dependencies (torch, tensorflow) inside `run`, so
`specc validate` stays a fast, framework-free feedback loop.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from specc import __version__
from specc.errors import ExitCode, SpeccError

# Shown in this order in --help; every module in specc.commands is a subcommand.
PREFERRED_ORDER = ("validate", "schema", "build", "parity", "train", "eval", "export")

EPILOG = """exit codes:
  0    everything holds
  1    the spec is valid but an expectation (or the build gate) does not hold
  2    invalid input: YAML, schema, usage, data, or a backend that cannot express the spec
  3    a process of a multi-process training run (--nproc, torchrun) died
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
    for name in _command_names():
        module = importlib.import_module(f"specc.commands.{name}")
        subparser = subparsers.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def _command_names() -> list[str]:
    import specc.commands

    found = {info.name for info in pkgutil.iter_modules(specc.commands.__path__)}
    order = {name: rank for rank, name in enumerate(PREFERRED_ORDER)}
    return sorted(found, key=lambda name: (order.get(name, len(order)), name))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except SpeccError as error:
        print(f"specc: {error}" if error.file is None else str(error), file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("specc: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
