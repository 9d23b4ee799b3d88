"""The Keras baseline of benchmarks/time_to_accuracy.py: `model.fit` on a `tf.data` pipeline.

`from_tensor_slices` over the decoded uint8 arrays, `shuffle` over the whole training set,
`map` (zero padding, `random_crop`, `random_flip_left_right`, normalisation, one-hot labels)
with `num_parallel_calls=AUTOTUNE`, `batch` (the last partial batch dropped, as specc does)
and `prefetch`; the generated Keras model up to its logits, `keras.optimizers.SGD` with
Nesterov momentum and a `LearningRateSchedule` that returns specc's schedule step by step,
`CategoricalCrossentropy(from_logits=True, label_smoothing=...)`, `model.fit` with the test
set as `validation_data` (evaluated after every epoch), Keras's defaults otherwise (float32;
`jit_compile="auto"`, which Keras resolves to no XLA on a CPU-only machine).

Weight decay: torch.optim.SGD's `weight_decay` (and specc's Keras engine) add wd x w to each
kernel's gradient before the momentum. Keras's own `SGD(weight_decay=...)` is different: it
is decoupled (w -= lr x wd x w outside the momentum), about 1 / (1 - momentum) = 10x weaker
at momentum 0.9. So this baseline instead puts an L2 penalty of wd / 2 x sum(w^2) on the
same variables (each kernel's `regularizer`, the Keras idiom for L2), whose gradient is
exactly wd x w: the same update in exact arithmetic. The only visible difference is that
`model.fit`'s training and validation loss include the penalty (accuracy does not).
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from specc.backends.quiet_keras import quiet_tensorflow

quiet_tensorflow()

import keras
import numpy as np
import tensorflow as tf
from tta_common import Setup, epoch_row, print_epoch

from specc.backends.gate import build_checked
from specc.train.engine_keras import logits_model
from specc.train.schedule import Schedule
from specc.train.session import seed_everything

NAME = "keras-fit"


class SpeccRate(keras.optimizers.schedules.LearningRateSchedule):
    """specc's schedule as a Keras schedule: schedule.lr(step) for every step of the run, looked
    up at the optimizer's step count (float32, as specc's Keras engine assigns it)."""

    def __init__(self, rates: list[float]) -> None:
        self.rates = list(rates)
        self.table = tf.constant(self.rates, dtype=tf.float32)

    @classmethod
    def of(cls, schedule: Schedule) -> SpeccRate:
        return cls([schedule.lr(step) for step in range(max(schedule.total_steps, 1))])

    def __call__(self, step: Any) -> Any:
        index = tf.minimum(tf.cast(step, tf.int32), len(self.rates) - 1)
        return tf.gather(self.table, index)

    def get_config(self) -> dict:
        return {"rates": self.rates}


def normaliser(setup: Setup) -> Any:
    mean = tf.constant(setup.mean, tf.float32)
    std = tf.constant(setup.std, tf.float32)
    classes = len(setup.data.classes)

    def normalise(image: Any, label: Any) -> tuple[Any, Any]:
        return (tf.cast(image, tf.float32) / 255.0 - mean) / std, tf.one_hot(label, classes)

    return normalise


def augmenter(setup: Setup) -> Any:
    """Per image: pad with zeros, random crop, random flip, then normalise."""
    height, width, channels = setup.data.image_shape
    padding, flip, normalise = setup.padding, setup.flip, normaliser(setup)

    def augment(image: Any, label: Any) -> tuple[Any, Any]:
        if padding:
            image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
            image = tf.image.random_crop(image, [height, width, channels])
        if flip:
            image = tf.image.random_flip_left_right(image)
        return normalise(image, label)

    return augment


def pipelines(setup: Setup) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    data, autotune = setup.data, tf.data.AUTOTUNE
    train = (tf.data.Dataset.from_tensor_slices((data.x_train, data.y_train))
             .shuffle(len(data.y_train))
             .map(augmenter(setup), num_parallel_calls=autotune)
             .batch(setup.batch_size, drop_remainder=True)
             .prefetch(autotune))
    test = (tf.data.Dataset.from_tensor_slices((data.x_test, data.y_test))
            .map(normaliser(setup), num_parallel_calls=autotune)
            .batch(max(setup.batch_size, 256))
            .prefetch(autotune))
    return train, test


def add_weight_decay(model: Any, setup: Setup) -> None:
    """L2 penalty wd / 2 x sum(w^2) on the variables torch's SGD would decay (see above)."""
    optimizer = setup.recipe.optimizer
    if not optimizer.weight_decay:
        return
    for variable in model.trainable_variables:
        if optimizer.decay_norm_and_bias or len(variable.shape) > 1:
            variable.regularizer = keras.regularizers.L2(optimizer.weight_decay / 2)


def build_model(setup: Setup) -> Any:
    """The generated Keras model, seeded as `specc train --backend keras` seeds it, up to its
    logits, compiled as a user would."""
    seed_everything(setup.recipe.seed, "keras")
    with tempfile.TemporaryDirectory(prefix="specc-tta-") as folder:
        model = logits_model(build_checked(setup.loaded, "keras", Path(folder)).model,
                             setup.logits_layer)
    add_weight_decay(model, setup)
    recipe = setup.recipe
    model.compile(
        optimizer=keras.optimizers.SGD(SpeccRate.of(setup.schedule()),
                                       momentum=recipe.optimizer.momentum,
                                       nesterov=recipe.optimizer.nesterov),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True,
                                                  label_smoothing=recipe.label_smoothing),
        metrics=["accuracy"])
    return model


class EpochClock(keras.callbacks.Callback):
    """Each epoch's training time (to the start of the validation pass) and evaluation time."""

    def __init__(self, images: int) -> None:
        super().__init__()
        self.images = images
        self.rows: list[dict] = []
        self.started = self.train_s = self.eval_s = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_test_begin(self, logs: dict | None = None) -> None:
        now = time.perf_counter()
        self.train_s, self.started = now - self.started, now

    def on_test_end(self, logs: dict | None = None) -> None:
        self.eval_s = time.perf_counter() - self.started

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        accuracy = float((logs or {})["val_accuracy"])
        self.rows.append(epoch_row(epoch + 1, accuracy, self.train_s, self.eval_s))
        print_epoch(NAME, self.rows[-1], self.images)


def run(setup: Setup) -> dict:
    model = build_model(setup)
    train, test = pipelines(setup)
    clock = EpochClock(setup.steps_per_epoch * setup.batch_size)
    # fit's default shuffle=True does not apply to a tf.data.Dataset (it shuffles itself)
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    model.fit(train, epochs=setup.recipe.epochs, validation_data=test, callbacks=[clock],
              verbose=0)
    return {"precision": "fp32", "rows": clock.rows, "images_per_epoch": clock.images,
            "dtype_policy": model.dtype_policy.name, "tensorflow": tf.__version__,
            "keras": keras.__version__, "jit_compile": bool(model.jit_compile),
            "last_lr": float(np.asarray(model.optimizer.learning_rate))}
