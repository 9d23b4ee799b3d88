"""`specc import <source> ...`: make a spec from a model described elsewhere.

Each source is a module in ``specc/importers/`` (see that package's docstring for the
interface); this command only gives each one its sub-parser.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

NAME = "import"  # a Python keyword, so the module is import_.py

HELP = (
    "Make a checked spec from a model described elsewhere (e.g. a printed Keras summary). "
    "Exit 0 if the spec reproduces its source, 1 if a figure differs, 2 on invalid input."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE",
                                    parser_class=type(parser))
    for name in importer_names():
        module = importlib.import_module(f"specc.importers.{name}")
        subparser = sources.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=parser.epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        subparser.set_defaults(run=module.run)


def importer_names() -> list[str]:
    import specc.importers

    return sorted(info.name for info in pkgutil.iter_modules(specc.importers.__path__)
                  if not info.name.startswith("_"))


def run(args: argparse.Namespace) -> int:  # replaced by the chosen importer's run
    raise AssertionError("argparse sets `run` to the importer's")
