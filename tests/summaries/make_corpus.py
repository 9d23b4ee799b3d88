"""Write the corpus of printed summaries the import tests read (run it to regenerate).

    PYTHONPATH=. python tests/summaries/make_corpus.py

Each model below is a real Keras 3 model of the layer types specc supports. For each, the
corpus holds its real `model.summary()` at several widths (Keras 3 layout), the Keras 2
and TF 2.x layouts of the same rows (tests/summary_layouts.py), and `<model>.json`: the
layer-by-layer truth (name, type, output shape, parameter count and the Keras arguments a
summary can show) that the tests compare each import with.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["COLUMNS"] = "240"  # rich crops tables to the terminal; let line_length decide

import keras
import numpy as np
from keras import layers
from summary_layouts import keras2_summary, rows_of_keras_model, tf2_summary

# Arguments a summary can show through shapes and counts, compared after an import.
SHOWN = ("filters", "kernel_size", "strides", "padding", "use_bias", "pool_size", "units",
         "depth_multiplier", "center", "scale", "keepdims", "target_shape")


def sequential_cnn() -> keras.Model:
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(32),
        layers.Activation("relu"),
        layers.Dense(10),
        layers.Activation("softmax"),
    ], name="sequential_cnn")


def residual() -> keras.Model:
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_batch_normalization")(x)
    x = layers.ReLU(name="stem_relu")(x)
    y = layers.DepthwiseConv2D(3, padding="same", name="block_depthwise_convolution")(x)
    y = layers.BatchNormalization(center=False, scale=False, name="block_bn")(y)
    x = layers.Add(name="block_add")([x, y])
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), name="down_pad")(x)
    x = layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, name="down_depthwise")(x)
    z = layers.SeparableConv2D(32, 3, padding="same", name="branch_separable")(x)
    x = layers.Concatenate(name="merge")([x, z])
    x = layers.AveragePooling2D(2, name="pool")(x)
    x = layers.Reshape((4, 4, 64), name="reshape")(x)
    x = layers.GlobalMaxPooling2D(name="global_max")(x)
    x = layers.LayerNormalization(name="head_norm")(x)
    x = layers.Dropout(0.3, name="head_dropout")(x)
    outputs = layers.Dense(10, name="classifier")(x)
    return keras.Model(inputs, outputs, name="residual")


def trained_mlp() -> keras.Model:
    """Compiled and trained one step: Keras 3 adds an `Optimizer params:` line."""
    model = keras.Sequential([
        keras.Input((12,)),
        layers.Dense(16, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(3, use_bias=False),
        layers.Activation("softmax"),
    ], name="trained_mlp")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.train_on_batch(np.zeros((4, 12), "float32"), np.zeros((4,), "int32"))
    return model


def keras3_summary(model: keras.Model, line_length: int | None) -> str:
    printed: list[str] = []
    model.summary(line_length=line_length, print_fn=lambda text, line_break=False: printed.append(text))
    return "".join(printed)


def truth(model: keras.Model) -> dict[str, Any]:
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        config = layer.get_config()
        shown = {key: _plain(config[key]) for key in SHOWN if key in config}
        rows.append({"name": layer.name, "type": type(layer).__name__,
                     "shape": list(layer.output.shape[1:]), "params": layer.count_params(),
                     "config": shown})
    return {"input_shape": list(model.inputs[0].shape[1:]), "layers": rows}


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def main() -> None:
    for build in (sequential_cnn, residual, trained_mlp):
        model = build()
        name = model.name
        (HERE / f"{name}.json").write_text(json.dumps(truth(model), indent=1) + "\n")
        for width in (None, 64, 120):
            suffix = "default" if width is None else f"w{width}"
            (HERE / f"keras3_{name}_{suffix}.txt").write_text(keras3_summary(model, width))
        rows = rows_of_keras_model(model)
        (HERE / f"keras2_{name}.txt").write_text(keras2_summary(rows))
        (HERE / f"tf2_{name}.txt").write_text(tf2_summary(rows))
        if name == "residual":
            (HERE / f"tf2_{name}_w120_sizes.txt").write_text(tf2_summary(rows, 120, sizes=True))


if __name__ == "__main__":
    main()
