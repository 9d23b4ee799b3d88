"""The learning-rate schedule against values worked out by hand, and the rate each engine's
optimiser actually held at every step of a short run."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from engine_support import applied_learning_rate, dataset, make_trainer, random_images

from specc.spec.recipe import ScheduleRecipe
from specc.train.common import StopRequest
from specc.train.schedule import Schedule

# 10 epochs of 10 steps at a peak of 0.2, a 2-epoch (20-step) warm-up from 0.1 * 0.2 = 0.02.
# Warm-up: 0.2 * (0.1 + 0.9 * step / 20); decay over the remaining 80 steps.
RUN = {"peak_lr": 0.2, "total_steps": 100, "steps_per_epoch": 10}

# (schedule, step, learning rate by hand)
HAND_COMPUTED = [
    # onecycle: linear decay from the peak at step 20 to 0 at step 100
    ({"name": "onecycle"}, 0, 0.02),
    ({"name": "onecycle"}, 10, 0.11),  # 0.2 * (0.1 + 0.45)
    ({"name": "onecycle"}, 19, 0.191),  # the last warm-up step: 0.2 * (0.1 + 0.855)
    ({"name": "onecycle"}, 20, 0.2),  # the end of the warm-up is the peak
    ({"name": "onecycle"}, 60, 0.1),  # half-way through the decay
    ({"name": "onecycle"}, 99, 0.0025),  # the last step: 0.2 * (1 - 79 / 80)
    ({"name": "onecycle", "final_lr_fraction": 0.1}, 60, 0.11),  # 0.02 + 0.18 * 0.5
    ({"name": "onecycle", "final_lr_fraction": 0.1}, 100, 0.02),  # never below the final rate
    ({"name": "onecycle", "warmup_start_fraction": 0.5}, 10, 0.15),  # 0.2 * (0.5 + 0.25)
    # cosine: final + (peak - final) * (1 + cos(pi * progress)) / 2, progress = (step - 20) / 80
    ({"name": "cosine"}, 0, 0.02),
    ({"name": "cosine"}, 20, 0.2),
    ({"name": "cosine"}, 40, 0.17071067811865476),  # progress 1/4: 0.1 * (1 + sqrt(2) / 2)
    ({"name": "cosine"}, 60, 0.1),  # progress 1/2: cos = 0
    ({"name": "cosine"}, 80, 0.029289321881345243),  # progress 3/4: 0.1 * (1 - sqrt(2) / 2)
    ({"name": "cosine"}, 99, 7.709637592770991e-05),  # progress 79/80: 0.1 * (1 - cos(pi / 80))
    ({"name": "cosine", "final_lr_fraction": 0.1}, 60, 0.11),  # 0.02 + 0.18 * 0.5
    # constant: the same warm-up, then the peak to the end
    ({"name": "constant"}, 0, 0.02),
    ({"name": "constant"}, 19, 0.191),
    ({"name": "constant"}, 20, 0.2),
    ({"name": "constant"}, 99, 0.2),
    # no warm-up: the peak from the first step
    ({"name": "onecycle", "warmup_epochs": 0}, 0, 0.2),
    ({"name": "onecycle", "warmup_epochs": 0}, 50, 0.1),
    # a fractional warm-up: half an epoch, 5 steps
    ({"name": "onecycle", "warmup_epochs": 0.5}, 4, 0.164),  # 0.2 * (0.1 + 0.9 * 4 / 5)
    ({"name": "onecycle", "warmup_epochs": 0.5}, 5, 0.2),
]


@pytest.mark.parametrize(("recipe", "step", "expected"), HAND_COMPUTED,
                         ids=[f"{r['name']}-{i}-step{s}" for i, (r, s, _) in
                              enumerate(HAND_COMPUTED)])
def test_learning_rate_matches_hand_computed_values(recipe: dict, step: int,
                                                    expected: float) -> None:
    schedule = Schedule(ScheduleRecipe(**recipe), **RUN)
    assert schedule.lr(step) == pytest.approx(expected, rel=1e-9, abs=1e-15)


# A run shortened to 2 epochs of 10 steps: the 2-epoch warm-up would leave no decay, so it is
# capped at a third of the run, 20 // 3 = 6 steps.
SHORT_RUN = [
    (0, 0.02),
    (3, 0.11),  # 0.2 * (0.1 + 0.9 * 3 / 6)
    (5, 0.17),  # 0.2 * (0.1 + 0.9 * 5 / 6)
    (6, 0.2),  # the peak, after a third of the run
    (13, 0.1),  # half of the 14 decay steps
    (19, 0.2 / 14),  # the last step: 0.2 * (1 - 13 / 14)
]


@pytest.mark.parametrize(("step", "expected"), SHORT_RUN)
def test_warmup_is_capped_at_a_third_of_a_short_run(step: int, expected: float) -> None:
    schedule = Schedule(ScheduleRecipe(), peak_lr=0.2, total_steps=20, steps_per_epoch=10)
    assert schedule.warmup_steps == 6
    assert schedule.lr(step) == pytest.approx(expected, rel=1e-12)


def test_warmup_rises_and_decay_falls_monotonically() -> None:
    for name in ("onecycle", "cosine"):
        schedule = Schedule(ScheduleRecipe(name=name), **RUN)
        rates = [schedule.lr(step) for step in range(100)]
        assert max(rates) == rates[20] == 0.2, name
        assert all(a < b for a, b in pairwise(rates[:21])), name
        assert all(a > b for a, b in pairwise(rates[20:])), name


# A 3-epoch run of 4 steps per epoch (128 images, batch 32) at a peak of 0.1, warm-up of one
# epoch from 0.01: what the optimiser must hold at each of its 12 steps.
APPLIED = [0.01, 0.0325, 0.055, 0.0775,  # 0.1 * (0.1 + 0.9 * step / 4)
           0.1, 0.0875, 0.075, 0.0625, 0.05, 0.0375, 0.025, 0.0125]  # 0.1 * (1 - k / 8)


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_each_engine_applies_the_schedule_at_every_step(backend: str, tmp_path: Path) -> None:
    images, labels = random_images(128)
    trainer = make_trainer(backend, dataset(images, labels), tmp_path, {
        "epochs": 3, "batch_size": 32, "lr": 0.1,
        "schedule": {"name": "onecycle", "warmup_epochs": 1.0}})
    applied: list[tuple[int, float]] = []
    run_step = trainer.run_step

    def recording_step(plan: object, start: int) -> None:
        run_step(plan, start)
        applied.append((trainer.global_step, applied_learning_rate(trainer)))

    trainer.run_step = recording_step
    outcome = trainer.train(StopRequest())
    assert outcome.epochs_done == 3
    assert [step for step, _ in applied] == list(range(12))
    assert [rate for _, rate in applied] == pytest.approx(APPLIED, rel=1e-6)
    if backend == "keras":  # the optimiser counted one update per step
        assert int(trainer.optimizer.iterations.numpy()) == 12
    rows = trainer.ctx.run.metrics()
    assert [row["lr"] for row in rows] == pytest.approx([APPLIED[3], APPLIED[7], APPLIED[11]])
