"""The `train:` section of a spec: the training recipe, validated with the rest of the spec."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specc.spec.types import FiniteFloat, NonNegativeInt, PositiveInt, StrictBool


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptimizerRecipe(_Section):
    name: Literal["sgd", "adam", "adamw"] = "sgd"
    momentum: FiniteFloat = Field(default=0.9, ge=0.0, lt=1.0)
    nesterov: StrictBool = True
    weight_decay: FiniteFloat = Field(default=5e-4, ge=0.0)


class ScheduleRecipe(_Section):
    name: Literal["onecycle", "cosine", "constant"] = "onecycle"
    warmup_epochs: FiniteFloat = Field(default=0.0, ge=0.0)
    final_lr_fraction: FiniteFloat = Field(default=0.0, ge=0.0, le=1.0)


class AugmentationRecipe(_Section):
    random_crop_padding: NonNegativeInt = 4
    horizontal_flip: StrictBool = True


class TrainRecipe(_Section):
    dataset: Literal["cifar10"] = "cifar10"
    epochs: PositiveInt = 30
    batch_size: PositiveInt = 512
    lr: FiniteFloat = Field(default=0.1, gt=0.0)
    optimizer: OptimizerRecipe = OptimizerRecipe()
    schedule: ScheduleRecipe = ScheduleRecipe()
    augmentation: AugmentationRecipe = AugmentationRecipe()
    loss: Literal["categorical_crossentropy"] = "categorical_crossentropy"
    label_smoothing: FiniteFloat = Field(default=0.0, ge=0.0, lt=1.0)
