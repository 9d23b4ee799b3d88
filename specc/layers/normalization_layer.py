"""Normalization: `(x - mean) / sqrt(variance)` over the kept `axis`, or its inverse.

With `mean` and `variance` given, Keras holds them as constants (0 parameters). Without,
it holds the state `adapt()` fills: mean and variance over the kept axes and a count, all
non-trainable weights (2*C + 1 for one axis of C), which an import carries with its values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from specc.errors import LayerError
from specc.layers.base import Layer, LayerExample, ParamCount, elements
from specc.layers.emit import TorchEmit, WeightMap, call
from specc.layers.registry import register_layer
from specc.layers.rescaling import ScalarOrChannels
from specc.spec.types import Shape, StrictBool, StrictInt

if TYPE_CHECKING:
    from specc.graph import LayerInfo
    from specc.layers.readings import PrintedRow, Reading


@register_layer
class Normalization(Layer):
    type: Literal["Normalization"]
    axis: StrictInt | tuple[StrictInt, ...] | None = -1
    mean: ScalarOrChannels | None = None
    variance: ScalarOrChannels | None = None
    invert: StrictBool = False

    @model_validator(mode="after")
    def _mean_and_variance_together(self) -> Normalization:
        if (self.mean is None) != (self.variance is None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={self.mean} and variance={self.variance}"
            )
        if isinstance(self.mean, tuple) != isinstance(self.variance, tuple) or (
            isinstance(self.mean, tuple) and len(self.mean) != len(self.variance)  # type: ignore[arg-type]
        ):
            raise ValueError("When setting values directly, `mean` and `variance` must have the "
                             f"same shape. Received: mean={self.mean} and variance={self.variance}")
        return self

    @classmethod
    def summary_readings(cls, row: PrintedRow) -> Iterator[Reading]:
        """0 parameters: `mean` and `variance` were given, and a summary shows neither their
        values nor the axis (stated guesses: 0 and 1 over the last axis). Otherwise the count
        2*S + 1 gives the size S of the kept axes: the last axis first, then any axes whose
        sizes multiply to S (none, `axis: null`, for S = 1). `invert` is never shown."""
        from specc.layers.readings import UNSHOWN, Reading

        shape = row.input_shapes[0] if row.input_shapes else ()
        if row.params == 0:
            yield Reading({"mean": 0.0, "variance": 1.0},
                          {"mean": UNSHOWN, "variance": UNSHOWN, "axis": UNSHOWN,
                           "invert": UNSHOWN})
            return
        if row.params % 2 == 0:
            return
        size = (row.params - 1) // 2
        axes = range(1, len(shape) + 1)
        for count in (1, *range(2, len(shape) + 1), 0):
            for kept in combinations(reversed(axes) if count == 1 else axes, count):
                if elements(tuple(shape[a - 1] for a in kept)) != size:
                    continue
                axis: object = (None if not kept else -1 if kept == (len(shape),) else
                                kept[0] if count == 1 else kept)
                yield Reading({} if axis == -1 else {"axis": axis}, {"invert": UNSHOWN})

    def kept_axes(self, rank: int) -> tuple[int, ...]:
        """The kept axes in Keras's numbering with the batch axis (1 .. rank), sorted."""
        axes = () if self.axis is None else (self.axis,) if isinstance(self.axis, int) else self.axis
        ndim = rank + 1
        if any(not -ndim <= a < ndim for a in axes) or any(a % ndim == 0 for a in axes):
            raise LayerError(
                f"All `axis` values must be in the range [-{ndim}, {ndim}) and not the batch "
                f"axis 0. Received inputs with ndim={ndim}, while axis={self.axis}",
                field="axis",
            )
        return tuple(sorted({a % ndim for a in axes}))

    def state_shape(self, shape: Shape) -> Shape:
        """The shape of the adapted mean and variance: the input's kept axes."""
        return tuple(shape[a - 1] for a in self.kept_axes(len(shape)))

    def broadcast_shape(self, shape: Shape) -> Shape:
        """Keras's broadcast shape of mean and variance, batch axis included (as 1)."""
        kept = self.kept_axes(len(shape))
        if self.mean is None:  # the adapted state spans the kept axes
            return (1, *(shape[a - 1] if a in kept else 1 for a in range(1, len(shape) + 1)))
        if not isinstance(self.mean, tuple):
            return (1,) * (len(shape) + 1)
        # Given values align with the last kept axis.
        if not kept:
            raise LayerError("The rank of `mean` must be less than or equal to the number of "
                             f"axes (0). Received: mean shape ({len(self.mean)},)", field="mean")
        if len(self.mean) not in (1, shape[kept[-1] - 1]):
            raise LayerError(
                f"Invalid value for argument `mean`. Expected a scalar or {shape[kept[-1] - 1]} "
                f"values (axis {kept[-1]}). Received {len(self.mean)} values",
                field="mean",
            )
        return (1, *(len(self.mean) if a == kept[-1] else 1 for a in range(1, len(shape) + 1)))

    def output_shape(self, input_shapes: Sequence[Shape]) -> Shape:
        shape = self.single_input(input_shapes)
        self.broadcast_shape(shape)
        return shape

    def param_count(self, input_shapes: Sequence[Shape]) -> ParamCount:
        if self.mean is not None:
            return ParamCount(formula="0")
        size = elements(self.state_shape(input_shapes[0]))
        # mean, variance and count (a scalar) are non-trainable weights.
        return ParamCount(non_trainable=2 * size + 1, formula=f"2*{size} + 1")

    def flops(self, input_shapes: Sequence[Shape], output_shape: Shape) -> int:
        return 2 * elements(output_shape)

    def torch_emit(self, info: LayerInfo) -> TorchEmit:
        shape = info.input_shapes[0]
        arguments: dict[str, object] = {"shape": self.broadcast_shape(shape)}
        weights: tuple[WeightMap, ...] = ()
        if self.mean is not None:
            arguments |= {"mean": self.mean, "variance": self.variance}
        else:
            arguments["state_shape"] = self.state_shape(shape)
            weights = (WeightMap("mean", "mean"), WeightMap("variance", "variance"),
                       WeightMap("count", "count"))
        if self.invert:
            arguments["invert"] = True
        return TorchEmit(call("Normalization", **arguments),
                         helpers=("keras_constant", "Normalization"), weights=weights)

    @classmethod
    def examples(cls) -> tuple[LayerExample, ...]:
        return (
            LayerExample({}),
            LayerExample({"mean": 0.5, "variance": 4.0}),
            LayerExample({"mean": (0.485, 0.456, 0.406), "variance": (0.052, 0.05, 0.051)}),
            LayerExample({"mean": (0.4, 0.5, 0.6), "variance": (0.2, 0.3, 0.4), "invert": True}),
            LayerExample({"axis": (1, 2)}, input_shape=(3, 4, 2)),
            LayerExample({"axis": None}, input_shape=(5,)),
            LayerExample({"axis": 1}, input_shape=(4, 3)),
        )
