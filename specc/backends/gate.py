"""The build gate: write the generated file, execute the very source string that was checked
and written, and hold the real model's summary against the spec's inferred one, layer by layer.

The source is compiled from the string in memory into a fresh module object: nothing is
imported by path, so no `__pycache__` entry and no file changed after the check can run, and
two builds into one folder cannot load each other's files.

PyTorch: output shapes come from forward hooks on the submodules named like the spec's
layers (NCHW mapped back to channels-last); BatchNorm's running statistics count as
non-trainable, as Keras counts its moving mean and variance (num_batches_tracked does not
count). Keras: `model.get_layer(name)`'s output shape and its weights.
"""

from __future__ import annotations

import hashlib
import linecache
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from specc.backends.keras_codegen import generate_keras
from specc.backends.quiet_keras import quiet_tensorflow
from specc.backends.safety import check_generated
from specc.backends.source import (
    output_path,
    prepare_out_dir,
    write_atomic,
)
from specc.backends.torch_codegen import generate_torch, torch_shape
from specc.errors import ExpectationError, SpeccError
from specc.graph import ModelInfo
from specc.layers.base import format_shape
from specc.spec.load import LoadedSpec

Backend = Literal["torch", "keras"]


@dataclass(frozen=True)
class BuiltLayer:
    """One layer of the real model, in the spec's terms (channels-last, batch left out)."""

    name: str
    shape: tuple[int | None, ...] | None  # None: the layer never ran / was not found
    trainable: int
    non_trainable: int


@dataclass(frozen=True)
class BuiltModel:
    """A generated model that passed the gate, with the file it came from and the table."""

    model: Any
    path: Path
    backend: Backend
    layers: tuple[BuiltLayer, ...]
    report: str


class GateError(ExpectationError):
    """The built model differs from the spec; `report` holds the side-by-side table."""

    def __init__(self, message: str, *, report: str, file: str | None = None) -> None:
        super().__init__(message, file=file)
        self.report = report


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def generate(loaded: LoadedSpec, backend: Backend) -> str:
    """The generated source, checked (ast: literals and names) before anything executes it."""
    source = generate_torch(loaded) if backend == "torch" else generate_keras(loaded)
    check_generated(source, loaded, backend)
    return source


def write_model(loaded: LoadedSpec, backend: Backend, out_dir: Path) -> Path:
    """Generate and write `out_dir/<spec name>_<backend>.py` atomically; return its path."""
    return _write_source(loaded, backend, out_dir, generate(loaded, backend))


def _write_source(loaded: LoadedSpec, backend: Backend, out_dir: Path, source: str) -> Path:
    prepare_out_dir(out_dir)
    path = output_path(out_dir, loaded.spec.name, backend)
    write_atomic(path, source)
    return path


def execute_source(source: str, path: Path) -> ModuleType:
    """Execute `source` (already checked) as a fresh module; `path` is only its display name.

    The module is named after the source's hash and registered in `sys.modules` (torch.compile
    and pickling look classes up there), and its lines in `linecache` (tracebacks, inspect).
    """
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    name = f"specc_generated_{path.stem}_{digest}"
    filename = str(path)
    code = compile(source, filename, "exec", dont_inherit=True)
    module = ModuleType(name)
    module.__file__ = filename
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    sys.modules[name] = module
    exec(code, module.__dict__)  # noqa: S102  (the generated source, checked with ast first)
    return module


def build_checked(loaded: LoadedSpec, backend: Backend, out_dir: Path) -> BuiltModel:
    """Write the generated source, build the model from that same string, then gate it:
    GateError (exit 1) on any difference.

    The returned model is freshly built (PyTorch: in training mode, Keras's initialisers).
    """
    if backend not in ("torch", "keras"):
        raise SpeccError(f"unknown backend {backend!r}; choose torch or keras")
    source = generate(loaded, backend)
    path = _write_source(loaded, backend, Path(out_dir), source)
    return check_source(loaded, backend, source, path)


def check_file(loaded: LoadedSpec, backend: Backend, path: Path) -> BuiltModel:
    """Read the file at `path` once, then check and execute exactly that text."""
    return check_source(loaded, backend, path.read_text(encoding="utf-8"), path)


def check_source(loaded: LoadedSpec, backend: Backend, source: str, path: Path) -> BuiltModel:
    """Check `source` (ast), execute it, build its model and hold its real summary against
    the spec. `path` names the file the source was written to, for messages."""
    if backend == "keras":
        quiet_tensorflow()
    where = f"build gate ({backend}, {path})"
    check_generated(source, loaded, backend)  # before executing it
    try:
        model = execute_source(source, path).build_model()
    except Exception as error:  # noqa: BLE001  (a broken file is reported, never a traceback)
        raise GateError(f"{where}: the model fails to build: {_first_line(error)}", report="",
                        file=loaded.file) from None
    failure = None
    if backend == "torch":
        layers, failure = summarise_torch(model, loaded.info)
        totals = _torch_counts(model)
    else:
        layers, totals = summarise_keras(model, loaded.info), _keras_counts(model)
    failures = {} if failure is None else {failure[0]: f"fails to run: {_first_line(failure[1])}"}
    report, problems = compare(loaded.info, layers, backend, totals, failures)
    if problems:
        raise GateError(f"{where}: {problems[0]}", report=report, file=loaded.file)
    return BuiltModel(model, path, backend, layers, report)


def summarise_torch(
    model: Any, info: ModelInfo
) -> tuple[tuple[BuiltLayer, ...], tuple[str, Exception] | None]:
    """Per-layer shapes (from hooks) and counts; and the layer whose forward failed, if any."""
    import torch

    shapes: dict[str, tuple[int, ...]] = {}
    entered: list[str] = []
    handles = []
    modules = dict(model.named_modules())
    for layer_info in info.layers:
        name = layer_info.layer.name
        if name in modules:
            handles.append(modules[name].register_forward_hook(_shape_recorder(shapes, name)))
            handles.append(modules[name].register_forward_pre_hook(
                lambda module, inputs, name=name: entered.append(name)))
    was_training = model.training
    model.eval()
    failure = None
    try:
        with torch.no_grad():
            model(torch.zeros((1, *torch_shape(tuple(info.spec.input.shape)))))
    except Exception as error:  # noqa: BLE001  (reported as a gate failure naming the layer)
        failure = (entered[-1] if entered else "(input)", error)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    built = []
    for layer_info in info.layers:
        name = layer_info.layer.name
        module = modules.get(name)
        trainable, frozen = _torch_counts(module) if module is not None else (0, 0)
        built.append(BuiltLayer(name, shapes.get(name), trainable, frozen))
    return tuple(built), failure


def _shape_recorder(shapes: dict[str, tuple[int, ...]], name: str) -> Any:
    def record(module: Any, inputs: Any, output: Any) -> None:
        shape = tuple(output.shape[1:])
        shapes[name] = (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape

    return record


def _torch_counts(module: Any) -> tuple[int, int]:
    """Trainable parameters; frozen ones plus the persistent buffers (a layer's state, as
    Keras's non-trainable weights). Non-persistent buffers are constants, not weights."""
    parameters = dict(module.named_parameters())
    trainable = sum(p.numel() for p in parameters.values() if p.requires_grad)
    frozen = sum(p.numel() for p in parameters.values() if not p.requires_grad)
    frozen += sum(
        tensor.numel() for name, tensor in module.state_dict(keep_vars=True).items()
        if name not in parameters and not name.endswith("num_batches_tracked")
    )
    return trainable, frozen


def summarise_keras(model: Any, info: ModelInfo) -> tuple[BuiltLayer, ...]:
    built = []
    by_name = {layer.name: layer for layer in model.layers}
    for layer_info in info.layers:
        name = layer_info.layer.name
        layer = by_name.get(name)
        if layer is None:
            built.append(BuiltLayer(name, None, 0, 0))
            continue
        built.append(BuiltLayer(
            name,
            tuple(layer.output.shape[1:]),
            sum(_size(w.shape) for w in layer.trainable_weights),
            sum(_size(w.shape) for w in layer.non_trainable_weights),
        ))
    return tuple(built)


def _keras_counts(model: Any) -> tuple[int, int]:
    return (sum(_size(w.shape) for w in model.trainable_weights),
            sum(_size(w.shape) for w in model.non_trainable_weights))


def _size(shape: Any) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def compare(
    info: ModelInfo,
    built: tuple[BuiltLayer, ...],
    backend: str,
    model_totals: tuple[int, int],
    failures: dict[str, str] | None = None,
) -> tuple[str, list[str]]:
    """The side-by-side table and the differences, each naming its layer.

    `model_totals` counts the whole built model, so weights outside the spec's layers show;
    `failures` says why a layer has no output (its forward raised).
    """
    rows = [("layer", "type", "spec shape", f"{backend} shape", "spec params", f"{backend} params",
             "")]
    problems = []
    for layer_info, real in zip(info.layers, built, strict=True):
        spec_params = (layer_info.params.trainable, layer_info.params.non_trainable)
        real_params = (real.trainable, real.non_trainable)
        shape_ok = real.shape is not None and tuple(real.shape) == tuple(layer_info.output_shape)
        params_ok = spec_params == real_params
        if failures and real.name in failures:
            problems.append(f"layer {real.name!r}: {failures[real.name]}")
        elif real.shape is None:
            problems.append(f"layer {real.name!r}: no {backend} layer of that name produced an "
                            "output")
        elif not shape_ok:
            problems.append(f"layer {real.name!r}: output shape {format_shape(real.shape)} in "
                            f"{backend}, {format_shape(layer_info.output_shape)} in the spec")
        if not params_ok:
            problems.append(f"layer {real.name!r}: {_params(real_params)} parameters in "
                            f"{backend}, {_params(spec_params)} in the spec")
        rows.append((
            real.name,
            layer_info.layer.type,
            format_shape(layer_info.output_shape),
            "-" if real.shape is None else format_shape(real.shape),
            _params(spec_params),
            _params(real_params),
            "ok" if shape_ok and params_ok else "DIFFERS",
        ))
    spec_total = (info.trainable_params, info.non_trainable_params)
    real_total = model_totals
    if spec_total != real_total and not problems:
        problems.append(f"the model holds {_params(real_total)} parameters in {backend}, "
                        f"{_params(spec_total)} in the spec")
    rows.append(("total", "", "", "", _params(spec_total), _params(real_total),
                 "ok" if spec_total == real_total else "DIFFERS"))
    return _table(rows), problems


def _params(counts: tuple[int, int]) -> str:
    trainable, frozen = counts
    return f"{trainable + frozen:,}" + (f" ({frozen:,} nt)" if frozen else "")


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    return "\n".join([*lines, "params: total (nt: of which non-trainable)"])
