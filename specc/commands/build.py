"""`specc build`: generate Keras and PyTorch source from specs and gate the built models."""

from __future__ import annotations

import argparse
from pathlib import Path

from specc.errors import SpeccError, one_line

HELP = (
    "Generate DIR/<spec name>_<backend>.py for each spec and backend, import it, and check the "
    "built model's real summary against the spec (exit 1 on any difference)."
)

BACKEND_CHOICES = ("torch", "keras", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="*", metavar="SPEC",
                        help="spec files (default: every specs/*.yaml)")
    parser.add_argument("--backend", default="all",
                        help="torch, keras or all (default: all)")
    parser.add_argument("--out", default="build", metavar="DIR",
                        help="output folder (default: build/)")


def spec_paths(specs: list[str]) -> list[Path]:
    """The named specs, or every spec in ./specs when none is named."""
    if specs:
        return [Path(spec) for spec in specs]
    found = sorted(Path("specs").glob("*.yaml"))
    if not found:
        raise SpeccError("no SPEC given and no specs/*.yaml in the current folder")
    return found


def backends(choice: str) -> tuple[str, ...]:
    if choice not in BACKEND_CHOICES:
        raise SpeccError(f"--backend {choice!r}: unknown backend; choose torch, keras or all")
    return ("torch", "keras") if choice == "all" else (choice,)


def run(args: argparse.Namespace) -> int:
    from specc.backends.gate import GateError, build_checked
    from specc.backends.source import prepare_out_dir
    from specc.expectations import require_expectations
    from specc.spec.load import load_spec

    chosen = backends(args.backend)
    loaded_specs = [load_spec(path) for path in spec_paths(args.specs)]
    for loaded in loaded_specs:
        require_expectations(loaded)
    out_dir = Path(args.out)
    prepare_out_dir(out_dir)
    for loaded in loaded_specs:
        for backend in chosen:
            try:
                built = build_checked(loaded, backend, out_dir)  # type: ignore[arg-type]
            except GateError as error:
                print(error.report)
                raise
            print(one_line(f"{built.path}: {loaded.spec.name} ({backend}) matches its spec"))
            print(built.report + "\n")
    return 0
