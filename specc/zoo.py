"""The keras.applications zoo as specc's test suite: import each reference network, build its
PyTorch port through the gate, load the imported weights and compare with the original.

`run_zoo_model` does one model in this process: construct it (weights=None, default input
shape; MobileNetV3 at 224x224), give it random biases and BatchNorm statistics (so the
comparison covers every array), import it, check every per-layer figure and total with
specc's inference, build and gate the PyTorch model, load the weights and compare both
models on one seeded batch in float32, inference mode, at two points: the output and the
last layer's input. The second matters because a classifier's softmax can saturate to the
same one-hot vector in both frameworks, hiding any difference before it.
"""

from __future__ import annotations

import tempfile
import time
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


@dataclass(frozen=True)
class ZooResult:
    model: str
    layers: int
    params: int
    expectations_met: bool
    import_s: float
    build_s: float
    max_rel: float

    @property
    def passed(self) -> bool:
        return self.expectations_met and self.max_rel <= TOLERANCE


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
    randomise_keras_weights(original, seed)

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
    batch = np.random.default_rng(seed).uniform(0.0, 255.0, (1, *shape)).astype(np.float32)
    last_layer = loaded.spec.layers[-1].name
    expected = _keras_output_and_last_input(original, batch)
    actual = _torch_output_and_last_input(ported, last_layer, batch)
    max_rel = max(_relative_difference(a, e) for a, e in zip(actual, expected, strict=True))
    return ZooResult(name, len(loaded.spec.layers), loaded.info.total_params, met, import_s,
                     build_s, max_rel)


def _keras_output_and_last_input(model: Any, batch: np.ndarray) -> tuple[np.ndarray, ...]:
    import keras

    both = keras.Model(model.inputs, [model.outputs[0], model.layers[-1].input])
    return tuple(np.asarray(x, dtype=np.float64) for x in both(batch, training=False))


def _torch_output_and_last_input(model: Any, last_layer: str,
                                 batch: np.ndarray) -> tuple[np.ndarray, ...]:
    """The output, and what the module of the spec's last layer receives (channels last)."""
    import torch

    captured: list[torch.Tensor] = []
    module = dict(model.named_modules())[last_layer]
    hook = module.register_forward_pre_hook(lambda _, inputs: captured.append(inputs[0]))
    try:
        with torch.no_grad():
            output = model(torch.from_numpy(batch.transpose(0, 3, 1, 2).copy()))
    finally:
        hook.remove()
    (last_input,) = captured
    if last_input.dim() == 4:
        last_input = last_input.permute(0, 2, 3, 1)
    return tuple(x.double().numpy() for x in (output, last_input))


def _relative_difference(actual: np.ndarray, expected: np.ndarray) -> float:
    difference = float(np.max(np.abs(actual - expected)))
    return difference / max(float(np.max(np.abs(expected))), 1e-6)


def table(results: list[ZooResult]) -> str:
    header = ("| model | layers | parameters | import + validate | PyTorch build + gate | "
              "worst relative difference |")
    rows = [header, "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for result in results:
        verdict = "" if result.passed else " (FAILS)"
        rows.append(f"| {result.model} | {result.layers} | {result.params:,} | "
                    f"{result.import_s:.1f} s | {result.build_s:.1f} s | "
                    f"{result.max_rel:.1e}{verdict} |")
    return "\n".join(rows)
