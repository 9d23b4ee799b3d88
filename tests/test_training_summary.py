"""The end-of-run summary: totals, steady-state throughput, and time to accuracy."""

from __future__ import annotations

import pytest

from specc.train.common import mfu, peak_flops
from specc.train.results import describe_summary, time_to_accuracy, training_summary


def row(epoch: int, accuracy: float, seconds: float, images_per_s: float,
        mfu: float | None = None) -> dict:
    return {"epoch": epoch, "test_accuracy": accuracy, "epoch_time_s": seconds,
            "eval_time_s": 1.0, "images_per_s": images_per_s, "mfu": mfu}


ROWS = [row(1, 0.30, 40.0, 1000.0, 0.10), row(2, 0.45, 10.0, 4000.0, 0.40),
        row(3, 0.70, 10.0, 6000.0, 0.60), row(4, 0.65, 10.0, 5000.0, 0.50)]


def test_time_to_accuracy_sums_the_epochs_up_to_the_first_that_reaches_it() -> None:
    milestone = time_to_accuracy(ROWS, "target", 0.45)
    assert (milestone.epoch, milestone.train_time_s, milestone.elapsed_s) == (2, 50.0, 52.0)
    assert time_to_accuracy(ROWS, "target", 0.30).epoch == 1
    never = time_to_accuracy(ROWS, "target", 0.71)
    assert (never.epoch, never.train_time_s, never.elapsed_s) == (None, None, None)


def test_summary_leaves_the_warm_up_epoch_out_of_throughput() -> None:
    summary = training_summary(ROWS, {"reference": 0.401, "target": 0.88})
    assert summary["train_time_s"] == 70.0 and summary["eval_time_s"] == 4.0
    assert summary["images_per_s"] == pytest.approx(5000.0)
    assert summary["mfu"] == pytest.approx(0.5)
    assert (summary["best_test_accuracy"], summary["best_epoch"]) == (0.70, 3)
    reference, target = summary["time_to_accuracy"]
    assert (reference["name"], reference["epoch"], reference["train_time_s"]) == ("reference", 2, 50.0)
    assert (target["name"], target["epoch"]) == ("target", None)
    lines = describe_summary(summary)
    assert "5,000 images/s, model FLOPs utilisation 50.0%" in lines[0]
    assert lines[1] == ("Time to 0.401 test accuracy (reference): epoch 2, 50.0 s of training "
                        "(52.0 s with evaluation)")
    assert lines[2] == "Time to 0.88 test accuracy (target): not reached"


def test_a_single_epoch_run_is_its_own_steady_state() -> None:
    summary = training_summary(ROWS[:1], {})
    assert summary["images_per_s"] == 1000.0 and summary["time_to_accuracy"] == []
    assert summary["mfu"] == pytest.approx(0.10)
    assert "model FLOPs utilisation" not in describe_summary(training_summary(
        [row(1, 0.5, 1.0, 10.0)], {}))[0]


@pytest.mark.parametrize(("device", "precision", "tflops"), [
    ("NVIDIA H100 80GB HBM3", "bf16", 989.4), ("NVIDIA H100 80GB HBM3", "fp32", 494.7),
    ("NVIDIA H100 PCIe", "bf16", 756.0), ("NVIDIA A100-SXM4-40GB", "fp16", 312.0),
    ("NVIDIA L4", "bf16", 121.0),
])
def test_known_gpus_peak_is_looked_up_by_name_and_precision(device: str, precision: str,
                                                            tflops: float) -> None:
    assert peak_flops(device, precision, None) == pytest.approx(tflops * 1e12)


def test_an_unknown_device_has_no_utilisation_unless_its_peak_is_given() -> None:
    assert peak_flops("x86_64", "fp32", None) is None
    assert mfu(1_000_000, 1000.0, None) is None
    assert peak_flops("x86_64", "fp32", 2.0) == 2e12
    assert mfu(1_000_000, 1000.0, 2e12) == pytest.approx(3 * 1e6 * 1000 / 2e12)
