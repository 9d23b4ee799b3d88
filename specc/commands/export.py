"""`specc export`: a checkpoint (or a fresh model) as ONNX, .keras, a PyTorch state dict with
its source, or safetensors, taking pixels 0 to 255 and ending with the spec's activation."""

from __future__ import annotations

import argparse
import keyword
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from specc.errors import SpeccError

if TYPE_CHECKING:
    from specc.export.formats import Written
    from specc.export.kinds import ExportFormat
    from specc.export.trained import Trained
    from specc.spec.load import LoadedSpec

HELP = (
    "Export SPEC's model with the weights of --checkpoint (default: freshly initialised) for "
    "deployment: ONNX, .keras, a PyTorch state dict with its source, or safetensors. The "
    "exported model takes pixels 0 to 255 (the recipe's normalization is inside) and outputs "
    "what the Keras model outputs (the spec's final activation included)."
)

LAYOUTS = ("nhwc", "nchw")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from specc.export.kinds import FORMATS

    parser.add_argument("spec", type=Path, metavar="SPEC", help="the spec file")
    parser.add_argument("--checkpoint", type=Path, metavar="CKPT",
                        help="a checkpoint of either backend (checkpoints/last.ckpt) or a run "
                        "folder; default: the freshly initialised model (the recipe's seed)")
    parser.add_argument("--format", choices=tuple(FORMATS), default=None,
                        help="default: from the output's suffix (.onnx, .keras, .pt, "
                        ".safetensors)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="the file to write (torch also writes FILE's .py beside it); its "
                        "folder must exist")
    parser.add_argument("--layout", choices=LAYOUTS, default=None,
                        help="input layout of onnx and torch exports: nhwc (default, as Keras "
                        "and image files) or nchw")
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="without --checkpoint: the training data whose per-channel mean "
                        "and std the normalization uses (else pixels / 255 only)")


def run(args: argparse.Namespace) -> int:
    from specc.export.formats import export, require_fits, require_modules
    from specc.export.job import prepare_job
    from specc.spec.load import load_spec
    from specc.train.checkpoint import checkpoint_file

    if args.data is not None and args.checkpoint is not None:
        raise SpeccError(f"--data {args.data}: the checkpoint records its training set's mean and "
                         "std, which the export uses; give --data only without --checkpoint")
    fmt = _format(args.format, args.output)
    nhwc = _layout(args.layout, fmt)
    _check_output(args.output, fmt)
    require_modules(fmt)
    loaded = load_spec(args.spec)
    require_fits(fmt, loaded)
    checkpoint = checkpoint_file(args.checkpoint) if args.checkpoint is not None else None
    with tempfile.TemporaryDirectory(prefix="specc-export-") as folder:
        job = prepare_job(loaded, checkpoint, args.data, nhwc, args.output, Path(folder))
        written = export(fmt, job)
    _report(loaded, fmt.name, job.trained, nhwc, written)
    return 0


def _format(name: str | None, output: Path) -> ExportFormat:
    from specc.export.kinds import FORMATS

    by_suffix = {fmt.suffix: fmt for fmt in FORMATS.values()}
    suffixes = ", ".join(by_suffix)
    if str(output) == "-":
        raise SpeccError("-o -: specc export writes a file (checked, then renamed into place), "
                         f"not standard output; name the file, ending in one of {suffixes}")
    if name is None:
        if output.suffix not in by_suffix:
            raise SpeccError(f"-o {output}: cannot tell the format from the suffix "
                             f"{output.suffix or '(none)'!r}; name it with one of {suffixes} or "
                             "give --format")
        return by_suffix[output.suffix]
    fmt = FORMATS[name]
    if output.suffix != fmt.suffix:
        raise SpeccError(f"-o {output}: --format {name} writes a {fmt.suffix} file; expected a "
                         f"name ending in {fmt.suffix}")
    return fmt


def _layout(layout: str | None, fmt: ExportFormat) -> bool:
    if layout is not None and layout != "nhwc" and not fmt.takes_layout:
        raise SpeccError(f"--layout {layout}: --format {fmt.name} takes no layout (Keras models "
                         "are channels-last; safetensors holds only weights); use it with onnx "
                         "or torch")
    return layout != "nchw"


def _check_output(output: Path, fmt: ExportFormat) -> None:
    """Refuse an output nothing can be written to, before any work is done."""
    targets = [output] + ([output.with_suffix(".py")] if fmt.name == "torch" else [])
    for target in targets:
        if target.is_dir():
            raise SpeccError(f"-o {output}: {target} is a folder; expected a file name")
    folder = output.parent
    if folder.exists() and not folder.is_dir():
        raise SpeccError(f"-o {output}: {folder} is a file, not a folder")
    if not folder.is_dir():
        raise SpeccError(f"-o {output}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SpeccError(f"-o {output}: the folder {folder} is not writable")
    if fmt.name == "torch":
        _check_module_name(output)
        _check_source_replaceable(output)


def _check_source_replaceable(output: Path) -> None:
    """The source beside FILE is implied, not named: it may replace only an earlier export."""
    from specc.backends.source import generated_by_specc

    source = output.with_suffix(".py")
    if source.exists() and not generated_by_specc(source):
        raise SpeccError(f"-o {output}: the PyTorch source would be written beside it as "
                         f"{source}, which exists and was not written by specc; move that file "
                         "or name the export otherwise")


# Modules that `import torch` in the source's folder needs: a source of one of these names
# would be imported in their place, and break torch (and specc, run from that folder).
SHADOWED = frozenset(sys.stdlib_module_names) | {"torch", "numpy"}


def _check_module_name(output: Path) -> None:
    """The PyTorch source is imported by its file name (`from model import load`)."""
    stem = output.stem
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise SpeccError(f"-o {output}: the PyTorch source is written beside it as "
                         f"{stem}.py, which Python cannot import by that name; use a "
                         "name that is a Python identifier, such as model.pt")
    if stem in SHADOWED:
        raise SpeccError(f"-o {output}: the PyTorch source is written beside it as {stem}.py, "
                         f"which would shadow the module `{stem}` that `import torch` needs in "
                         "that folder; use another name, such as model.pt")


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return ""


def _in_layout(shape: tuple[int, ...], nhwc: bool) -> tuple[int, ...]:
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 and not nhwc else shape


def _report(loaded: LoadedSpec, fmt: str, trained: Trained, nhwc: bool,
            written: Written) -> None:
    from specc.layers.base import format_shape

    shape, output = (_in_layout(tuple(s), nhwc)
                     for s in (loaded.spec.input.shape, loaded.info.output_shape))
    last = loaded.spec.layers[-1]
    activation = getattr(last, "activation", None) or "none"
    print(f"Exported {loaded.spec.name} ({trained.origin}) as {fmt}:")
    for path in written.files:
        print(f"  {path} ({_size(path)})")
    print(f"Input `pixels`: float32 {format_shape(shape)} (None: the batch), pixels 0 to 255; "
          "the recipe's normalization is inside.")
    print(f"Output: {format_shape(output)}, after the last layer "
          f"{last.name!r} ({last.type}, activation {activation}).")
    if fmt == "torch":
        module = written.files[1].stem
        print(f"Load it with: from {module} import load; model = load()")
    if trained.note:
        print(f"Note: {trained.note}")
    print(written.check)
