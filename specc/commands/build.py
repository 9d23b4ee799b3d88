"""`specc build`: generate Keras and PyTorch source from specs and gate the built models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
    parser.add_argument("--weights", metavar="WEIGHTS.safetensors",
                        help="load these weights (from `specc import keras --weights`) into the "
                        "built model and write them beside it: DIR/<name>_torch.pt "
                        "(model.load_state_dict(torch.load(path))) and "
                        "DIR/<name>_keras.weights.h5 (model.load_weights(path))")


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
    require_distinct_outputs(loaded_specs)
    weights = None
    if args.weights:
        from specc.backends.weights import read_weights, torch_state

        if len(loaded_specs) != 1:
            raise SpeccError("--weights: give exactly one SPEC, the one the weights belong to")
        weights = read_weights(args.weights)
        torch_state(loaded_specs[0], weights, args.weights)  # every key fits, before any write
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
            if weights is not None:
                saved = save_built_weights(built, loaded, weights, args.weights)
                print(f"{saved}: the weights of {args.weights}, loaded by build_model()'s model")
    return 0


def require_distinct_outputs(loaded_specs: list[Any]) -> None:
    """Each spec's files are named after its `name`: two specs of one name would write the same
    files, the second silently replacing the first."""
    from specc.layers.emit import ident

    first_of: dict[str, Any] = {}
    for loaded in loaded_specs:
        name = ident(loaded.spec.name)
        first = first_of.setdefault(name, loaded)
        if first is not loaded:
            raise SpeccError(
                f"spec name {loaded.spec.name!r} is also {first.path}'s; both would be written "
                f"as {name}_<backend>.py, one over the other; give each spec its own name",
                file=loaded.file, position=loaded.source.value(("name",)))


def save_built_weights(built: Any, loaded: Any, weights: dict[str, Any], source: str) -> Path:
    """Load the weights into the built model and save them in its framework's own format."""
    import os

    from specc.backends.weights import load_into_keras, load_into_torch, torch_weights_path

    if built.backend == "torch":
        import torch

        load_into_torch(built.model, loaded, weights, source)
        target = torch_weights_path(built.path)
        partial = target.with_name(f".{target.name}.partial")
        torch.save(built.model.state_dict(), partial)
    else:
        load_into_keras(built.model, loaded, weights, source)
        target = built.path.with_name(f"{built.path.stem}.weights.h5")
        partial = target.with_name(f".{target.stem}.partial.weights.h5")
        built.model.save_weights(partial)
    os.replace(partial, target)
    return target
