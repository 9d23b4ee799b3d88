"""The four export formats. Each writes atomically (temporary file, fsync, rename) and checks
what it wrote against the PyTorch model before the rename: ONNX through onnxruntime, `.keras`
through `keras.models.load_model`, the state dict and safetensors by loading them back.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specc.backends.source import atomic_file
from specc.errors import ExpectationError, SpeccError, os_error
from specc.export.job import ExportJob
from specc.export.kinds import ExportFormat
from specc.limits import BYTES_PER_ELEMENT
from specc.spec.load import LoadedSpec

TOLERANCE = 1e-4  # relative, float32: what every written file must reproduce
CHECK_BATCH = 3  # images in the check batch; not the export's example batch, so the
EXAMPLE_BATCH = 2  # check also proves the batch dimension is dynamic
ONNX_LIMIT = 2**31 - 1  # bytes: protobuf's limit for one ONNX file
INPUT_NAME, OUTPUT_NAME = "pixels", "output"
STACK_TRACE_KEY = "pkg.torch.onnx.stack_trace"  # ONNX node metadata torch.onnx.export adds
NORMALIZATION_NAME = "pixel_normalization"  # the .keras export's layer in front of the model


def require_modules(fmt: ExportFormat) -> None:
    """One line naming the extra to install when the format's dependencies are missing."""
    if "keras" in fmt.modules:
        from specc.backends.quiet_keras import quiet_tensorflow

        quiet_tensorflow()  # before TensorFlow's first import, or it logs to stderr
    missing = []
    for name in fmt.modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise SpeccError(
            f"--format {fmt.name} needs {', '.join(missing)}, which is not installed: install "
            f"the optional dependencies with `pip install 'specc[{fmt.extra}]'` (`make install` "
            "does)")


def require_fits(fmt: ExportFormat, loaded: LoadedSpec) -> None:
    """Refuse, before any weights are made, an ONNX export its float32 weights alone put over
    protobuf's limit (the exporter would take minutes and gigabytes to find out)."""
    weight_bytes = BYTES_PER_ELEMENT * loaded.info.total_params
    if fmt.name == "onnx" and weight_bytes > ONNX_LIMIT:
        raise SpeccError(f"{loaded.file}: the model's {loaded.info.total_params:,} parameters take "
                         f"{weight_bytes / 2**30:.1f} GiB as float32, over the 2 GiB ONNX keeps "
                         "in one file; export it with --format torch or safetensors")


@dataclass(frozen=True)
class Written:
    files: tuple[Path, ...]
    check: str  # what was compared, and the largest relative difference


def export(fmt: ExportFormat, job: ExportJob) -> Written:
    writers: dict[str, Callable[[ExportJob], Written]] = {
        "onnx": write_onnx, "keras": write_keras, "torch": write_torch,
        "safetensors": write_safetensors}
    return writers[fmt.name](job)


@contextlib.contextmanager
def export_file(path: Path) -> Iterator[Path]:
    """`specc.backends.source.atomic_file` (fsynced, renamed into place only when the block
    ends normally), with an OSError as `path: what is wrong` (exit 2)."""
    try:
        with atomic_file(path) as temporary:
            yield temporary
    except OSError as error:
        raise os_error(error, "write the export", path) from None


# --- the check every format passes before its file is renamed into place -------------------

def check_pixels(job: ExportJob, batch: int = CHECK_BATCH, seed: int = 0) -> np.ndarray:
    """Random pixels 0 to 255 in the export's input layout."""
    shape = tuple(job.loaded.spec.input.shape)
    if len(shape) == 3 and not job.nhwc:
        shape = (shape[2], shape[0], shape[1])
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 255.0, (batch, *shape)).astype(np.float32)


def reference_output(job: ExportJob, pixels: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return job.deployed(torch.from_numpy(pixels)).numpy()


def relative_difference(expected: np.ndarray, actual: np.ndarray) -> float:
    """max |expected - actual| / max |expected| (in float64)."""
    if expected.shape != actual.shape:
        return float("inf")
    expected64 = expected.astype(np.float64)
    scale = max(float(np.max(np.abs(expected64), initial=0.0)), 1e-6)
    return float(np.max(np.abs(expected64 - actual.astype(np.float64)), initial=0.0)) / scale


def require_match(job: ExportJob, runtime: str, pixels: np.ndarray, actual: np.ndarray) -> str:
    expected = reference_output(job, pixels)
    if not np.isfinite(expected).all():  # finite weights can still overflow float32
        raise ExpectationError(
            f"{job.output}: the model's output on random pixels 0 to 255 holds NaN or infinite "
            "values (its weights or the checkpoint's normalization overflow float32); nothing "
            "was written")
    difference = relative_difference(expected, actual)
    if not difference <= TOLERANCE:
        raise ExpectationError(
            f"{job.output}: {runtime}'s output differs from PyTorch's by {difference:.3e} "
            f"relative (tolerance {TOLERANCE:g}); nothing was written")
    return (f"{runtime} matches PyTorch on {len(pixels)} random images: max relative "
            f"difference {difference:.1e} (tolerance {TOLERANCE:g})")


# --- ONNX ------------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """torch.onnx's progress lines and its warnings about optional packages it skips."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def onnx_bytes(job: ExportJob) -> bytes:
    """The wrapper traced by PyTorch's own exporter (torch.export, then onnxscript), with a
    dynamic batch dimension."""
    import torch

    example = torch.from_numpy(check_pixels(job, EXAMPLE_BATCH, seed=1))
    batch = torch.export.Dim("batch", min=1)
    with _quiet_exporter():
        try:
            # The graph is left as traced: onnxruntime optimises it when it loads it.
            program = torch.onnx.export(
                job.deployed, (example,), None, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_shapes={INPUT_NAME: {0: batch}},
                dynamo=True, optimize=False, verbose=False)
        except Exception as error:  # noqa: BLE001  (an exporter failure is one line, no trace)
            raise SpeccError(f"{job.loaded.file}: torch.onnx.export cannot export the model: "
                             f"{type(error).__name__}: {str(error).strip().splitlines()[0]}")
    proto = program.model_proto
    _drop_stack_traces(proto)
    return _serialized(proto, job.output)


def _drop_stack_traces(proto: Any) -> None:
    """The exporter notes on each node where in the traced source it came from: a file in
    this export's temporary folder, gone once it ends, whose random name would make every
    export of the same weights a different file."""
    for graph_nodes in (proto.graph.node, *(function.node for function in proto.functions)):
        for node in graph_nodes:
            kept = [entry for entry in node.metadata_props if entry.key != STACK_TRACE_KEY]
            del node.metadata_props[:]
            node.metadata_props.extend(kept)


def _serialized(proto: Any, output: Path) -> bytes:
    from google.protobuf.message import EncodeError

    too_large = (f"{output}: the model is over the 2 GiB ONNX keeps in one file; export it "
                 "with --format torch or safetensors")
    try:
        if proto.ByteSize() > ONNX_LIMIT:
            raise SpeccError(too_large)
        return proto.SerializeToString()
    except EncodeError:  # protobuf refuses even to measure a message over its limit
        raise SpeccError(too_large) from None


def write_onnx(job: ExportJob) -> Written:
    import onnxruntime

    content = onnx_bytes(job)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])
    pixels = check_pixels(job)
    check = require_match(job, "onnxruntime", pixels,
                          session.run([OUTPUT_NAME], {INPUT_NAME: pixels})[0])
    with export_file(job.output) as temporary:
        temporary.write_bytes(content)
    return Written((job.output,), check)


# --- Keras -----------------------------------------------------------------------------------

def keras_deployed(job: ExportJob) -> Any:
    """The generated Keras model with the weights, behind a Normalization layer that applies
    the recipe's normalization to pixels 0 to 255."""
    import keras

    from specc.backends.convert import torch_to_keras
    from specc.train.common import RunOptions
    from specc.train.session import build_model

    model = build_model(job.loaded, RunOptions(backend="keras", precision="fp32"), job.build_dir)
    torch_to_keras(job.trained.model, model, job.loaded)
    # The nested model is one of the outer model's layers, whose names Keras requires unique.
    if model.name in (INPUT_NAME, NORMALIZATION_NAME):
        model.name = f"{model.name}_model"
    mean, std = job.trained.mean, job.trained.std
    inputs = keras.Input(shape=tuple(job.loaded.spec.input.shape), name=INPUT_NAME)
    normalised = keras.layers.Normalization(
        axis=-1, mean=255.0 * mean, variance=(255.0 * std) ** 2, name=NORMALIZATION_NAME,
    )(inputs)
    return keras.Model(inputs, model(normalised), name=job.loaded.spec.name)


def write_keras(job: ExportJob) -> Written:
    import keras

    model = keras_deployed(job)
    pixels = check_pixels(job)
    with export_file(job.output) as temporary:
        model.save(temporary)
        loaded = keras.models.load_model(temporary)
        check = require_match(job, "keras.models.load_model", pixels,
                              np.asarray(loaded(pixels, training=False)))
    return Written((job.output,), check)


# --- PyTorch state dict and its source; safetensors -----------------------------------------

def state_tensors(job: ExportJob) -> dict[str, Any]:
    return {name: tensor.detach().contiguous()
            for name, tensor in job.deployed.state_dict().items()}


def _output_of_state(job: ExportJob, state: dict[str, Any], pixels: np.ndarray) -> np.ndarray:
    """The wrapper class, freshly made, with `state` loaded: what a user's load() gives."""
    import torch

    fresh = type(job.deployed)()
    fresh.load_state_dict(state)
    with torch.inference_mode():
        return fresh.eval()(torch.from_numpy(pixels)).numpy()


def write_torch(job: ExportJob) -> Written:
    import torch

    buffer = io.BytesIO()
    torch.save(state_tensors(job), buffer)
    content = buffer.getvalue()
    pixels = check_pixels(job)
    state = torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    check = require_match(job, "the saved state dict", pixels, _output_of_state(job, state, pixels))
    source = job.output.with_suffix(".py")
    with export_file(source) as source_temporary, export_file(job.output) as temporary:
        source_temporary.write_text(job.source.text, encoding="utf-8")
        temporary.write_bytes(content)
    return Written((job.output, source), check)


def write_safetensors(job: ExportJob) -> Written:
    from safetensors.torch import load, save

    loaded = job.loaded
    metadata = {
        "specc_spec": loaded.spec.name, "specc_spec_sha256": loaded.sha256,
        "origin": job.trained.origin,
        "layout": "PyTorch's (conv kernels OIHW, Dense kernels (out, in)); `model.` prefixes "
                  "the generated model's state dict",
        "input": "pixels 0 to 255, normalised per channel as pixels * pixel_scale + pixel_shift",
    }
    content = save(state_tensors(job), metadata=metadata)
    pixels = check_pixels(job)
    check = require_match(job, "the safetensors file", pixels,
                          _output_of_state(job, load(content), pixels))
    with export_file(job.output) as temporary:
        temporary.write_bytes(content)
    return Written((job.output,), check)
