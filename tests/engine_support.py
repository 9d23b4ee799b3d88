"""Training engines built in-process on small data sets the tests make, so that a test can
look inside a run: the batches fed to the model, the learning rate the optimiser applied, the
loss, the weights after a step.

Everything goes through the same functions `specc train` uses (recipe, build gate, engine
factory, epoch loop); only the data set is handed over directly instead of read from disk.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from specc.spec.load import LoadedSpec, load_spec_text
from specc.train.common import EngineContext, RunOptions, final_softmax_layer, normalization_stats
from specc.train.data import Dataset
from specc.train.progress import EpochProgress
from specc.train.run_folder import RunFolder
from specc.train.session import build_model, resolve_recipe, seed_everything

# Conv (kernel and bias), BatchNorm (gamma, beta, statistics), Dense (kernel and bias), and
# a final softmax layer that training must leave out; no Dropout, so a step is deterministic.
STEP_SPEC = """\
name: step
input:
  shape: [6, 6, 3]
layers:
  - {name: conv1, type: Conv2D, filters: 4, kernel_size: 3, padding: same}
  - {name: bn1, type: BatchNormalization}
  - {name: relu1, type: Activation, activation: relu}
  - {name: pool, type: GlobalAveragePooling2D}
  - {name: logits, type: Dense, units: 4}
  - {name: softmax, type: Activation, activation: softmax}
"""

CLASSES = ("a", "b", "c", "d")


def dataset(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray | None = None,
            y_test: np.ndarray | None = None) -> Dataset:
    x_test = x_train[:8] if x_test is None else x_test
    y_test = y_train[:8] if y_test is None else y_test
    return Dataset(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), CLASSES,
                   "made by the test")


def random_images(count: int, size: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)
    return images, np.arange(count) % len(CLASSES)


def make_trainer(backend: str, data: Dataset, out: Path, overrides: dict[str, Any],
                 spec_text: str = STEP_SPEC,
                 stats: tuple[np.ndarray, np.ndarray] | None = None) -> Any:
    """A trainer of `backend` for `spec_text` with its recipe overridden by `overrides`, as
    `specc train` makes it (seeded, built through the gate, fp32 on the CPU)."""
    loaded: LoadedSpec = load_spec_text(spec_text, "spec.yaml")
    recipe = resolve_recipe(loaded, overrides)
    options = RunOptions(backend=backend, device="cpu", precision="fp32")  # type: ignore[arg-type]
    mean, std = stats if stats is not None else normalization_stats(recipe, data.x_train)
    seed_everything(recipe.seed, backend)
    run = RunFolder.create(out, loaded.spec.name)
    model = build_model(loaded, options, run.path / "build")
    ctx = EngineContext(loaded, recipe, data, run, options, EpochProgress(io.StringIO()), mean, std)
    if backend == "torch":
        from specc.train import engine_torch as engine
    else:
        from specc.train import engine_keras as engine  # type: ignore[no-redef]
    return engine.make_trainer(ctx, model, final_softmax_layer(loaded))


def applied_learning_rate(trainer: Any) -> float:
    """The learning rate the trainer's optimiser holds now (torch: every group's, which must
    agree; Keras: the optimiser's variable)."""
    if hasattr(trainer.optimizer, "param_groups"):
        rates = {group["lr"] for group in trainer.optimizer.param_groups}
        assert len(rates) == 1, rates
        return rates.pop()
    return float(np.asarray(trainer.optimizer.learning_rate))


def model_weights(trainer: Any) -> dict[str, np.ndarray]:
    """Every weight and statistic by its Keras-side name (`layer/variable`), torch's converted
    to Keras's layout through specc's converter."""
    if hasattr(trainer.optimizer, "param_groups"):
        return _torch_weights_as_keras(trainer)
    return {_keras_name(v): np.array(v.numpy()) for v in trainer.model.variables}


def assign_weights(trainer: Any, weights: dict[str, np.ndarray]) -> None:
    """Set the trainer's model to `weights` (named and laid out as `model_weights` gives)."""
    if not hasattr(trainer.optimizer, "param_groups"):
        for variable in trainer.model.variables:
            variable.assign(weights[_keras_name(variable)])
        return
    import torch

    from specc.backends.convert import keras_array_to_torch
    from specc.backends.torch_codegen import torch_emits

    state = trainer.model.state_dict()
    with torch.no_grad():
        for info, emit in torch_emits(trainer.ctx.loaded):
            for mapping in emit.weights:
                array = keras_array_to_torch(weights[f"{info.layer.name}/{mapping.keras}"],
                                             mapping.layout)
                state[f"{info.layer.name}.{mapping.torch}"].copy_(
                    torch.from_numpy(np.ascontiguousarray(array)))


def with_random_biases(weights: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """The same weights with biases, BatchNorm's gamma and beta drawn from U(0.5, 1.5)
    (they start at 0 or 1, where weight decay on them could not show)."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(0.5, 1.5, value.shape).astype(np.float32)
            if name.rsplit("/", 1)[-1] in ("bias", "gamma", "beta") else value
            for name, value in weights.items()}


def _keras_name(variable: Any) -> str:
    parts = str(variable.path).split("/")
    return f"{parts[-2]}/{parts[-1]}"


def _torch_weights_as_keras(trainer: Any) -> dict[str, np.ndarray]:
    from specc.backends.convert import torch_array_to_keras
    from specc.backends.torch_codegen import torch_emits

    state = trainer.model.state_dict()
    weights = {}
    for info, emit in torch_emits(trainer.ctx.loaded):
        for mapping in emit.weights:
            tensor = state[f"{info.layer.name}.{mapping.torch}"].detach().cpu().numpy().copy()
            keras_shape = _keras_shape(tensor.shape, mapping.layout)
            weights[f"{info.layer.name}/{mapping.keras}"] = torch_array_to_keras(
                tensor, mapping.layout, keras_shape)
    return weights


def _keras_shape(torch_shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    if layout == "conv":
        out_channels, in_channels, kh, kw = torch_shape
        return (kh, kw, in_channels, out_channels)
    if layout == "dense":
        return tuple(reversed(torch_shape))
    return tuple(torch_shape)


def capture_training_inputs(trainer: Any) -> list[np.ndarray]:
    """A list that receives every training batch as the model sees it (normalised, NHWC)."""
    batches: list[np.ndarray] = []
    if hasattr(trainer.optimizer, "param_groups"):
        def record(module: Any, inputs: tuple) -> None:
            if module.training:
                batches.append(inputs[0].detach().permute(0, 2, 3, 1).cpu().numpy().copy())

        trainer.model.register_forward_pre_hook(record)
        return batches
    train_step = trainer._train_step

    def recording_step(x: Any, labels: Any, step: Any) -> None:
        batches.append(np.asarray(x).copy())
        train_step(x, labels, step)

    trainer._train_step = recording_step
    return batches


def logits_of(trainer: Any, batch: np.ndarray) -> np.ndarray:
    """The `logits` layer's output for a normalised NHWC batch, in training mode (batch
    statistics), computed from the weights the trainer holds now."""
    if hasattr(trainer.optimizer, "param_groups"):
        import torch

        captured = {}
        handle = trainer.model.logits.register_forward_hook(
            lambda module, inputs, output: captured.setdefault("logits", output))
        was_training = trainer.model.training
        trainer.model.train()
        try:
            with torch.no_grad():
                trainer.model(torch.from_numpy(batch).permute(0, 3, 1, 2))
        finally:
            handle.remove()
            trainer.model.train(was_training)
        return captured["logits"].double().numpy()
    import keras

    model = trainer.model
    probe = keras.Model(model.inputs, model.get_layer("logits").output)
    return np.asarray(probe(batch, training=True), dtype=np.float64)
