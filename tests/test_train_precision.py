"""Mixed precision in the Keras engine: an fp16 step (loss scaling) makes the same update as an
fp32 step, weight decay included, and a run cannot be resumed in another precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from train_support import CLASSES, TINY_SPEC, separable_images

from specc.backends.quiet_keras import quiet_tensorflow
from specc.errors import SpeccError
from specc.spec.load import load_spec
from specc.train.common import EngineContext, RunOptions, final_softmax_layer
from specc.train.data import Dataset
from specc.train.engine_keras import KerasTrainer
from specc.train.progress import EpochProgress
from specc.train.run_folder import RunFolder
from specc.train.session import build_model, resolve_recipe

# No dropout (its masks would differ between policies); strong weight decay, so that a decay
# term scaled wrongly by the loss scale would change the update by far more than fp16 noise.
SPEC = TINY_SPEC.replace("rate: 0.2", "rate: 0.0")
RECIPE = {"lr": 0.5, "weight_decay": 0.5, "schedule": {"name": "constant", "warmup_epochs": 0}}


def make_trainer(tmp_path: Path, precision: str) -> KerasTrainer:
    quiet_tensorflow()
    import keras

    tmp_path.mkdir(parents=True, exist_ok=True)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    loaded = load_spec(spec)
    recipe = resolve_recipe(loaded, {"lr": RECIPE["lr"], "schedule": RECIPE["schedule"],
                                     "optimizer": {"weight_decay": RECIPE["weight_decay"]}})
    x_train, y_train = separable_images(64)
    x_test, y_test = separable_images(32, seed=1)
    data = Dataset(x_train, y_train, x_test, y_test, CLASSES, "generated")
    options = RunOptions(backend="keras", device="cpu", precision=precision)
    keras.utils.set_random_seed(0)
    model = build_model(loaded, options, tmp_path / precision)
    run = RunFolder.create(tmp_path / f"runs-{precision}", "tiny")
    ctx = EngineContext(loaded, recipe, data, run, options, EpochProgress(force_plain=True),
                        np.full(3, 0.5), np.full(3, 0.25))
    return KerasTrainer(ctx, model, final_softmax_layer(loaded))


def one_step_update(trainer: KerasTrainer, start: list[np.ndarray]) -> list[np.ndarray]:
    for variable, value in zip(trainer.variables, start, strict=True):
        variable.assign(value)
    trainer.run_step(trainer.epoch_plan(), 0)
    return [np.asarray(v.numpy()) - s for v, s in zip(trainer.variables, start, strict=True)]


def test_an_fp16_step_updates_like_an_fp32_step_weight_decay_included(tmp_path: Path) -> None:
    fp32, fp16 = make_trainer(tmp_path, "fp32"), make_trainer(tmp_path, "fp16")
    assert fp16.model.dtype_policy.name == "mixed_float16"
    start = [np.asarray(v.numpy()) for v in fp32.variables]
    expected = one_step_update(fp32, start)
    updates = one_step_update(fp16, start)
    largest = max(np.abs(reference).max() for reference in expected)
    for variable, update, reference in zip(fp16.variables, updates, expected, strict=True):
        np.testing.assert_allclose(update, reference, rtol=0.02, atol=1e-3 * largest,
                                   err_msg=variable.path)


def test_a_keras_run_resumes_only_in_its_own_precision(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path, "fp32")
    trainer.save()
    fp16 = make_trainer(tmp_path / "other", "fp16")
    with pytest.raises(SpeccError, match="trained in fp32; resume it with --precision fp32"):
        fp16.restore_from(trainer.ctx.run.checkpoint)
