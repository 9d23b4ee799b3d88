"""MFU on a CPU: the peak is a measured matmul, cached per machine and precision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specc.train import cpu_peak
from specc.train.common import device_peak_flops, mfu


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "specc" / "cpu_peak.json"


def test_the_peak_is_measured_once_per_machine_and_precision(
    monkeypatch: pytest.MonkeyPatch, private_cache: Path,
) -> None:
    measured = []

    def fake_measure(precision: str) -> float:
        measured.append(precision)
        return {"fp32": 5e10, "bf16": 1.5e11}[precision]

    monkeypatch.setattr(cpu_peak, "measure_matmul_flops", fake_measure)
    assert cpu_peak.cpu_peak_flops("fp32") == 5e10
    assert cpu_peak.cpu_peak_flops("fp32") == 5e10
    assert cpu_peak.cpu_peak_flops("bf16") == 1.5e11
    assert measured == ["fp32", "bf16"]
    cached = json.loads(private_cache.read_text())
    assert cached == {cpu_peak.machine_key("fp32"): 5e10, cpu_peak.machine_key("bf16"): 1.5e11}


def test_a_damaged_cache_is_measured_again(monkeypatch: pytest.MonkeyPatch,
                                           private_cache: Path) -> None:
    private_cache.parent.mkdir(parents=True)
    private_cache.write_text("{not json")
    monkeypatch.setattr(cpu_peak, "measure_matmul_flops", lambda precision: 7e10)
    assert cpu_peak.cpu_peak_flops("fp32") == 7e10
    assert json.loads(private_cache.read_text()) == {cpu_peak.machine_key("fp32"): 7e10}


def test_a_real_measurement_counts_two_flops_per_multiply_add(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    calls = []
    real_mm = torch.mm
    monkeypatch.setattr(torch, "mm", lambda a, b: calls.append(a.shape) or real_mm(a, b))
    ticks = iter(range(1000))
    monkeypatch.setattr(cpu_peak.time, "perf_counter", lambda: float(next(ticks)) * 0.5)
    flops = cpu_peak.measure_matmul_flops("fp32", size=64, seconds=0.1)
    assert calls and all(shape == (64, 64) for shape in calls)
    assert flops == pytest.approx(2 * 64**3 / 0.5)  # every timed product took one 0.5 s tick


def test_the_cpu_peak_source_and_the_override() -> None:
    assert device_peak_flops("cpu", "any", "fp32", 2.0) == (2e12, "--peak-tflops")
    assert device_peak_flops("cuda", "NVIDIA H100 PCIe", "bf16", None)[0] == 756e12
    assert device_peak_flops("cuda", "NVIDIA H100 MIG 1g.10gb", "bf16", None)[0] is None


def test_a_cpu_runs_mfu_is_three_times_flops_times_throughput_over_the_measured_peak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from train_support import TINY_SPEC, write_image_folder

    from specc.cli import main

    monkeypatch.setenv("SPECC_DATA", str(tmp_path / "data-cache"))
    (tmp_path / "data-cache").mkdir()
    monkeypatch.setattr(cpu_peak, "measure_matmul_flops", lambda precision: 3.0e10)
    images = write_image_folder(tmp_path / "shapes", train=96, test=32)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    assert main(["train", str(spec), "--data", str(images), "--out", str(tmp_path / "runs"),
                 "--epochs", "2", "--device", "cpu", "--precision", "fp32"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    environment = json.loads((run / "environment.json").read_text())
    assert environment["peak_flops"] == 3.0e10
    assert environment["peak_source"].startswith("measured")
    recipe = json.loads((run / "recipe.json").read_text())
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        expected = mfu(recipe["spec"]["flops_per_example"], row["images_per_s"], 3.0e10)
        assert row["mfu"] == pytest.approx(expected)
        assert row["mfu"] == pytest.approx(
            3 * recipe["spec"]["flops_per_example"] * row["images_per_s"] / 3.0e10)


def test_a_peak_below_the_reached_throughput_is_forgotten_and_no_mfu_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_cache: Path,
) -> None:
    """A peak measured while the machine was loaded can be below what training reaches: an
    MFU over 100% is never reported, and the next run measures again."""
    from train_support import TINY_SPEC, write_image_folder

    from specc.cli import main

    monkeypatch.setenv("SPECC_DATA", str(tmp_path / "data-cache"))
    (tmp_path / "data-cache").mkdir()
    monkeypatch.setattr(cpu_peak, "measure_matmul_flops", lambda precision: 1.0)  # absurdly low
    images = write_image_folder(tmp_path / "shapes", train=96, test=32)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    assert main(["train", str(spec), "--data", str(images), "--out", str(tmp_path / "runs"),
                 "--epochs", "1", "--device", "cpu", "--precision", "fp32"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    (row,) = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert row["mfu"] is None
    assert cpu_peak.machine_key("fp32") not in json.loads(private_cache.read_text())
