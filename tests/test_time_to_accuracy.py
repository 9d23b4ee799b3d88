"""benchmarks/time_to_accuracy.py's baselines train with specc's recipe: the hand-written
Dataset augments and normalises as specc's engine does, the Keras schedule wrapper returns
specc's schedule, and the time-to-threshold arithmetic. No timing is checked here."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import time_to_accuracy as tta
from tta_common import epoch_row

from specc.spec.recipe import TrainRecipe
from specc.train.epoch_plan import draw_epoch_plan
from specc.train.schedule import Schedule

PADDING = 4


def images(count: int = 6) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)


def test_hand_written_augmentation_matches_specc_engine() -> None:
    torch = pytest.importorskip("torch")
    from tta_torch_loop import augment, to_tensor

    from specc.train.engine_torch import DeviceData, augmented_batch, plan_epoch

    x, labels = images(), np.arange(6)
    mean, std = np.array([0.49, 0.48, 0.45]), np.array([0.25, 0.24, 0.26])
    data = DeviceData(x, labels, mean, std, torch.device("cpu"))
    plan = plan_epoch(6, 32, 32, PADDING, True, seed=3, epoch=1, device=torch.device("cpu"))
    specc_batch, order = augmented_batch(data, plan, 0, 6, PADDING)
    expected = data.to_input(specc_batch)
    host = draw_epoch_plan(6, 32, 32, PADDING, True, 3, 1)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
    for i in range(6):
        top, left = int(host.rows[i, 0]), int(host.cols[i].min())
        flip = bool(host.cols[i, 0] > host.cols[i, -1])
        mine = to_tensor(augment(x[host.order[i]], top, left, flip, PADDING), mean_t, std_t)
        assert int(order[i]) == host.order[i]
        torch.testing.assert_close(mine, expected[i], rtol=1e-5, atol=1e-5)


def test_dataset_draws_every_crop_and_flip() -> None:
    torch = pytest.importorskip("torch")
    from tta_torch_loop import CifarImages, augment

    x = images(1)
    dataset = CifarImages(x, np.zeros(1, dtype=np.int64), np.zeros(3), np.ones(3), padding=1,
                          flip=True)
    candidates = {(top, left, flip): augment(x[0], top, left, flip, 1)
                  for top in range(3) for left in range(3) for flip in (False, True)}
    torch.manual_seed(0)
    seen = set()
    for _ in range(300):
        tensor, label = dataset[0]
        pixels = np.rint(tensor.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        (match,) = [key for key, c in candidates.items() if np.array_equal(c, pixels)]
        seen.add(match)
    assert seen == set(candidates) and label == 0


def test_keras_rate_is_specc_schedule() -> None:
    pytest.importorskip("keras")
    from tta_keras_fit import SpeccRate

    schedule = Schedule(TrainRecipe().schedule, 0.2, total_steps=30, steps_per_epoch=10)
    rate = SpeccRate.of(schedule)
    for step in range(35):
        expected = np.float32(schedule.lr(min(step, 29)))
        assert float(rate(step)) == float(expected), step


def test_time_to_threshold_and_speed_ups() -> None:
    rows = [epoch_row(1, 0.5, 10.0, 1.0), epoch_row(2, 0.81, 10.0, 1.0), epoch_row(3, 0.8, 10.0, 1.0)]
    fast = tta.summarise({"precision": "fp32", "rows": rows, "images_per_epoch": 1000}, 0.80)
    assert (fast["threshold_epoch"], fast["time_to_threshold_s"],
            fast["time_to_threshold_with_eval_s"]) == (2, 20.0, 22.0)
    assert fast["images_per_s"] == 100.0 and fast["final_test_accuracy"] == 0.8
    slow_rows = [epoch_row(e, 0.81 if e == 3 else 0.1, 20.0, 2.0) for e in (1, 2, 3)]
    slow = tta.summarise({"precision": "fp32", "rows": slow_rows, "images_per_epoch": 1000}, 0.8)
    never = tta.summarise({"precision": "fp32", "rows": rows[:1], "images_per_epoch": 1000}, 0.8)
    (pair,) = tta.comparisons({"specc-torch": fast, "torch-dataloader": slow})
    assert (pair["time_to_threshold"], pair["time_to_threshold_with_eval"],
            pair["images_per_s"]) == (3.0, 3.0, 2.0)
    (pair,) = tta.comparisons({"specc-torch": never, "torch-dataloader": slow})
    assert pair["time_to_threshold"] is None and never["time_to_threshold_s"] is None
