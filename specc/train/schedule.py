"""The learning rate as a pure function of the optimizer step, shared by both backends.

Being a function of the step alone, the schedule's whole state is the step counter, which
the checkpoint records; resuming recomputes the same learning rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from specc.spec.recipe import ScheduleRecipe


@dataclass(frozen=True)
class Schedule:
    recipe: ScheduleRecipe
    peak_lr: float
    total_steps: int
    steps_per_epoch: int

    @property
    def warmup_steps(self) -> int:
        """The recipe's warm-up, capped at a third of the run so that a run shortened with
        --epochs still decays (one-cycle schedules peak at about a quarter to a third)."""
        steps = round(self.recipe.warmup_epochs * self.steps_per_epoch)
        return min(steps, self.total_steps // 3)

    def lr(self, step: int) -> float:
        """Learning rate for optimizer step `step` (0-based)."""
        peak, recipe = self.peak_lr, self.recipe
        warmup = self.warmup_steps
        if step < warmup:  # warmup >= 1 here
            start = recipe.warmup_start_fraction
            return peak * (start + (1.0 - start) * step / warmup)
        final = peak * recipe.final_lr_fraction
        if recipe.name == "constant":
            return peak
        decay_steps = max(self.total_steps - warmup, 1)
        progress = min((step - warmup) / decay_steps, 1.0)
        if recipe.name == "cosine":
            return final + (peak - final) * 0.5 * (1.0 + math.cos(math.pi * progress))
        return peak + (final - peak) * progress  # onecycle: linear decay after the warm-up

    def state(self, step: int) -> dict[str, object]:
        return {"name": self.recipe.name, "step": step, "lr": self.lr(step),
                "total_steps": self.total_steps, "warmup_steps": self.warmup_steps}
