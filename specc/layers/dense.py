"""Dense: a fully connected layer on the last axis."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Literal

from specc.errors import LayerError
from specc.layers.activations import ACTIVATION_FLOPS, ActivationName
from specc.layers.base import Layer, LayerExample, ParamCount, elements
from specc.layers.emit import InitCall, TorchEmit, WeightMap, call, conv_fans
from specc.layers.initializers import Initializer
from specc.layers.registry import register_layer
from specc.spec.types import PositiveInt, Shape, StrictBool

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Dense(Layer):
    type: Literal["Dense"]
    units: PositiveInt
    activation: ActivationName | None = None
    use_bias: StrictBool = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"

    keras_positional: ClassVar[tuple[str, ...]] = ("units",)

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        (shape,) = input_shapes
        if not shape:
            raise LayerError("expects an input with a feature axis; received a scalar per example")
        return (*shape[:-1], self.units)

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """units from the output, use_bias from the count; activation not shown, so none."""
        from specc.layers.readings import Reading

        if row.output_shape:
            yield Reading({"units": row.output_shape[-1]})
            yield Reading({"units": row.output_shape[-1], "use_bias": False})

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        features = input_shapes[0][-1]
        bias = self.units if self.use_bias else 0
        formula = f"({features} + 1)*{self.units}" if self.use_bias else f"{features}*{self.units}"
        return ParamCount(trainable=features * self.units + bias, formula=formula)

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        per_output = 2 * input_shapes[0][-1] + int(self.use_bias)
        return elements(output_shape) * (per_output + ACTIVATION_FLOPS[self.activation or "linear"])

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        (shape,) = info.input_shapes
        features = shape[-1]
        # On an NCHW image Keras's last axis is torch's dim 1: a Linear over channels.
        linear = "ChannelsLastLinear" if len(shape) == 3 else "nn.Linear"
        arguments = {} if self.use_bias else {"bias": False}
        init = [InitCall("weight", self.kernel_initializer, *conv_fans((features, self.units)))]
        weights = [WeightMap("kernel", "weight", "dense")]
        if self.use_bias:
            init.append(InitCall("bias", self.bias_initializer, *conv_fans((self.units,))))
            weights.append(WeightMap("bias", "bias"))
        return TorchEmit(
            call(linear, features, self.units, **arguments),
            activation=self.activation,
            init=tuple(init),
            weights=tuple(weights),
        )

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({"units": 5}, input_shape=(12,)),
            LayerExample({"units": 4, "activation": "softmax", "use_bias": False}, input_shape=(6,)),
            LayerExample({"units": 3, "activation": "relu"}, input_shape=(4, 4, 6)),
            LayerExample({"units": 3, "kernel_initializer": "lecun_uniform"}, input_shape=(5, 6)),
            LayerExample({"units": 3, "kernel_initializer": {
                "class_name": "VarianceScaling", "scale": 0.333, "mode": "fan_out",
                "distribution": "uniform"}, "bias_initializer": {"class_name": "Constant",
                                                                 "value": 0.5}}, input_shape=(6,)),
        )
