"""One Keras operation as spec layers: a standard layer by its type's `from_keras_config`;
Keras operations between tensors (`x + 3.0`, `x * y`), keras.applications' custom layers and
the Keras layers that are another layer with arguments (LeakyReLU, Softmax, ELU, Identity,
SpatialDropout2D) as their exact equivalent in specc's layers, each with a comment saying so.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from specc.errors import LayerError
from specc.layers import LAYER_TYPES

if TYPE_CHECKING:
    from specc.importers.keras import SpecLayer, _Flattener

# Keras config keys with no meaning for the computation the spec describes.
_IGNORED_CONFIG = frozenset({"name", "trainable", "dtype", "seed", "autocast", "build_config"})

_DEFAULT_CONFIGS: dict[tuple[type, str], dict[str, Any]] = {}


def translate(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    import keras

    kind = type(operation)
    if kind.__module__.startswith("keras.src.ops."):
        return _operation(flattener, operation, node, inputs)
    custom = _CUSTOM.get((kind.__module__, kind.__name__))
    if custom is not None:
        return custom(flattener, operation, node, inputs)
    spec_type = LAYER_TYPES.get(kind.__name__)
    if spec_type is None or kind is not getattr(keras.layers, kind.__name__, None):
        raise flattener.refuse(operation, "is not a layer type specc supports; the supported "
                               f"types are {', '.join(sorted(LAYER_TYPES))}")
    config = _config(flattener, operation)
    input_shapes = [_shape(tensor) for tensor in node.input_tensors]
    try:
        arguments = spec_type.from_keras_config(config, input_shapes)
    except (LayerError, ValueError) as error:
        raise flattener.refuse(operation, getattr(error, "message", str(error))) from None
    # Spec fields the type left out hold the spec's default, which is Keras's.
    read = (*spec_type.model_fields, *spec_type.keras_config_read)
    _check_defaults(flattener, operation, config, arguments, read)
    _check_activation(flattener, operation, config)
    entry = {"name": flattener.unique_name(operation.name), "type": kind.__name__, **arguments,
             "inputs": inputs}
    if not operation.trainable and operation.weights:
        entry["trainable"] = False
    return [_spec_layer(entry, node, operation, _own_weights(operation))]


def _check_activation(flattener: _Flattener, operation: Any, config: dict[str, Any]) -> None:
    """get_config() names an activation function by its __name__ where that is a Keras
    activation's, so a user's own `def gelu(x)` reads as Keras's gelu: the function the layer
    holds must compute what the name does (tf.nn.relu does; compared on a fixed probe)."""
    import keras

    from specc.layers.base import activation_name

    function = getattr(operation, "activation", None)
    if "activation" not in config or function is None:
        return
    name = activation_name(config["activation"])  # read before, so it is one
    try:
        named = keras.activations.get(name)
    except ValueError:
        return  # a name Keras does not know; the spec's validation says so
    if function is named:
        return
    # Around zero, where activations differ most, and far out (a clip at 10 shows).
    probe = np.concatenate([np.linspace(-8.0, 8.0, 65), [-1000.0, -30.0, 30.0, 1000.0]],
                           dtype=np.float32)
    try:
        same = np.allclose(np.asarray(function(probe)), np.asarray(named(probe)),
                           rtol=1e-5, atol=1e-6)
    except Exception:  # noqa: BLE001  (the user's function failing on a vector)
        same = False
    if not same:
        shown = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
        raise flattener.refuse(operation, f"its activation is {shown}, which Keras saves as "
                               f"{name!r} but which does not compute Keras's {name}")


def _config(flattener: _Flattener, operation: Any) -> dict[str, Any]:
    """The layer's get_config(), which runs Keras's serialisers: a lambda activation whose
    source is not on disk (defined in a notebook or by exec) makes them raise."""
    from specc.importers.keras import _first_line

    try:
        return operation.get_config()
    except Exception as error:  # noqa: BLE001  (any serialiser's failure is one line)
        raise flattener.refuse(operation, "its configuration cannot be read: "
                               f"{_first_line(error)}") from None


def _shape(tensor: Any) -> tuple[int, ...]:
    return tuple(tensor.shape[1:])


def _spec_layer(entry: dict[str, Any], node: Any, operation: Any,
                weights: dict[str, np.ndarray], comment: str = "") -> SpecLayer:
    from specc.importers.keras import SpecLayer, _size

    return SpecLayer(
        entry=entry,
        shape=_shape(node.output_tensors[0]),
        trainable=sum(_size(w.shape) for w in getattr(operation, "trainable_weights", [])),
        non_trainable=sum(_size(w.shape) for w in getattr(operation, "non_trainable_weights", [])),
        weights=weights,
        comment=comment,
    )


def _own_weights(operation: Any) -> dict[str, np.ndarray]:
    return {str(v.path).rsplit("/", 1)[-1]: np.asarray(v.numpy()) for v in operation.weights}


def _check_defaults(flattener: _Flattener, operation: Any, config: dict[str, Any],
                    arguments: dict[str, Any], also_read: Sequence[str]) -> None:
    """Every config key the spec does not carry must hold Keras's default for it."""
    defaults = _default_config(operation, config)
    for key, value in config.items():
        if key in arguments or key in _IGNORED_CONFIG or key in also_read:
            continue
        if key in defaults and defaults[key] == value:
            continue
        raise flattener.refuse(operation, f"argument `{key}`={_show_config(value)} is not "
                               "supported by specc (it needs Keras's default, "
                               f"{_show_config(defaults.get(key))})")


def _show_config(value: Any) -> str:
    """A config value as Keras's constructor call, `L2(l2=0.01)`, where it is a serialised
    object (an initializer, regularizer, constraint); repr otherwise."""
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        arguments = value.get("config") if isinstance(value.get("config"), dict) else {}
        shown = ", ".join(f"{key}={item!r}" for key, item in arguments.items())
        return f"{value['class_name']}({shown})"
    return repr(value)


def _default_config(operation: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Keras's defaults for this layer class, made with the arguments it requires (those have
    no default: AveragePooling2D's pool_size) taken from this layer's own config, so a
    required argument always equals itself and never another layer's value."""
    kind = type(operation)
    required = {
        name: config[name]
        for name, parameter in inspect.signature(kind.__init__).parameters.items()
        if name != "self" and parameter.default is inspect.Parameter.empty
        and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
        and name in config
    }
    key = (kind, repr(sorted(required.items())))
    if key not in _DEFAULT_CONFIGS:
        _DEFAULT_CONFIGS[key] = kind(**required).get_config()
    return _DEFAULT_CONFIGS[key]


# --- Keras operations between layers: `x + y`, `x * 0.5`, `x + 3` ---

_MERGES = {"Add": "Add", "Subtract": "Subtract", "Multiply": "Multiply"}
_SYMBOLS = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "/", "TrueDivide": "/"}


def _operation(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    from keras.src.backend.common.keras_tensor import KerasTensor

    kind = type(operation).__name__
    arguments = list(node.arguments.args)
    if kind not in _SYMBOLS or len(arguments) != 2 or node.arguments.kwargs:
        raise flattener.refuse(operation, f"the Keras operation {kind} has no equivalent in "
                               "specc's layers (supported: +, -, * and / between tensors or "
                               "with a constant)")
    tensors = [isinstance(argument, KerasTensor) for argument in arguments]
    name = flattener.unique_name(operation.name)
    symbol = _SYMBOLS[kind]
    if all(tensors):
        if kind not in _MERGES:
            raise flattener.refuse(operation, "dividing one tensor by another has no equivalent "
                                   "in specc's layers")
        entry = {"name": name, "type": _MERGES[kind], "inputs": inputs}
        return [_spec_layer(entry, node, None, {}, f"translated from the Keras operation "
                            f"`a {symbol} b`")]
    constant = _constant(arguments[1 - tensors.index(True)])
    if constant is None:
        raise flattener.refuse(operation, "its constant operand is not a scalar or one value "
                               "per channel")
    tensor_first = tensors[0]
    if symbol == "/" and tensor_first and 0.0 in (constant if isinstance(constant, list)
                                                  else [constant]):
        raise flattener.refuse(operation, f"divides by zero (`x / {_show(constant)}`); specc's "
                               "Rescaling takes a finite scale")
    scale, offset = _affine(kind, constant, tensor_first)
    if scale is None:
        raise flattener.refuse(operation, "dividing a constant by a tensor has no equivalent in "
                               "specc's layers")
    entry: dict[str, Any] = {"name": name, "type": "Rescaling", "scale": scale, "inputs": inputs}
    if offset != 0.0:
        entry["offset"] = offset
    shown = _show(constant)
    expression = f"x {symbol} {shown}" if tensor_first else f"{shown} {symbol} x"
    return [_spec_layer(entry, node, None, {}, f"translated from the Keras operation "
                        f"`{expression}`")]


def _constant(value: Any) -> float | list[float] | None:
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 0:
        return float(array)
    if array.ndim == 1 or all(dim == 1 for dim in array.shape[:-1]):
        return [float(item) for item in array.reshape(-1)]
    return None


def _affine(kind: str, constant: Any, tensor_first: bool) -> tuple[Any, Any]:
    """`x op c` (or `c op x`) as `x * scale + offset`; (None, None) when it is not one."""
    negate = (lambda c: [-v for v in c]) if isinstance(constant, list) else (lambda c: -c)
    ones = [1.0] * len(constant) if isinstance(constant, list) else 1.0
    if kind == "Add":
        return 1.0, constant
    if kind == "Subtract":
        return (1.0, negate(constant)) if tensor_first else ((-1.0 if ones == 1.0 else negate(ones)),
                                                             constant)
    if kind == "Multiply":
        return constant, 0.0
    if tensor_first:  # x / c
        inverse = [1.0 / v for v in constant] if isinstance(constant, list) else 1.0 / constant
        return inverse, 0.0
    return None, None


def _show(constant: Any) -> str:
    return repr(constant)


# --- keras.applications' own layers, as standard layers ---


def _layer_scale(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    """ConvNeXt's LayerScale, `x * gamma` with one trainable gamma per channel, is a 1x1
    DepthwiseConv2D without bias: the same multiply and the same weights."""
    gamma = np.asarray(operation.gamma.numpy())
    entry: dict[str, Any] = {"name": flattener.unique_name(operation.name),
                             "type": "DepthwiseConv2D", "kernel_size": 1, "use_bias": False,
                             "depthwise_initializer": {"class_name": "Constant",
                                                       "value": float(operation.init_values)},
                             "inputs": inputs}
    if not operation.trainable:
        entry["trainable"] = False
    return [_spec_layer(entry, node, operation, {"kernel": gamma.reshape(1, 1, -1, 1)},
                        "translated from ConvNeXt's LayerScale (x * gamma): a 1x1 "
                        "DepthwiseConv2D without bias, gamma as its kernel")]


def _custom_scale(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    """InceptionResNetV2's CustomScaleLayer, `inputs[0] + inputs[1] * scale`: a Rescaling of
    the second input, then an Add."""
    from specc.importers.keras import SpecLayer

    if len(inputs) != 2:
        raise flattener.refuse(operation, f"takes {len(inputs)} inputs; expected 2")
    scaled_name = flattener.unique_name(f"{operation.name}_scaled")
    scaled = SpecLayer(
        entry={"name": scaled_name, "type": "Rescaling", "scale": float(operation.scale),
               "inputs": [inputs[1]]},
        shape=_shape(node.input_tensors[1]), trainable=0, non_trainable=0,
        comment=f"with the next layer, translated from InceptionResNetV2's CustomScaleLayer "
                f"(x + r * {operation.scale})",
    )
    entry = {"name": flattener.unique_name(operation.name), "type": "Add",
             "inputs": [inputs[0], scaled_name]}
    return [scaled, _spec_layer(entry, node, operation, {})]


# --- Keras layers that compute exactly what a specc layer with arguments computes ---


def _alias(flattener: _Flattener, operation: Any, node: Any, inputs: list[str],
           arguments: dict[str, Any], read: tuple[str, ...] = ()) -> list[SpecLayer]:
    """The specc layer `arguments` describe; every config key besides those `read` must hold
    Keras's default, as for any other layer."""
    _check_defaults(flattener, operation, _config(flattener, operation), {}, read)
    shown = ", ".join(f"{key}={getattr(operation, key)}" for key in read)
    entry = {"name": flattener.unique_name(operation.name), **arguments, "inputs": inputs}
    return [_spec_layer(entry, node, operation, {},
                        f"translated from Keras's {type(operation).__name__}({shown}): the same "
                        "function")]


def _leaky_relu(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    """LeakyReLU(a): x where x >= 0, a * x below; ReLU(negative_slope=a) is that function."""
    slope = float(operation.negative_slope)
    return _alias(flattener, operation, node, inputs,
                  {"type": "ReLU", "negative_slope": slope}, ("negative_slope",))


def _softmax(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    rank = len(node.input_tensors[0].shape)
    axis = operation.axis
    if axis not in (-1, rank - 1):
        raise flattener.refuse(operation, f"takes the softmax over axis {axis}; specc's softmax "
                               "activation takes it over the last axis only")
    return _alias(flattener, operation, node, inputs,
                  {"type": "Activation", "activation": "softmax"}, ("axis",))


def _elu(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    if float(operation.alpha) != 1.0:
        raise flattener.refuse(operation, f"has alpha={operation.alpha}; specc's elu activation "
                               "is Keras's, with alpha=1.0")
    return _alias(flattener, operation, node, inputs,
                  {"type": "Activation", "activation": "elu"}, ("alpha",))


def _identity(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    return _alias(flattener, operation, node, inputs,
                  {"type": "Activation", "activation": "linear"})


def _spatial_dropout(flattener: _Flattener, operation: Any, node: Any, inputs: list[str]) -> list[SpecLayer]:
    """SpatialDropout2D drops whole channels: Dropout with one draw per sample and channel,
    noise_shape (batch, 1, 1, C), which is how Keras implements it."""
    channels = int(node.input_tensors[0].shape[-1])
    rate = float(operation.rate)
    return _alias(flattener, operation, node, inputs,
                  {"type": "Dropout", "rate": rate, "noise_shape": [None, 1, 1, channels]},
                  ("rate",))


_CUSTOM = {
    ("keras.src.applications.convnext", "LayerScale"): _layer_scale,
    ("keras.src.applications.inception_resnet_v2", "CustomScaleLayer"): _custom_scale,
    ("keras.src.layers.activations.leaky_relu", "LeakyReLU"): _leaky_relu,
    ("keras.src.layers.activations.softmax", "Softmax"): _softmax,
    ("keras.src.layers.activations.elu", "ELU"): _elu,
    ("keras.src.layers.core.identity", "Identity"): _identity,
    ("keras.src.layers.regularization.spatial_dropout", "SpatialDropout2D"): _spatial_dropout,
}


def application_layers() -> dict[str, type]:
    """keras.applications' own layers that specc translates, by class name: a legacy `.h5`
    file names them without their module, so Keras cannot find them unless given them."""
    import importlib

    return {name: getattr(importlib.import_module(module), name)
            for module, name in _CUSTOM if module.startswith("keras.src.applications.")}
