"""The weights an export carries: a checkpoint of either backend, or a freshly initialised
model, always delivered as the generated PyTorch model plus the recipe's normalization."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specc.errors import SpeccError
from specc.spec.load import LoadedSpec
from specc.train.checkpoint import (
    check_torch_state,
    check_trained_from,
    max_checkpoint_bytes,
    normalization_of,
    read_checkpoint,
)
from specc.train.common import RunOptions, normalization_stats
from specc.train.session import build_model, check_data_fits, resolve_recipe, seed_everything


@dataclass(frozen=True)
class Trained:
    model: Any  # the generated PyTorch model (float32, on the CPU, inference mode)
    mean: np.ndarray  # per channel, in [0, 1] pixel units, as the training set's
    std: np.ndarray
    origin: str  # what the weights are, for the report
    note: str | None = None  # something the user should know about them


def load_trained(loaded: LoadedSpec, checkpoint: Path | None, data: str | None,
                 build_dir: Path) -> Trained:
    """The model and normalization of `checkpoint`, or of a fresh model when it is None."""
    if checkpoint is None:
        return _fresh(loaded, data, build_dir)
    backend, payload = read_checkpoint(checkpoint, max_checkpoint_bytes(loaded.info.total_params))
    if backend == "torch":
        trained = _from_torch(loaded, checkpoint, payload, build_dir)
    elif backend == "keras":
        trained = _from_keras(loaded, checkpoint, payload, build_dir)
    else:
        raise SpeccError(f"{checkpoint}: unknown backend {backend!r} in the checkpoint")
    _require_finite(trained.model, checkpoint)
    trained.model.eval()
    return trained


def _require_finite(model: Any, checkpoint: Path) -> None:
    """As `specc eval`: NaN weights would only surface as a failed check of the written file."""
    from specc.train.common import DivergedError
    from specc.train.engine_torch import weights_finite

    if not weights_finite(model):
        raise DivergedError(f"{checkpoint}: the model's weights hold NaN or infinite values (the "
                            "run diverged); nothing to export")


def _describe(meta: dict, checkpoint: Path, backend: str) -> str:
    return f"{checkpoint} ({backend}, after {meta.get('epoch', '?')} epoch(s))"


def _from_torch(loaded: LoadedSpec, checkpoint: Path, payload: bytes, build_dir: Path) -> Trained:
    from specc.train.common import CHECKPOINT_FORMAT
    from specc.train.engine_torch import state_from_payload

    state = state_from_payload(payload, checkpoint)
    check_trained_from(state["spec_sha256"], state["spec_name"], loaded, checkpoint)
    model = build_model(loaded, RunOptions(backend="torch"), build_dir)
    check_torch_state(state, checkpoint, CHECKPOINT_FORMAT, model, None)  # before loading it
    model.load_state_dict(state["model"])
    mean, std = normalization_of(state, loaded, checkpoint)
    return Trained(model.float(), mean, std, _describe(state, checkpoint, "torch"))


def _from_keras(loaded: LoadedSpec, checkpoint: Path, payload: bytes, build_dir: Path) -> Trained:
    from specc.backends.convert import keras_to_torch
    from specc.train.engine_keras import arrays_from_payload, assign_variables, meta_from_payload

    meta = meta_from_payload(payload, checkpoint)
    check_trained_from(meta["spec_sha256"], meta["spec_name"], loaded, checkpoint)
    # Keras checkpoints hold float32 variables whatever the training precision.
    keras_model = build_model(loaded, RunOptions(backend="keras", precision="fp32"), build_dir)
    arrays, meta = arrays_from_payload(payload, checkpoint, keras_model.variables)
    assign_variables(keras_model.variables, arrays, "model")
    model = build_model(loaded, RunOptions(backend="torch"), build_dir)
    keras_to_torch(keras_model, model, loaded)
    mean, std = normalization_of(meta, loaded, checkpoint)
    return Trained(model, mean, std, _describe(meta, checkpoint, "keras"))


def _fresh(loaded: LoadedSpec, data: str | None, build_dir: Path) -> Trained:
    """The model `specc train` starts from (same seed), with the recipe's normalization:
    its statistics come from `data`'s training set, or are left out (pixels / 255) without."""
    recipe = resolve_recipe(loaded, {})
    channels = loaded.spec.input.shape[-1]
    mean, std, note = np.zeros(channels), np.ones(channels), None
    if recipe.normalization.name == "per_channel":
        if data is None:
            note = ("the recipe normalizes per channel with the training set's mean and std, "
                    "which a fresh model has no data for: this export divides pixels by 255 "
                    "only (give --data to use the training set's statistics)")
        else:
            from specc.train.data import load_dataset

            dataset = load_dataset(data)
            check_data_fits(loaded, dataset)
            mean, std = normalization_stats(recipe, dataset.x_train)
    seed_everything(recipe.seed, "torch")
    model = build_model(loaded, RunOptions(backend="torch"), build_dir)
    return Trained(model.eval(), mean, std, f"a freshly initialised model (seed {recipe.seed})",
                   note)
