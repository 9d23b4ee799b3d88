"""The `train:` section of a spec: the training recipe, validated with the rest of the spec.

Every field has a sensible default, so `train: {}` is a complete recipe; `specc train`
flags override individual fields and the resolved recipe is written to the run folder.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specc.spec.types import FiniteFloat, NonNegativeInt, PositiveInt, StrictBool, StrictInt


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptimizerRecipe(_Section):
    name: Literal["sgd", "adam", "adamw"] = "sgd"
    momentum: FiniteFloat = Field(default=0.9, ge=0.0, lt=1.0)
    nesterov: StrictBool = True
    weight_decay: FiniteFloat = Field(default=5e-4, ge=0.0)
    # Weight decay on BatchNorm/LayerNorm scales and shifts and on biases only hurts; the
    # usual practice decays kernels (tensors with 2 or more dimensions) alone.
    decay_norm_and_bias: StrictBool = False


class ScheduleRecipe(_Section):
    """Learning rate per optimizer step: linear warm-up from `warmup_start_fraction * lr` to
    `lr`, then `onecycle` (linear decay), `cosine` (cosine decay) or `constant`, ending at
    `final_lr_fraction * lr`."""

    name: Literal["onecycle", "cosine", "constant"] = "onecycle"
    warmup_epochs: FiniteFloat = Field(default=2.0, ge=0.0)
    warmup_start_fraction: FiniteFloat = Field(default=0.1, ge=0.0, le=1.0)
    final_lr_fraction: FiniteFloat = Field(default=0.0, ge=0.0, le=1.0)


class AugmentationRecipe(_Section):
    random_crop_padding: NonNegativeInt = 4
    horizontal_flip: StrictBool = True


class NormalizationRecipe(_Section):
    """Input scaling: pixels / 255, then per channel `(x - mean) / std`. `per_channel` takes
    the mean and standard deviation from the training set (recorded in the run folder and
    the checkpoint); `none` feeds pixels / 255."""

    name: Literal["per_channel", "none"] = "per_channel"


class TrainRecipe(_Section):
    dataset: Literal["cifar10"] = "cifar10"
    epochs: PositiveInt = 30
    batch_size: PositiveInt = 512
    lr: FiniteFloat = Field(default=0.2, gt=0.0)
    optimizer: OptimizerRecipe = OptimizerRecipe()
    schedule: ScheduleRecipe = ScheduleRecipe()
    augmentation: AugmentationRecipe = AugmentationRecipe()
    normalization: NormalizationRecipe = NormalizationRecipe()
    loss: Literal["categorical_crossentropy"] = "categorical_crossentropy"
    label_smoothing: FiniteFloat = Field(default=0.1, ge=0.0, lt=1.0)
    seed: StrictInt = Field(default=0, ge=0, le=2**31 - 1)
    # The test accuracy this recipe is meant to reach; `specc train` reports the training
    # time it took to get there (time to accuracy), or that it was not reached.
    target_accuracy: FiniteFloat | None = Field(default=None, gt=0.0, le=1.0)
