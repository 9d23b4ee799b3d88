"""Training a generated Keras model with the same recipe as the PyTorch engine.

Same per-epoch plan (permutation, crop offsets, flips drawn from (seed, epoch)), same
step-indexed schedule, SGD with Nesterov momentum and weight decay added to the gradients
of kernels (as torch.optim.SGD does), label-smoothed cross-entropy on the logits (a model
that stops before the final softmax layer), same run folder. bf16 and fp16 are Keras's
mixed precision (float32 variables; BatchNormalization computes in float32), fp16 with
dynamic loss scaling.
"""

from __future__ import annotations

import io
import json
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from specc.backends.quiet_keras import quiet_tensorflow
from specc.errors import SpeccError
from specc.files import strict_json
from specc.train.bounded import read_npz, shape_is
from specc.train.checkpoint import (
    check_checkpoint_matches,
    check_keras_extras,
    check_meta,
    max_checkpoint_bytes,
    normalization_of,
    read_checkpoint,
    write_checkpoint,
)
from specc.train.common import (
    CHECKPOINT_FORMAT,
    DivergedError,
    EngineContext,
    EpochLoop,
    Precision,
    device_peak_flops,
    python_rng_state,
    restore_python_rng,
)
from specc.train.epoch_plan import draw_epoch_plan
from specc.train.results import EvalResult, confusion_from_predictions
from specc.train.schedule import Schedule

EpochPlan = tuple[np.ndarray, np.ndarray, np.ndarray]

DTYPE_POLICIES: dict[Precision, str] = {
    "fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


def resolve_precision(requested: Precision | None, device: str) -> Precision:
    """As in the PyTorch engine: bf16 by default on a GPU that has it (compute capability
    8.0 or newer), else fp32."""
    if requested is not None:
        return requested
    if device == "cpu":
        return "fp32"
    quiet_tensorflow()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        if capability is not None and tuple(capability) >= (8, 0):
            return "bf16"
    return "fp32"


def precision_of(model: Any) -> Precision:
    """The precision a Keras model computes in, read from the dtype policy it was built under."""
    for precision, policy in DTYPE_POLICIES.items():
        if model.dtype_policy.name == policy:
            return precision
    raise SpeccError(f"the Keras model's dtype policy {model.dtype_policy.name!r} is none of "
                     f"{sorted(DTYPE_POLICIES.values())}")


@contextmanager
def precision_policy(precision: Precision) -> Iterator[None]:
    """Layers built inside compute in `precision` with float32 variables; the process-wide
    dtype policy is restored afterwards."""
    quiet_tensorflow()
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(DTYPE_POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def plan_epoch(count: int, height: int, width: int, padding: int, flip: bool, seed: int,
               epoch: int) -> EpochPlan:
    """(order, rows, cols): the plan both engines draw from (seed, epoch)."""
    plan = draw_epoch_plan(count, height, width, padding, flip, seed, epoch)
    return plan.order, plan.rows, plan.cols


def augmented_batch(images: np.ndarray, plan: EpochPlan, start: int, stop: int,
                    padding: int) -> tuple[np.ndarray, np.ndarray]:
    order, rows, cols = plan
    index = order[start:stop]
    batch = images[index]
    if padding:
        batch = np.pad(batch, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    which = np.arange(stop - start)[:, None, None]
    return batch[which, rows[start:stop][:, :, None], cols[start:stop][:, None, :]], index


def normalise(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((images.astype(np.float32) / 255.0 - mean) / std).astype(np.float32)


def logits_model(model: Any, logits_layer: str | None) -> Any:
    import keras

    if logits_layer is None:
        return model
    return keras.Model(model.input, model.get_layer(logits_layer).input)


def evaluate_arrays(logits_fn: Any, images: np.ndarray, labels: np.ndarray, mean: np.ndarray,
                    std: np.ndarray, batch_size: int, classes: tuple[str, ...]) -> EvalResult:
    loss_sum = 0.0
    predictions = []
    for start in range(0, len(labels), batch_size):
        x = normalise(images[start : start + batch_size], mean, std)
        logits = np.asarray(logits_fn(x), dtype=np.float64)
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        y = labels[start : start + batch_size]
        loss_sum -= log_probs[np.arange(len(y)), y].sum()
        predictions.append(logits.argmax(axis=1))
    matrix = confusion_from_predictions(labels, np.concatenate(predictions), len(classes))
    total = max(len(labels), 1)
    return EvalResult(loss_sum / total, float(np.trace(matrix)) / total, matrix, classes)


class KerasTrainer(EpochLoop[EpochPlan]):
    def __init__(self, ctx: EngineContext, model: Any, logits_layer: str | None) -> None:
        import keras
        import tensorflow as tf

        self.precision = precision_of(model)
        if ctx.options.device == "cuda" and not tf.config.list_physical_devices("GPU"):
            raise SpeccError("--device cuda: TensorFlow sees no GPU")
        self.ctx, self.tf, self.keras = ctx, tf, keras
        recipe = ctx.recipe
        self.model = model
        self.logits = logits_model(model, logits_layer)
        self.batch_size = min(recipe.batch_size, len(ctx.data.y_train))
        self.steps_per_epoch = len(ctx.data.y_train) // self.batch_size
        self.schedule = Schedule(recipe.schedule, recipe.lr, recipe.epochs * self.steps_per_epoch,
                                 self.steps_per_epoch)
        self.inner_optimizer = self._make_optimizer()
        self.optimizer = (keras.optimizers.LossScaleOptimizer(self.inner_optimizer)
                          if self.precision == "fp16" else self.inner_optimizer)
        self.variables = self.logits.trainable_variables
        self.optimizer.build(self.variables)
        decay = recipe.optimizer.weight_decay if recipe.optimizer.name != "adamw" else 0.0
        self.decays = [decay if (recipe.optimizer.decay_norm_and_bias or len(v.shape) > 1) else 0.0
                       for v in self.variables]
        self.loss_fn = keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=recipe.label_smoothing)
        self.classes = len(ctx.data.classes)
        self.loss_sum = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        self.correct = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.first_bad_step = tf.Variable(-1, dtype=tf.int64, trainable=False)
        self.bad_value = tf.Variable(0.0, dtype=tf.float32, trainable=False)
        # --compile: XLA, Keras's counterpart of torch.compile (model.fit's jit_compile)
        self._train_step = tf.function(self._step_graph, reduce_retracing=True,
                                       jit_compile=ctx.options.compile)
        self._predict = tf.function(
            lambda x: tf.cast(self.logits(x, training=False), tf.float32), reduce_retracing=True)
        gpus = tf.config.list_physical_devices("GPU")
        self.device_name = gpus[0].name if gpus else platform.processor() or platform.machine()
        self.peak, self.peak_source = device_peak_flops(
            "cuda" if gpus else "cpu", self.device_name, self.precision, ctx.options.peak_tflops)
        self.epoch = 0
        self.last_row = None
        self.step_in_epoch = 0
        self.global_step = 0

    def _make_optimizer(self) -> Any:
        recipe = self.ctx.recipe
        optimizers = self.keras.optimizers
        if recipe.optimizer.name == "sgd":
            return optimizers.SGD(learning_rate=recipe.lr, momentum=recipe.optimizer.momentum,
                                  nesterov=recipe.optimizer.nesterov)
        if recipe.optimizer.name == "adam":
            return optimizers.Adam(learning_rate=recipe.lr)
        optimizer = optimizers.AdamW(learning_rate=recipe.lr,
                                     weight_decay=recipe.optimizer.weight_decay)
        if not recipe.optimizer.decay_norm_and_bias:
            optimizer.exclude_from_weight_decay(
                var_list=[v for v in self.logits.trainable_variables if len(v.shape) <= 1])
        return optimizer

    def _step_graph(self, x: Any, labels: Any, step: Any) -> None:
        tf = self.tf
        with tf.GradientTape() as tape:
            logits = tf.cast(self.logits(x, training=True), tf.float32)
            loss = self.loss_fn(tf.one_hot(labels, self.classes), logits)
            scaled_loss = self.optimizer.scale_loss(loss)  # fp16: times the dynamic loss scale
        grads = tape.gradient(scaled_loss, self.variables)
        # Weight decay as torch.optim.SGD adds it, scaled like the gradients it joins (the loss
        # scale optimizer divides by the scale before the update, and skips non-finite steps).
        scale = self.optimizer.scale_loss(1.0)
        grads = [g + d * scale * v if d else g
                 for g, v, d in zip(grads, self.variables, self.decays, strict=True)]
        self.optimizer.apply(grads, self.variables)
        newly_bad = tf.logical_and(tf.logical_not(tf.math.is_finite(loss)),
                                   self.first_bad_step < 0)
        self.first_bad_step.assign(tf.where(newly_bad, step, self.first_bad_step))
        self.bad_value.assign(tf.where(newly_bad, loss, self.bad_value))
        self.loss_sum.assign_add(tf.cast(loss, tf.float64) * tf.cast(tf.shape(labels)[0],
                                                                     tf.float64))
        predicted = tf.argmax(logits, axis=1, output_type=labels.dtype)
        self.correct.assign_add(tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.int64)))

    # --- checkpoints ---------------------------------------------------------------------

    def weights_finite(self) -> bool:
        return weights_finite(self.model)

    def save(self) -> None:
        numpy_state = np.random.get_state(legacy=False)
        meta = {
            **self.checkpoint_meta("keras"),
            "accumulators": {"loss_sum": float(self.loss_sum.numpy()),
                             "correct": int(self.correct.numpy())},
            "rng": {"numpy_pos": int(numpy_state["state"]["pos"]),
                    "python": python_rng_state()},
        }
        arrays = {f"model_{i}": np.asarray(v.numpy()) for i, v in enumerate(self.model.variables)}
        arrays.update({f"optimizer_{i}": np.asarray(v.numpy())
                       for i, v in enumerate(self.optimizer.variables)})
        arrays["numpy_key"] = numpy_state["state"]["key"]
        arrays["meta"] = np.array(strict_json(meta))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_checkpoint(self.ctx.run.checkpoint, "keras", buffer.getvalue())

    def restore_from(self, path: Any) -> None:
        backend, payload = read_checkpoint(path,
                                           max_checkpoint_bytes(self.ctx.loaded.info.total_params))
        if backend != "keras":
            raise SpeccError(f"{path}: a {backend} checkpoint, not a Keras one")
        meta = meta_from_payload(payload, path)  # first: it says why the arrays may differ
        self.check_same_spec(meta, path)
        trained_in = meta["precision"]
        if trained_in != self.precision:  # fp16 adds the loss scale's optimizer variables
            raise SpeccError(f"{path}: this Keras run trained in {trained_in}; resume it with "
                             f"--precision {trained_in}, not {self.precision}")
        arrays, meta = arrays_from_payload(payload, path, self.model.variables,
                                           self.optimizer.variables)
        check_keras_extras(meta, path)
        assign_variables(self.model.variables, arrays, "model")
        assign_variables(self.optimizer.variables, arrays, "optimizer")
        self.restore_position(meta)
        self.loss_sum.assign(meta["accumulators"]["loss_sum"])
        self.correct.assign(meta["accumulators"]["correct"])
        np.random.set_state({"bit_generator": "MT19937", "state": {
            "key": arrays["numpy_key"], "pos": meta["rng"]["numpy_pos"]},
            "has_gauss": 0, "gauss": 0.0})
        restore_python_rng(meta["rng"]["python"])

    # --- the steps ------------------------------------------------------------------------

    def epoch_plan(self) -> EpochPlan:
        height, width = self.ctx.data.image_shape[:2]
        augmentation = self.ctx.recipe.augmentation
        return plan_epoch(len(self.ctx.data.y_train), height, width,
                          augmentation.random_crop_padding, augmentation.horizontal_flip,
                          self.ctx.recipe.seed, self.epoch)

    def run_step(self, plan: EpochPlan, start: int) -> None:
        ctx, tf = self.ctx, self.tf
        images, index = augmented_batch(ctx.data.x_train, plan, start, start + self.batch_size,
                                        ctx.recipe.augmentation.random_crop_padding)
        self.inner_optimizer.learning_rate.assign(self.schedule.lr(self.global_step))
        self._train_step(tf.constant(normalise(images, ctx.mean, ctx.std)),
                         tf.constant(ctx.data.y_train[index]),
                         tf.constant(self.global_step, dtype=tf.int64))

    def reset_accumulators(self) -> None:
        self.loss_sum.assign(0.0)
        self.correct.assign(0)

    def host_check(self) -> tuple[float, float]:
        bad_step = int(self.first_bad_step.numpy())
        if bad_step >= 0:
            epoch, batch = divmod(bad_step, self.steps_per_epoch)
            raise DivergedError(
                f"the training loss became {float(self.bad_value.numpy())} at step {bad_step} "
                f"(epoch {epoch + 1}, batch {batch + 1}); stopped. The last good checkpoint is "
                f"{self.ctx.run.checkpoint} (if an epoch completed); try a lower --lr")
        seen = max(self.step_in_epoch * self.batch_size, 1)
        return float(self.loss_sum.numpy()) / seen, int(self.correct.numpy()) / seen

    def evaluate(self) -> EvalResult:
        data = self.ctx.data
        return evaluate_arrays(self._predict, data.x_test, data.y_test, self.ctx.mean,
                               self.ctx.std, max(self.batch_size, 256), data.classes)

    def environment(self) -> dict[str, Any]:
        return {
            "backend": "keras", "keras": self.keras.__version__,
            "tensorflow": self.tf.__version__, "device": self.device_name,
            "precision": self.precision, "dtype_policy": self.model.dtype_policy.name,
            "compile": "xla" if self.ctx.options.compile else False,
            "peak_flops": self.peak, "peak_source": self.peak_source,
            "batch_size": self.batch_size,
            "steps_per_epoch": self.steps_per_epoch,
        }


def arrays_from_payload(payload: bytes, path: Any, model_variables: list,
                        optimizer_variables: list | None = None
                        ) -> tuple[dict[str, np.ndarray], dict]:
    """The checkpoint's arrays, each checked from its header against the variable it will be
    assigned to (`optimizer_variables` None: the model's only, for evaluation), and its
    metadata, checked."""
    checks = {f"model_{i}": shape_is(tuple(v.shape), np.dtype(v.dtype))
              for i, v in enumerate(model_variables)}
    if optimizer_variables is not None:
        checks |= {f"optimizer_{i}": shape_is(tuple(v.shape), np.dtype(v.dtype))
                   for i, v in enumerate(optimizer_variables)}
        checks["numpy_key"] = shape_is((624,), np.dtype(np.uint32))
    checks["meta"] = _meta_check
    arrays = read_npz(payload, checks, len(payload), str(path),
                      exact=optimizer_variables is not None)
    return arrays, _parse_meta(arrays.pop("meta"), path)


def meta_from_payload(payload: bytes, path: Any) -> dict:
    """Only the checkpoint's metadata, checked."""
    arrays = read_npz(payload, {"meta": _meta_check}, len(payload), str(path), exact=False)
    return _parse_meta(arrays["meta"], path)


def _meta_check(dtype: np.dtype, shape: tuple[int, ...]) -> str | None:
    return None if dtype.kind == "U" and shape == () else "is not text"


def _parse_meta(text: np.ndarray, path: Any) -> dict:
    try:
        meta = json.loads(str(text))
    except (ValueError, RecursionError) as error:
        raise SpeccError(f"{path}: damaged checkpoint: its metadata is not JSON ({error})") from None
    return check_meta(meta, path, CHECKPOINT_FORMAT)


def assign_variables(variables: list, arrays: dict[str, np.ndarray], prefix: str) -> None:
    """Assign the arrays that `arrays_from_payload` checked against these variables."""
    for i, variable in enumerate(variables):
        variable.assign(arrays[f"{prefix}_{i}"])


def weights_finite(model: Any) -> bool:
    """Every floating-point variable of the model finite."""
    for variable in model.variables:
        value = np.asarray(variable.numpy())
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return False
    return True


def make_trainer(ctx: EngineContext, model: Any, logits_layer: str | None) -> KerasTrainer:
    return KerasTrainer(ctx, model, logits_layer)


def evaluate_payload(payload: bytes, checkpoint: Any, loaded: Any, model: Any,
                     logits_layer: str | None, data: Any, batch_size: int,
                     device_name: str) -> EvalResult:
    """`specc eval` for a Keras checkpoint."""
    arrays, meta = arrays_from_payload(payload, checkpoint, model.variables)
    check_checkpoint_matches(meta["spec_sha256"], meta["spec_name"], loaded, checkpoint,
                             meta["classes"], data.classes)
    assign_variables(model.variables, arrays, "model")
    if not weights_finite(model):
        raise DivergedError(f"{checkpoint}: the model's weights hold NaN or infinite values (the "
                            "run diverged); nothing to evaluate")
    logits = logits_model(model, logits_layer)
    mean, std = normalization_of(meta, loaded, checkpoint)
    return evaluate_arrays(lambda x: logits(x, training=False), data.x_test, data.y_test, mean,
                           std, batch_size, data.classes)
