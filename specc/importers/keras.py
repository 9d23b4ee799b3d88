"""`specc import keras MODEL -o SPEC.yaml [--weights W] [--input-shape H,W,C]`.

MODEL is a `.keras` file (loaded with Keras's safe_mode=True, so no code in it runs), an
`.h5` file, or `module:function` returning a Keras model (code by the user's choice; a
constructor with a `weights` argument, as keras.applications', is called with weights=None).

The spec gets every layer with its non-default arguments, its inputs where it does not read
the previous layer, and expectations read from the Keras model itself: each layer's output
shape and trainable / non-trainable counts, and the model's totals. Nested models are
inlined; Keras operations between layers (`x + 3.0`, `x * y`) and keras.applications' own
custom layers become the exact equivalent in standard layers, with a comment saying so.
`--weights` writes every weight to one safetensors file keyed `<layer>/<weight>` in the
spec's Keras layout. Anything specc cannot express is one line naming the layer, exit 2,
and nothing is written.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import keyword
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.errors import ExitCode, SpeccError
from specc.importers import write_output

if TYPE_CHECKING:
    import numpy as np

HELP = (
    "Make a checked spec (and optionally a weights file) from a Keras model: a .keras file, "
    "an .h5 file or module:function (e.g. keras.applications:ResNet50, called with "
    "weights=None). Exit 0 if specc's inference reproduces every figure of the model, 1 if "
    "one differs, 2 on invalid input or a layer specc cannot express."
)

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="a .keras or .h5 file, or module:function returning a Keras model")
    parser.add_argument("-o", "--output", required=True, metavar="SPEC.yaml",
                        help="the spec to write ('-': standard output)")
    parser.add_argument("--weights", metavar="WEIGHTS.safetensors",
                        help="also write the model's weights here (keyed <layer>/<weight>)")
    parser.add_argument("--input-shape", metavar="H,W,C",
                        help="the input shape for a model built with a variable size, e.g. "
                        "224,224,3")


def run(args: argparse.Namespace) -> int:
    input_shape = _parse_input_shape(args.input_shape)
    imported = import_keras_model(args.model, input_shape)
    from specc.expectations import check_expectations
    from specc.spec.load import load_spec_text

    loaded = load_spec_text(imported.text, args.output)
    failed = [check for check in check_expectations(loaded) if not check.met]
    if args.weights:
        _check_writable(args.weights, args.output)
    write_output(args.output, imported.text)
    if args.weights:
        save_weights(Path(args.weights), imported.weights)
    out = sys.stderr if args.output == "-" else sys.stdout
    for check in failed:
        print(check.as_error(args.output), file=out)
    layers = len(loaded.spec.layers)
    print(f"{args.output}: {layers} layers, {loaded.info.total_params:,} parameters imported "
          f"from {args.model}; {len(failed)} of the model's figures differ from specc's "
          "inference" if failed else
          f"{args.output}: {layers} layers, {loaded.info.total_params:,} parameters imported "
          f"from {args.model}; every figure of the model reproduced", file=out)
    return int(ExitCode.EXPECTATION_FAILED) if failed else int(ExitCode.OK)


def _parse_input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        shape = ()
    if not 1 <= len(shape) <= 3 or any(dim < 1 for dim in shape):
        raise SpeccError(f"--input-shape: expected 1 to 3 positive integers such as 224,224,3; "
                         f"received {text!r}")
    return shape


def _check_writable(path: str, spec: str) -> None:
    from specc.files import check_replaceable, same_file

    target = Path(path)
    if not target.parent.is_dir():
        raise SpeccError(f"{path}: the folder {str(target.parent)!r} does not exist")
    if target.is_dir():
        raise SpeccError(f"{path}: is a folder; give the weights file's name")
    if same_file(path, spec):
        raise SpeccError(f"{path}: is the spec's own file (-o); give the weights another name")
    check_replaceable(target)


# --- loading the model ---


def load_keras_model(source: str) -> Any:
    """The Keras model MODEL names; every failure is one SpeccError line naming it."""
    from specc.backends.quiet_keras import quiet_tensorflow
    from specc.importers._keras_layers import application_layers

    quiet_tensorflow()
    import keras

    path = Path(source)
    if source.endswith((".keras", ".h5", ".hdf5")):
        if path.is_dir():
            raise SpeccError(f"{source}: is a folder, not a model file")
        if not path.is_file():
            raise SpeccError(f"{source}: no such file")
        if source.endswith(".keras"):
            _check_keras_archive(path, source)
        try:
            # safe_mode=True: a Lambda's pickled code in the file is refused, never run.
            legacy = not source.endswith(".keras")  # names classes without their module
            model = keras.saving.load_model(
                path, compile=False, safe_mode=True,
                custom_objects=application_layers() if legacy else None)
        except Exception as error:  # noqa: BLE001  (a corrupt file is one line, never a traceback)
            raise SpeccError(f"{source}: cannot be loaded as a Keras model: "
                             f"{_first_line(error)}") from None
    elif ":" in source:
        model = _call_constructor(source)
    else:
        raise SpeccError(f"{source}: expected a .keras or .h5 file, or module:function "
                         "(e.g. keras.applications:ResNet50)")
    if not isinstance(model, keras.Model):
        raise SpeccError(f"{source}: returned a {type(model).__name__}, not a Keras model")
    return model


# Keras reads config.json whole into memory and parses it (up to 4 GiB before its own bomb
# guard); NASNetLarge's, 1040 layers, is under 2 MiB.
MAX_KERAS_CONFIG_BYTES = 64 << 20


def _check_keras_archive(path: Path, source: str) -> None:
    """A `.keras` zip whose config.json is of a model's size, checked before Keras reads it:
    a few compressed MiB can declare gigabytes (a decompression bomb)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo("config.json").file_size
    except (zipfile.BadZipFile, KeyError) as error:  # an OSError says `path: what is wrong`
        raise SpeccError(f"{source}: not a .keras model archive: {_first_line(error)}") from None
    if size > MAX_KERAS_CONFIG_BYTES:
        raise SpeccError(f"{source}: its config.json declares {size:,} bytes, over specc's limit "
                         f"of {MAX_KERAS_CONFIG_BYTES:,} for a model's configuration")


def _call_constructor(source: str) -> Any:
    """The model `module:name` names: a function's result, or a model object itself."""
    import keras

    module_name, _, function_name = source.partition(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        # The `specc` script, unlike `python -m`, does not put the working folder on the
        # path, where the user's own model module usually is; after, so it shadows nothing.
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001
        raise SpeccError(f"{source}: cannot import module {module_name!r}: "
                         f"{_first_line(error)}") from None
    function = getattr(module, function_name, None)
    if isinstance(function, keras.Model):
        return function
    if not callable(function):
        raise SpeccError(f"{source}: module {module_name!r} has no function {function_name!r}")
    arguments: dict[str, Any] = {}
    try:
        if "weights" in inspect.signature(function).parameters:
            arguments["weights"] = None  # keras.applications: the architecture, no download
    except (TypeError, ValueError):
        pass
    try:
        return function(**arguments)
    except Exception as error:  # noqa: BLE001
        raise SpeccError(f"{source}: raised {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _with_input_shape(model: Any, shape: tuple[int, ...] | None, source: str) -> Any:
    """The model with a fixed input size: refused without --input-shape where it varies."""
    import keras

    _require_graph(model, shape, source)
    if len(model.inputs) != 1:
        raise SpeccError(f"{source}: the model has {len(model.inputs)} inputs; a spec has one")
    known = tuple(model.inputs[0].shape[1:])
    if shape is None:
        if None in known:
            raise SpeccError(
                f"{source}: the model takes a variable input size "
                f"{_shape_text(known)}; give one with --input-shape, e.g. "
                f"--input-shape {','.join('224' if d is None else str(d) for d in known)}")
        return model
    if len(shape) != len(known) or any(k not in (None, s) for k, s in zip(known, shape, strict=True)):
        raise SpeccError(f"--input-shape {','.join(map(str, shape))} does not fit the model's "
                         f"input {_shape_text(known)}")
    if known == shape:
        return model
    try:
        clone = keras.models.clone_model(model, input_tensors=keras.Input(shape=shape))
        clone.set_weights(model.get_weights())
    except Exception as error:  # noqa: BLE001
        raise SpeccError(f"{source}: cannot be rebuilt with input {shape}: "
                         f"{_first_line(error)}") from None
    return clone


def _require_graph(model: Any, shape: tuple[int, ...] | None, source: str) -> None:
    """A functional or Sequential model, whose graph specc can read; a Sequential that was
    never given an input is built here with --input-shape, as `model.build` would."""
    import keras
    from keras.src.models.functional import Functional

    _refuse_own_call(model, source)
    if isinstance(model, keras.Sequential):
        if getattr(model, "_functional", None) is not None:
            return
        if shape is None:
            raise SpeccError(f"{source}: the Sequential model {model.name!r} has no input shape "
                             "(no keras.Input, never built); give one with --input-shape, e.g. "
                             "--input-shape 224,224,3")
        try:
            model.build((None, *shape))
        except Exception as error:  # noqa: BLE001
            raise SpeccError(f"{source}: cannot be built with input {shape}: "
                             f"{_first_line(error)}") from None
    elif not isinstance(model, Functional):
        raise SpeccError(f"{source}: {type(model).__name__} is a subclassed keras.Model, whose "
                         "layers are connected by Python code in call(); specc reads functional "
                         "and Sequential models")


def _refuse_own_call(model: Any, source: str) -> None:
    """A functional or Sequential model whose class overrides call() computes what that
    Python code says, which the graph specc reads need not be (`super().call(x) * 2`)."""
    import keras
    from keras.src.models.functional import Functional

    for base in (keras.Sequential, Functional):
        if isinstance(model, base) and type(model).call is not base.call:
            raise SpeccError(f"{source}: model {model.name!r} ({type(model).__name__}) "
                             "overrides call(), whose Python code may compute something other "
                             "than its layer graph; specc reads the graph only")


def _shape_text(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


# --- the graph, flattened into spec layers ---


@dataclass
class SpecLayer:
    """One layer of the spec being built, with its Keras figures and weights."""

    entry: dict[str, Any]  # name, type, arguments, inputs, trainable
    shape: tuple[int, ...]
    trainable: int
    non_trainable: int
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    comment: str = ""


@dataclass
class ImportedModel:
    text: str
    weights: dict[str, np.ndarray]


class _Flattener:
    """Walks a Keras functional graph in execution order, inlining nested models."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.layers: list[SpecLayer] = []
        self.names: set[str] = set()
        self.tensor_names: dict[int, str] = {}
        self.calls: dict[int, int] = {}

    def unique_name(self, wanted: str) -> str:
        from specc.backends.torch_codegen import MODULE_ATTRIBUTES

        name = re.sub(r"\W", "_", wanted.encode("ascii", "replace").decode()) or "layer"
        if name[0].isdigit():
            name = f"layer_{name}"
        name = name.lstrip("_") or "layer"
        if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in MODULE_ATTRIBUTES:
            name = f"{name}_layer"
        name = name[:60]
        candidate, suffix = name, 2
        while candidate in self.names:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        self.names.add(candidate)
        return candidate

    def refuse(self, operation: Any, message: str) -> SpeccError:
        return SpeccError(f"{self.source}: layer {operation.name!r} "
                          f"({type(operation).__name__}): {message}")

    def walk(self, model: Any) -> None:
        import keras

        if isinstance(model, keras.Sequential):
            # A built Sequential runs its `_functional` graph; walking the layers' own nodes
            # instead can pick a stale one (a reloaded model's layers were called twice).
            functional = getattr(model, "_functional", None)
            if functional is None:
                self._walk_sequential(model)
                return
            model = functional
        for depth in sorted(model._nodes_by_depth, reverse=True):  # Keras's execution order
            for node in model._nodes_by_depth[depth]:
                self._node(node)

    def _walk_sequential(self, model: Any) -> None:
        import keras

        current = model.inputs[0]
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            node = next((n for n in layer._inbound_nodes
                         if any(t is current for t in n.input_tensors)), None)
            if node is None:
                raise self.refuse(layer, "is not connected in its Sequential model")
            self._node(node)
            current = node.output_tensors[0]

    def _node(self, node: Any) -> None:
        import keras

        operation = node.operation
        if isinstance(operation, keras.layers.InputLayer):
            (tensor,) = node.output_tensors
            if id(tensor) not in self.tensor_names:
                self.tensor_names[id(tensor)] = self.input_name
            return
        self.calls[id(operation)] = self.calls.get(id(operation), 0) + 1
        if self.calls[id(operation)] > 1:
            raise self.refuse(operation, "is shared (called more than once); a spec calls each "
                              "layer once")
        if len(node.output_tensors) != 1:
            raise self.refuse(operation, f"has {len(node.output_tensors)} outputs; specc layers "
                              "have one")
        inputs = [self.tensor_names.get(id(tensor)) for tensor in node.input_tensors]
        if None in inputs:
            raise self.refuse(operation, "reads a tensor from outside the model's graph")
        if isinstance(operation, keras.Layer):  # an operation's arguments: _keras_layers
            self._refuse_call_arguments(operation, node)
        if isinstance(operation, keras.Model):
            self._inline(operation, node, inputs)
            return
        from specc.importers._keras_layers import translate

        for layer in translate(self, operation, node, inputs):
            self.layers.append(layer)
        self.tensor_names[id(node.output_tensors[0])] = self.layers[-1].entry["name"]

    def _refuse_call_arguments(self, layer: Any, node: Any) -> None:
        """A layer called with an argument that changes what it computes: `training=True`
        keeps a Dropout dropping and a BatchNormalization on batch statistics at inference
        (Monte Carlo dropout), which a spec's layers never do. training=False (a frozen
        backbone, as Keras's transfer-learning guide calls it) computes the same at
        inference."""
        for key, value in (node.arguments.kwargs if node.arguments else {}).items():
            if value is None or (key == "training" and value is False):
                continue
            raise self.refuse(layer, f"is called with {key}={value!r}, which a spec cannot "
                              "express (its layers compute as Keras's do by default: dropout "
                              "and batch statistics in training only)")

    def _inline(self, model: Any, node: Any, inputs: list[str | None]) -> None:
        if len(model.inputs) != len(inputs) or len(model.outputs) != 1:
            raise self.refuse(model, "is a nested model with several inputs or outputs")
        _refuse_own_call(model, self.source)
        for inner, outer in zip(model.inputs, inputs, strict=True):
            self.tensor_names[id(inner)] = outer  # type: ignore[assignment]
        self.walk(model)
        self.tensor_names[id(node.output_tensors[0])] = self.tensor_names[id(model.outputs[0])]

    input_name = "input"


def import_keras_model(source: str, input_shape: tuple[int, ...] | None = None) -> ImportedModel:
    """The spec text and weights for the Keras model MODEL names."""
    return import_model_object(load_keras_model(source), source, input_shape)


def import_model_object(model: Any, source: str,
                        input_shape: tuple[int, ...] | None = None) -> ImportedModel:
    """The spec text and weights for a Keras model in memory; `source` names it in messages."""
    model = _with_input_shape(model, input_shape, source)
    if len(model.outputs) != 1:
        raise SpeccError(f"{source}: the model has {len(model.outputs)} outputs; a spec has one")
    flattener = _Flattener(source)
    input_layer = getattr(model.inputs[0], "_keras_history", None)
    flattener.input_name = flattener.unique_name(
        getattr(input_layer[0], "name", None) if input_layer else "input")
    flattener.tensor_names[id(model.inputs[0])] = flattener.input_name
    flattener.walk(model)
    if not flattener.layers:
        raise SpeccError(f"{source}: the model has no layers")
    if flattener.tensor_names.get(id(model.outputs[0])) != flattener.layers[-1].entry["name"]:
        raise SpeccError(f"{source}: the model's output is not its last layer's")
    return ImportedModel(_render(model, flattener, source), _weights(flattener.layers))


def _render(model: Any, flattener: _Flattener, source: str) -> str:
    from pydantic import ValidationError

    from specc.spec.diagnostics import locate_validation_error
    from specc.spec.model import Spec
    from specc.spec.writer import render_spec
    from specc.spec.yaml_source import SourceMap

    entries = []
    previous = flattener.input_name
    for layer in flattener.layers:
        entry = dict(layer.entry)
        if entry.get("inputs") == [previous]:
            del entry["inputs"]
        entry["expect"] = {"shape": list(layer.shape), "trainable": layer.trainable,
                           "non_trainable": layer.non_trainable}
        entries.append(entry)
        previous = entry["name"]
    trainable = sum(_size(w.shape) for w in model.trainable_weights)
    non_trainable = sum(_size(w.shape) for w in model.non_trainable_weights)
    document = {
        "name": flattener.unique_name(model.name or "imported"),
        "input": {"name": flattener.input_name, "shape": list(model.inputs[0].shape[1:])},
        "layers": entries,
        "expect": {"total_params": trainable + non_trainable, "trainable_params": trainable,
                   "non_trainable_params": non_trainable},
    }
    try:
        spec = Spec.model_validate(document)
    except ValidationError as error:  # a value the spec language refuses, worded as for a spec
        located = locate_validation_error(error, document, SourceMap(source), Spec)
        # A spelling hint helps whoever typed a spec; a model's value is no typo, and the
        # nearest name (softsign: softplus) is another function.
        message = re.sub(r" Did you mean '[^']*'\?$", "", located.message)
        raise SpeccError(f"{source}: {message}") from None
    comments = {layer.entry["name"]: layer.comment for layer in flattener.layers if layer.comment}
    header = (f"Imported by specc import keras from {source}.\n"
              "Expectations are the Keras model's own figures." + _precision_note(model))
    return render_spec(spec, comments, header=header)


def _precision_note(model: Any) -> str:
    """A line saying so where the Keras layers compute in anything but float32: a spec holds
    no precision, so the import alone would drop it silently."""
    import keras

    policies = sorted({layer.dtype_policy.name for layer in model._flatten_layers(include_self=False)
                       if not isinstance(layer, keras.layers.InputLayer)} - {"float32"})
    if not policies:
        return ""
    return (f"\nThe Keras model's layers compute in {', '.join(policies)}; a spec holds no "
            "precision: choose it when training (specc train --precision).")


def _size(shape: Sequence[Any]) -> int:
    count = 1
    for dim in shape:
        count *= int(dim)
    return count


def _weights(layers: list[SpecLayer]) -> dict[str, np.ndarray]:
    return {f"{layer.entry['name']}/{name}": array
            for layer in layers for name, array in layer.weights.items()}


def save_weights(path: Path, weights: dict[str, np.ndarray]) -> None:
    """The weights as one safetensors file, written to a temporary name and renamed."""
    import numpy as np
    from safetensors.numpy import save_file

    from specc.files import atomic_path

    with atomic_path(path) as temp:
        # ascontiguousarray alone makes a scalar (an adapted Normalization's count) shape (1,)
        save_file({key: np.ascontiguousarray(value).reshape(value.shape)
                   for key, value in weights.items()}, str(temp))


__all__ = ["HELP", "ImportedModel", "add_arguments", "import_keras_model", "import_model_object",
           "load_keras_model", "run", "save_weights"]
