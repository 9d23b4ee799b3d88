"""One epoch's randomness, drawn on the CPU from (seed, epoch) and shared by both engines.

The plan is drawn up front, so a run can resume in the middle of an epoch, and with numpy on
the host, so the same seed gives the same permutation, crops and flips on a CPU and on a GPU,
in the PyTorch engine and in the Keras engine alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HostEpochPlan:
    order: np.ndarray  # (N,) the permutation of the training set
    rows: np.ndarray  # (N, H) source rows in the zero-padded image
    cols: np.ndarray  # (N, W) source columns in the zero-padded image, flips folded in


def draw_epoch_plan(count: int, height: int, width: int, padding: int, flip: bool, seed: int,
                    epoch: int) -> HostEpochPlan:
    rng = np.random.default_rng(seed * 1_000_003 + epoch)
    order = rng.permutation(count)
    dy = rng.integers(0, 2 * padding + 1, (count, 1))
    dx = rng.integers(0, 2 * padding + 1, (count, 1))
    flips = rng.random((count, 1)) < 0.5
    col_range = np.arange(width)
    cols = np.where(flips & flip, width - 1 - col_range, col_range) + dx
    return HostEpochPlan(order, np.arange(height) + dy, cols)
