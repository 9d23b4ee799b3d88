"""The keras.applications zoo as specc's test suite: import each reference network, build its
PyTorch port through the gate, load the imported weights and compare with the original.

`run_zoo_model` does one model in this process: construct it (weights=None, default input
shape; MobileNetV3 at 224x224), give it random biases and BatchNorm statistics (so the
comparison covers every array), import it, check every per-layer figure and total with
specc's inference, build and gate the PyTorch model, load the weights and compare both
models on one seeded batch, inference mode, at two points: the output and the last layer's
input (a classifier's softmax can saturate to the same one-hot vector in both frameworks,
hiding any difference before it).

The comparison is made twice: in float32, as the models run, and in float64 (a float64
twin of the Keras model with the same weights, and the PyTorch port in double), which
checks the function itself. Some untrained networks are chaotic in float32: Keras's own
EfficientNetV2M output moves by more than 100 % when its input moves by 1e-6, so two
correct implementations, rounding differently, cannot agree to 1e-4 in float32. Each model's
own float32 sensitivity is measured (the relative change of both points under a 1e-6
relative change of the input); where it exceeds the tolerance, float64 alone decides.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Every keras.applications constructor, by family (the families `make test` samples).
FAMILIES: dict[str, tuple[str, ...]] = {
    "VGG": ("VGG16", "VGG19"),
    "ResNet": ("ResNet50", "ResNet101", "ResNet152"),
    "ResNetV2": ("ResNet50V2", "ResNet101V2", "ResNet152V2"),
    "Inception": ("InceptionV3", "InceptionResNetV2"),
    "Xception": ("Xception",),
    "MobileNet": ("MobileNet",),
    "MobileNetV2": ("MobileNetV2",),
    "MobileNetV3": ("MobileNetV3Small", "MobileNetV3Large"),
    "DenseNet": ("DenseNet121", "DenseNet169", "DenseNet201"),
    "NASNet": ("NASNetMobile", "NASNetLarge"),
    "EfficientNet": tuple(f"EfficientNetB{i}" for i in range(8)),
    "EfficientNetV2": ("EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
                       "EfficientNetV2B3", "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"),
    "ConvNeXt": ("ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge",
                 "ConvNeXtXLarge"),
}
ALL_MODELS = tuple(name for names in FAMILIES.values() for name in names)
# One model of each family, the smallest: what `make test` runs.
REPRESENTATIVES = tuple(names[0] for names in FAMILIES.values())
# Constructors whose default input size is variable.
INPUT_SHAPES = {"MobileNetV3Small": (224, 224, 3), "MobileNetV3Large": (224, 224, 3)}
TOLERANCE = 1e-4
# Random offsets and scales 0.2 of parity's default: far above the tolerance when an array is
# left behind or transposed, yet deep networks (EfficientNetB4 and up) stay well-conditioned,
# which the default's spread (scales from 0.5 to 1.5) does not allow them.
SPREAD = 0.2
SENSITIVITY_STEP = 1e-6


@dataclass(frozen=True)
class ZooResult:
    model: str
    layers: int
    params: int
    expectations_met: bool
    import_s: float
    build_s: float
    max_rel: float  # float32, the worse of the output and the last layer's input
    max_rel_float64: float
    sensitivity: float  # Keras's own float32 relative change under a 1e-6 input change

    @property
    def float32_decides(self) -> bool:
        return self.sensitivity <= TOLERANCE

    @property
    def passed(self) -> bool:
        return (self.expectations_met and self.max_rel_float64 <= TOLERANCE
                and (self.max_rel <= TOLERANCE or not self.float32_decides))


def run_zoo_model(name: str, out_dir: Path | None = None, seed: int = 0) -> ZooResult:
    from specc.backends.quiet_keras import quiet_tensorflow

    quiet_tensorflow()
    import keras

    from specc.backends.gate import build_checked
    from specc.backends.parity import randomise_keras_weights
    from specc.backends.weights import load_into_torch
    from specc.expectations import check_expectations
    from specc.importers.keras import import_model_object
    from specc.spec.load import load_spec_text

    keras.utils.set_random_seed(seed)
    original = getattr(keras.applications, name)(weights=None)
    randomise_keras_weights(original, seed, SPREAD)

    started = time.perf_counter()
    imported = import_model_object(original, f"keras.applications:{name}", INPUT_SHAPES.get(name))
    loaded = load_spec_text(imported.text, f"{name}.yaml")
    met = all(check.met for check in check_expectations(loaded))
    import_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="specc-zoo-") as folder:
        started = time.perf_counter()
        ported = build_checked(loaded, "torch", out_dir or Path(folder)).model
        build_s = time.perf_counter() - started
        load_into_torch(ported, loaded, imported.weights, f"{name} weights")
    ported.eval()

    shape = tuple(loaded.spec.input.shape)
    # float32 values, so that both float64 models read exactly the same input: Keras's Input
    # layer keeps `floatx` (float32) under a float64 policy and would round a float64 batch.
    batch = np.random.default_rng(seed).uniform(0.0, 255.0, (1, *shape)).astype(np.float32)
    last_layer = loaded.spec.layers[-1].name
    points = _keras_points(original)
    expected = points(batch)
    nudged = points(batch * np.float32(1 + SENSITIVITY_STEP))
    actual = _torch_points(ported, last_layer, batch)
    expected64 = _keras_points(_float64_twin(name, original))(batch.astype(np.float64))
    actual64 = _torch_points(ported.double(), last_layer, batch.astype(np.float64))
    return ZooResult(name, len(loaded.spec.layers), loaded.info.total_params, met, import_s,
                     build_s, _worst(actual, expected), _worst(actual64, expected64),
                     _worst(nudged, expected))


def _float64_twin(name: str, model: Any) -> Any:
    """The same keras.applications model built under the float64 policy, same weights."""
    import keras

    from specc.backends.convert import finalize_keras_state

    keras.config.set_dtype_policy("float64")
    try:
        twin = getattr(keras.applications, name)(weights=None)
    finally:
        keras.config.set_dtype_policy("float32")
    twin.set_weights(model.get_weights())
    finalize_keras_state(twin)
    return twin


def _keras_points(model: Any) -> Callable[[np.ndarray], tuple[np.ndarray, ...]]:
    """A function of a batch: the model's output and its last layer's input."""
    import keras

    both = keras.Model(model.inputs, [model.outputs[0], model.layers[-1].input])
    return lambda batch: tuple(np.asarray(x, dtype=np.float64)
                               for x in both(batch, training=False))


def _torch_points(model: Any, last_layer: str, batch: np.ndarray) -> tuple[np.ndarray, ...]:
    """The output, and what the module of the spec's last layer receives (channels last)."""
    import torch

    from specc.backends.parity import to_channels_last, to_torch_layout

    captured: list[torch.Tensor] = []
    module = dict(model.named_modules())[last_layer]
    hook = module.register_forward_pre_hook(lambda _, inputs: captured.append(inputs[0]))
    try:
        with torch.no_grad():
            output = model(torch.from_numpy(to_torch_layout(batch)))
    finally:
        hook.remove()
    (last_input,) = captured
    return tuple(to_channels_last(x.double().numpy()) for x in (output, last_input))


def _worst(actual: tuple[np.ndarray, ...], expected: tuple[np.ndarray, ...]) -> float:
    from specc.backends.parity import differences

    return max(differences(e, a)[1] for a, e in zip(actual, expected, strict=True))


def table(results: list[ZooResult]) -> str:
    header = ("| model | layers | parameters | import + validate | PyTorch build + gate | "
              "worst relative difference, float32 | float64 | Keras's own float32 sensitivity |")
    rows = [header, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for result in results:
        verdict = "" if result.passed else " (FAILS)"
        float32 = f"{result.max_rel:.1e}" + ("" if result.float32_decides else " (chaotic)")
        rows.append(f"| {result.model} | {result.layers} | {result.params:,} | "
                    f"{result.import_s:.1f} s | {result.build_s:.1f} s | {float32} | "
                    f"{result.max_rel_float64:.1e}{verdict} | {result.sensitivity:.1e} |")
    return "\n".join(rows)
