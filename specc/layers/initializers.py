"""Keras's initializers: by name (`he_normal`) or with arguments, as Keras serialises them
(`{class_name: VarianceScaling, scale: 2.0, mode: fan_out}`), and their PyTorch form.

Fans follow Keras's `compute_fans` on Keras's weight layout (see `emit.conv_fans`), so a
PyTorch parameter gets the distribution Keras would draw for the same weight.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from specc.layers.activations import InitializerName
from specc.spec.types import FiniteFloat


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def keras_arguments(self) -> dict[str, Any]:
        return self.model_dump(exclude={"class_name"}, exclude_defaults=True)


class VarianceScaling(_Config):
    class_name: Literal["VarianceScaling"]
    scale: FiniteFloat = Field(default=1.0, gt=0.0)
    mode: Literal["fan_in", "fan_out", "fan_avg"] = "fan_in"
    distribution: Literal["truncated_normal", "untruncated_normal", "uniform"] = "truncated_normal"


class TruncatedNormal(_Config):
    class_name: Literal["TruncatedNormal"]
    mean: FiniteFloat = 0.0
    stddev: FiniteFloat = Field(default=0.05, ge=0.0)


class RandomNormal(_Config):
    class_name: Literal["RandomNormal"]
    mean: FiniteFloat = 0.0
    stddev: FiniteFloat = Field(default=0.05, ge=0.0)


class RandomUniform(_Config):
    class_name: Literal["RandomUniform"]
    minval: FiniteFloat = -0.05
    maxval: FiniteFloat = 0.05


class Constant(_Config):
    class_name: Literal["Constant"]
    value: FiniteFloat = 0.0


class Orthogonal(_Config):
    class_name: Literal["Orthogonal"]
    gain: FiniteFloat = 1.0


InitializerConfig = Annotated[
    VarianceScaling | TruncatedNormal | RandomNormal | RandomUniform | Constant | Orthogonal,
    Field(discriminator="class_name"),
]
Initializer = InitializerName | InitializerConfig

CONFIG_TYPES: tuple[type[_Config], ...] = (
    VarianceScaling, TruncatedNormal, RandomNormal, RandomUniform, Constant, Orthogonal,
)


def torch_initializer(
    initializer: InitializerConfig, fan_in: int, fan_out: int
) -> tuple[str, dict[str, Any]]:
    """The PyTorch call (function, keyword arguments) drawing what Keras's initializer draws."""
    if isinstance(initializer, VarianceScaling):
        fan = {"fan_in": fan_in, "fan_out": fan_out,
               "fan_avg": (fan_in + fan_out) / 2.0}[initializer.mode]
        variance = initializer.scale / max(1.0, fan)
        if initializer.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return "nn.init.uniform_", {"a": -limit, "b": limit}
        if initializer.distribution == "untruncated_normal":
            return "nn.init.normal_", {"std": math.sqrt(variance)}
        # Keras's truncated normal: cut at 2 std, rescaled so the result has the std asked for.
        return "truncated_normal_", {"stddev": math.sqrt(variance) / 0.87962566103423978}
    if isinstance(initializer, TruncatedNormal):
        return "truncated_normal_", {"mean": initializer.mean, "stddev": initializer.stddev}
    if isinstance(initializer, RandomNormal):
        return "nn.init.normal_", {"mean": initializer.mean, "std": initializer.stddev}
    if isinstance(initializer, RandomUniform):
        return "nn.init.uniform_", {"a": initializer.minval, "b": initializer.maxval}
    if isinstance(initializer, Constant):
        return "nn.init.constant_", {"val": initializer.value}
    return "nn.init.orthogonal_", {"gain": initializer.gain}


# Keras's initializer classes that have a name in the spec language (their config: a seed).
_NAMED = {
    "GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal",
    "HeUniform": "he_uniform", "HeNormal": "he_normal",
    "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
    "Zeros": "zeros", "Ones": "ones",
}


def initializer_from_keras(argument: str, value: Any) -> Any:
    """The spec's form of a serialised Keras initializer (a seed is dropped: specc seeds runs)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or "class_name" not in value:
        raise ValueError(f"`{argument}`: cannot read the initializer {value!r}")
    class_name = value["class_name"]
    config = dict(value.get("config") or {})
    config.pop("seed", None)
    for axes in ("input_axes", "output_axes"):  # Keras's own fan axes: None is compute_fans
        if config.pop(axes, None) is not None:
            raise ValueError(f"`{argument}`: {class_name} with `{axes}` is not supported by specc")
    if class_name in _NAMED and not config:
        return _NAMED[class_name]
    types = {cls.__name__: cls for cls in CONFIG_TYPES}
    if class_name not in types:
        raise ValueError(f"`{argument}`: the initializer {class_name} is not supported by specc")
    initializer = types[class_name].model_validate({"class_name": class_name, **config})
    return {"class_name": class_name, **initializer.keras_arguments()}  # defaults left out
