"""The base every layer type builds on: its spec fields and its inference rules.

A layer type is one module in ``specc/layers/`` holding one subclass of :class:`Layer`:
its Keras arguments (with Keras's names and defaults) as pydantic fields, and the pure
rules that give its output shape, parameter counts and FLOPs. No framework is imported
on this path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, Field

from specc.errors import LayerError
from specc.layers.emit import Code, TorchEmit, UnsupportedByBackend, call, ident
from specc.spec.types import Count, Identifier, IntPair, Shape, StrictBool, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@dataclass(frozen=True)
class LayerExample:
    """A small configuration of a layer type, used by the tests of every backend.

    `config` holds the layer's hyper-parameters; `feeders` are layers (full spec dicts) placed
    between the input and the layer under test, which then takes all of them as `inputs`.
    """

    config: dict[str, Any]
    input_shape: tuple[int, ...] = (7, 7, 3)
    feeders: tuple[dict[str, Any], ...] = ()


class LayerExpect(BaseModel):
    """What the author expects a layer to produce; checked by `specc validate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: tuple[StrictInt | None, ...] | None = Field(
        default=None, description="Output shape without the batch dimension, e.g. [32, 32, 96]."
    )
    params: Count | None = Field(default=None, description="Total parameter count.")
    trainable: Count | None = None
    non_trainable: Count | None = None


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts with the arithmetic behind them, e.g. ``(11*11*3 + 1)*96``."""

    trainable: int = 0
    non_trainable: int = 0
    formula: str = "0"

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


NO_PARAMS = ParamCount()


class Layer(BaseModel):
    """One named node of the model graph."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Subclasses narrow `type` to a Literal naming the Keras class, e.g. Literal["Conv2D"].
    type: str
    name: Identifier = Field(description="Unique layer name; becomes the Keras and PyTorch name.")
    inputs: tuple[Identifier, ...] | None = Field(
        default=None,
        description="Names of the layers feeding this one; default: the previous layer "
        "(or the model input for the first layer).",
    )
    expect: LayerExpect | None = None
    trainable: StrictBool = Field(
        default=True,
        description="false freezes the layer: its weights count as non-trainable, training "
        "leaves them unchanged, and a BatchNormalization runs in inference mode (as in Keras 3).",
    )

    # How many inputs the layer takes: 1 for most, None for merge layers taking any number.
    arity: ClassVar[int | None] = 1
    # Whether the order of its inputs makes no difference to what it computes (Add, Maximum).
    commutative: ClassVar[bool] = False

    @classmethod
    def type_name(cls) -> str:
        (name,) = get_args(cls.model_fields["type"].annotation)
        return name

    def hyper_parameters(self) -> dict[str, Any]:
        """The Keras arguments of this layer (everything but graph wiring and expectations);
        an initializer with arguments as `{class_name, ...}` with its non-default ones."""
        values = self.model_dump(exclude={"type", "name", "inputs", "expect"})
        for name in values:
            value = getattr(self, name)
            if isinstance(value, BaseModel) and hasattr(value, "keras_arguments"):
                values[name] = {"class_name": value.class_name, **value.keras_arguments()}
        return values

    # --- inference rules: pure functions of the input shapes (batch dimension left out) ---

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        raise NotImplementedError(f"{type(self).__name__} must define output_shape")

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        return NO_PARAMS

    def counted_params(self, input_shapes: Sequence[Shape]) -> ParamCount:
        """`param_count`, with every weight non-trainable when the layer is frozen."""
        params = self.param_count(input_shapes)
        if self.trainable:
            return params
        return ParamCount(non_trainable=params.total, formula=params.formula)

    # Keras 3 runs a frozen layer of this type in inference mode (BatchNormalization).
    frozen_runs_in_inference: ClassVar[bool] = False

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        """Floating-point operations for one example; a multiply-add counts as 2."""
        return 0

    def training_problem(self, input_shapes: Sequence[Shape], batch_size: int) -> str | None:
        """Why this layer cannot train on batches of `batch_size` examples (None: it can)."""
        return None

    # --- code generation: one place per layer type (specc/backends assemble the files) ---

    # Keras arguments written positionally, in this order (e.g. Conv2D's filters, kernel_size).
    keras_positional: ClassVar[tuple[str, ...]] = ()

    def keras_layer(self) -> str:
        """The Keras constructor: `layers.Conv2D(96, 11, padding='same', name='conv2d_1')`.

        Keras's argument names; only arguments that differ from Keras's defaults.
        """
        values = self.hyper_parameters()
        positional = [values.pop(argument) for argument in self.keras_positional]
        keywords = {
            argument: _keras_value(value)
            for argument, value in values.items()
            if not _is_default(value, type(self).model_fields[argument].default)
        }
        return call(f"layers.{ident(self.type)}", *positional, **keywords, name=self.name)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        """This layer's PyTorch form, given its inferred input and output shapes."""
        raise UnsupportedByBackend(f"no PyTorch form is defined for {self.type}")

    # --- import: reading a Keras layer's get_config() ---

    # Keras config keys this type reads beyond its spec fields (e.g. BatchNormalization's axis).
    keras_config_read: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_keras_config(
        cls, config: dict[str, Any], input_shapes: Sequence[Shape]
    ) -> dict[str, Any]:
        """This type's spec arguments from a Keras layer's `get_config()`.

        The importer checks that every other key holds Keras's default, so an argument specc
        does not model (a regularizer, channels_first) is refused rather than dropped.
        """
        from specc.layers.initializers import initializer_from_keras

        arguments = {}
        for name, field in cls.model_fields.items():
            if name not in config or name in ("type", "name", "inputs", "expect", "trainable"):
                continue
            value = _plain_value(config[name])
            if name.endswith("_initializer"):
                value = initializer_from_keras(name, value)
            elif name == "activation" and isinstance(value, dict):
                value = activation_name(value)
            elif name == "activation" and value == "linear" and field.default is None:
                value = None  # Keras writes its default, no activation, as "linear"
            elif _takes_floats_only(field.annotation):
                value = _as_floats(value)
            elif field.annotation == IntPair and isinstance(value, list) and len(set(value)) == 1:
                value = value[0]  # kernel_size: 3, as people write it
            if not _is_default(value, field.default):
                arguments[name] = value
        return arguments

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        """Small configurations covering each variant; every backend is tested on them."""
        return ()

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterable[Reading]:
        """Configurations that may have printed `row` in a Keras summary, most common first
        (see specc/layers/readings.py); the importer keeps those this type's own rules
        confirm. The default: Keras's defaults, for types without hyper-parameters."""
        from specc.layers.readings import Reading

        return (Reading({}),)

    # --- helpers for subclasses ---

    @staticmethod
    def single_input(input_shapes: Sequence[Shape], rank: int | None = None) -> Shape:
        """The one input shape, checked against the rank the layer needs (batch excluded)."""
        (shape,) = input_shapes
        if rank is not None and len(shape) != rank:
            raise LayerError(
                f"expects an input of rank {rank + 1} (batch, {_axes(rank)}); "
                f"received an input of shape {format_shape(shape)}"
            )
        return shape


def _axes(rank: int) -> str:
    return {1: "features", 2: "steps, features", 3: "height, width, channels"}.get(
        rank, f"{rank} axes"
    )


def format_shape(shape: Sequence[int | None]) -> str:
    """Keras's notation: (None, 32, 32, 96) with the batch dimension shown as None."""
    return "(" + ", ".join(["None", *(str(d) for d in shape)]) + ")"


def elements(shape: Iterable[int]) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


def activation_name(value: Any) -> str:
    """The name of a serialised activation: a string, or a function Keras did not find among
    its own by name, {class_name: function, config: swish} (tf.nn.silu); the importer checks
    that the layer's function computes what the name does."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("class_name") == "function" and isinstance(
        value.get("config"), str
    ):
        return value["config"]
    raise ValueError(f"argument `activation` is a {value.get('class_name')} object; specc "
                     "reads an activation given by its name (e.g. activation='relu')")


def _plain_value(value: Any) -> Any:
    """numpy scalars and arrays in a Keras config as Python numbers and lists, also as Keras
    serialises an array argument (Rescaling's scale): {class_name: __numpy__, config: ...}."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return _plain_value((value.get("config") or {}).get("value"))
    if isinstance(value, list | tuple):
        return [_plain_value(item) for item in value]
    return value


def _takes_floats_only(annotation: Any) -> bool:
    text = repr(annotation)
    return "float" in text and "int" not in text.replace("inf_nan", "")


def _as_floats(value: Any) -> Any:
    """Keras accepts `offset=-1` where the spec language asks for a float: -1.0."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [_as_floats(item) for item in value]
    return value


def _keras_value(value: object) -> object:
    """An initializer with arguments as Keras's constructor; anything else as it is."""
    if isinstance(value, dict) and "class_name" in value:
        arguments = {key: item for key, item in value.items() if key != "class_name"}
        return Code(call(f"keras.initializers.{ident(value['class_name'])}", **arguments))
    return value


def _is_default(value: object, default: object) -> bool:
    """Equal to Keras's default, also when an int stands for a square pair: 1 == (1, 1)."""
    if value == default:
        return True
    return isinstance(value, int) and isinstance(default, tuple) and default == (value, value)
