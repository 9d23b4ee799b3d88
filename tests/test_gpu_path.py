"""The CUDA path of the PyTorch engine, tested without a GPU.

No GPU is available to CI, so each test runs the real code on the CPU and replaces only the
CUDA calls that cannot run here (named in each test): `torch.cuda.is_available`,
`torch.cuda.get_rng_state` / `set_rng_state`, `torch.cuda.get_device_name`,
`get_device_capability` and `is_bf16_supported`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from train_support import TINY_SPEC, write_image_folder

from specc.cli import main
from specc.train import engine_torch
from specc.train.checkpoint import read_checkpoint
from specc.train.common import GPU_PEAK_TFLOPS, peak_flops
from specc.train.device import (
    CpuCapability,
    GpuCapability,
    choose_precision,
    default_cpu_precision,
    default_gpu_precision,
)
from specc.train.epoch_plan import draw_epoch_plan

pytestmark = pytest.mark.usefixtures("isolated_cache")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("data") / "shapes", train=128, test=64)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory, images: Path) -> Path:
    """One finished CPU run (1 epoch), shared by the resume tests."""
    folder = tmp_path_factory.mktemp("trained")
    spec = folder / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    assert main(["train", str(spec), "--data", str(images), "--out", str(folder / "runs"),
                 "--epochs", "1", "--device", "cpu"]) == 0
    (run,) = (folder / "runs").iterdir()
    return run


# --- 1. checkpoints load on the CPU; the RNG setters only ever see CPU tensors -----------


def test_checkpoints_are_loaded_on_the_cpu_whatever_the_training_device(
    trained_run: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("map_location"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    state = engine_torch.load_torch_checkpoint(trained_run / "checkpoints" / "last.ckpt")
    assert seen == ["cpu"]
    rng = state["rng"]
    assert rng["torch"].device.type == "cpu" and rng["numpy"]["key"].device.type == "cpu"


def test_restoring_on_cuda_hands_only_cpu_byte_tensors_to_the_rng_setters(
    trained_run: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mocked: torch.cuda.set_rng_state (no GPU here). The state is loaded as for a CUDA run
    would be (on the meta device, where no tensor is CPU), then restored for a CUDA device."""
    _, payload = read_checkpoint(trained_run / "checkpoints" / "last.ckpt")
    state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    state["rng"]["device"] = torch.get_rng_state()  # what a CUDA run saves: a byte tensor
    cuda_calls = []
    monkeypatch.setattr(torch.cuda, "set_rng_state",
                        lambda value, device: cuda_calls.append((value, device)))
    cpu_calls = []
    real_set = torch.set_rng_state
    monkeypatch.setattr(torch, "set_rng_state",
                        lambda value: (cpu_calls.append(value), real_set(value)))
    engine_torch.restore_rng(state["rng"], torch.device("cuda", 0))
    for value in [*cpu_calls, *(value for value, _ in cuda_calls)]:
        assert value.device.type == "cpu" and value.dtype == torch.uint8
    assert len(cuda_calls) == 1 and cuda_calls[0][1] == torch.device("cuda", 0)


def test_only_the_training_devices_generator_is_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked: torch.cuda.get_rng_state and get_rng_state_all (no GPU here). A state saved on
    a 4-GPU machine must not hold the other three generators."""
    asked = []
    monkeypatch.setattr(torch.cuda, "get_rng_state",
                        lambda device: asked.append(device) or torch.zeros(16, dtype=torch.uint8))
    monkeypatch.setattr(torch.cuda, "get_rng_state_all",
                        lambda: pytest.fail("saved every GPU's generator"))
    state = engine_torch.rng_state(torch.device("cuda", 2))
    assert asked == [torch.device("cuda", 2)]
    assert state["device"].shape == (16,)
    assert engine_torch.rng_state(torch.device("cpu"))["device"] is None


# --- 2. and 3. the device is decided first, and a resume keeps its device -----------------


def test_device_cuda_without_a_gpu_fails_before_decoding_data_or_making_a_run_folder(
    tiny_spec: Path, images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("specc.train.session.load_dataset",
                        lambda *a, **k: pytest.fail("decoded the data before the device check"))
    out = tmp_path / "runs"
    code = main(["train", str(tiny_spec), "--data", str(images), "--out", str(out),
                 "--device", "cuda"])
    assert code == 2
    assert "--device cuda: PyTorch sees no CUDA device" in capsys.readouterr().err
    assert not out.exists()


def test_eval_with_device_cuda_without_a_gpu_fails_before_decoding_data(
    trained_run: Path, images: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("specc.train.eval_session.load_dataset",
                        lambda *a, **k: pytest.fail("decoded the data before the device check"))
    code = main(["eval", str(trained_run / "spec.yaml"), "--checkpoint", str(trained_run),
                 "--data", str(images), "--device", "cuda"])
    assert code == 2
    assert "--device cuda" in capsys.readouterr().err


def _record_device(run: Path, device: str) -> None:
    recipe = json.loads((run / "recipe.json").read_text())
    recipe["options"]["device"] = device
    (run / "recipe.json").write_text(json.dumps(recipe))


def test_a_run_recorded_on_cuda_resumes_on_cuda_or_says_why_not(
    trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Mocked: torch.cuda.is_available. A run that trained on cuda is never silently continued
    on the CPU: without a GPU it is one line, exit 2, naming --device cpu."""
    import shutil

    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    _record_device(run, "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("specc.train.session.load_dataset",
                        lambda *a, **k: pytest.fail("decoded the data before the device check"))
    code = main(["train", str(run / "spec.yaml"), "--resume", str(run)])
    err = capsys.readouterr().err
    assert code == 2
    assert "trained on cuda" in err and "--device cpu" in err


def test_a_resume_uses_the_recorded_device_unless_one_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mocked: torch.cuda.is_available (True: a GPU appears after a CPU run)."""
    from specc.train.common import RunOptions
    from specc.train.session import _resumed_options

    recorded = {"backend": "torch", "device": "cpu", "precision": "fp32", "compile": False,
                "limit_train": None, "limit_test": None, "peak_tflops": None,
                "nan_check_every": 50}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert _resumed_options(RunOptions(), recorded).device == "cpu"
    assert _resumed_options(RunOptions(device="cuda"), recorded).device == "cuda"
    assert _resumed_options(RunOptions(), {**recorded, "device": "cuda"}).device == "cuda"


def test_a_new_run_records_the_resolved_device(trained_run: Path) -> None:
    recipe = json.loads((trained_run / "recipe.json").read_text())
    assert recipe["options"]["device"] == "cpu"


# --- 4. the epoch plan is drawn on the CPU: the same on every device and in both engines --


def test_the_epoch_plan_is_the_same_on_every_device_and_in_both_engines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mocked: the device transfer (a 'cuda' device is recorded, the tensors stay here). No
    random number may be drawn on the device: the plan comes from the host."""
    from specc.train.engine_keras import plan_epoch as keras_plan

    moved_to = []
    real_to = torch.Tensor.to

    def to(self, *args, **kwargs):
        moved_to.append(args[0] if args else kwargs.get("device"))
        return real_to(self, "cpu")

    monkeypatch.setattr(torch.Tensor, "to", to)
    monkeypatch.setattr(torch, "Generator",
                        lambda *a, **k: pytest.fail("drew the plan with a device generator"))
    on_gpu = engine_torch.plan_epoch(50, 8, 6, 2, True, 7, 3, torch.device("cuda"))
    monkeypatch.undo()
    on_cpu = engine_torch.plan_epoch(50, 8, 6, 2, True, 7, 3, torch.device("cpu"))
    assert moved_to == [torch.device("cuda")] * 3
    host = draw_epoch_plan(50, 8, 6, 2, True, 7, 3)
    for name in ("order", "rows", "cols"):
        assert torch.equal(getattr(on_gpu, name), getattr(on_cpu, name))
        np.testing.assert_array_equal(getattr(on_cpu, name).numpy(), getattr(host, name))
    for torch_array, keras_array in zip((on_cpu.order, on_cpu.rows, on_cpu.cols),
                                        keras_plan(50, 8, 6, 2, True, 7, 3), strict=True):
        np.testing.assert_array_equal(torch_array.numpy(), keras_array)


# --- 5. bf16 only where the hardware computes it -------------------------------------------


@pytest.mark.parametrize(("gpu", "expected"), [
    (GpuCapability("NVIDIA H100 80GB HBM3", (9, 0), native_bf16=True), "bf16"),
    (GpuCapability("NVIDIA A100-SXM4-40GB", (8, 0), native_bf16=True), "bf16"),
    (GpuCapability("Tesla V100-SXM2-16GB", (7, 0), native_bf16=False), "fp16"),
    (GpuCapability("Tesla T4", (7, 5), native_bf16=False), "fp16"),
    (GpuCapability("Tesla P100-PCIE-16GB", (6, 0), native_bf16=False), "fp32"),
])
def test_gpus_that_only_emulate_bf16_get_fp16_or_fp32(gpu: GpuCapability, expected: str) -> None:
    choice = default_gpu_precision(gpu)
    assert choice.precision == expected
    assert gpu.name in choice.reason


def test_bf16_support_is_asked_without_emulation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked: the three CUDA queries, as a V100 answers them."""
    def is_bf16_supported(including_emulation: bool = True) -> bool:
        return including_emulation  # emulated only

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Tesla V100-SXM2-16GB")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=0: (7, 0))
    assert choose_precision("cuda", None).precision == "fp16"
    assert choose_precision("cuda", "fp32").precision == "fp32"


@pytest.mark.parametrize(("cpu", "expected"), [
    (CpuCapability("AVX512", avx512_bf16=True, amx=False), "bf16"),
    (CpuCapability("AVX512", avx512_bf16=True, amx=True), "bf16"),
    (CpuCapability("AVX512", avx512_bf16=False, amx=False), "fp32"),
    (CpuCapability("AVX2", avx512_bf16=False, amx=False), "fp32"),
])
def test_cpus_get_bf16_only_where_they_compute_it_natively(cpu: CpuCapability,
                                                           expected: str) -> None:
    choice = default_cpu_precision(cpu)
    assert choice.precision == expected
    assert cpu.isa in choice.reason


def test_environment_records_the_precision_and_why(trained_run: Path) -> None:
    environment = json.loads((trained_run / "environment.json").read_text())
    assert environment["precision"] == choose_precision("cpu", None).precision
    assert environment["precision_reason"] == choose_precision("cpu", None).reason
    assert environment["cpu_capability"]


# --- 6. evaluation never synchronises per batch ----------------------------------------------


def test_evaluation_builds_its_confusion_matrix_without_bincount(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bincount's output size depends on the data, so on CUDA it reads it back to the host
    (twice per batch). The matrix must come from a fixed-size index_add_ and still be right."""
    monkeypatch.setattr(torch, "bincount", lambda *a, **k: pytest.fail("bincount syncs"))
    images = np.random.default_rng(0).integers(0, 256, (37, 4, 4, 3), dtype=np.uint8)
    labels = np.arange(37) % 3
    data = engine_torch.DeviceData(images, labels, np.full(3, 0.5), np.full(3, 0.25),
                                   torch.device("cpu"))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 3))
    result = engine_torch.evaluate(model, data, 10, "fp32", ("a", "b", "c"))
    with torch.no_grad():
        predicted = model(data.to_input(data.images)).argmax(1).numpy()
    expected = np.zeros((3, 3), dtype=np.int64)
    np.add.at(expected, (labels, predicted), 1)
    np.testing.assert_array_equal(result.confusion, expected)


# --- 7. the GPU peak table ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "bf16", "tf32"), [
    ("NVIDIA H100 80GB HBM3", 989.4, 494.7),
    ("NVIDIA H100 PCIe", 756.0, 378.0),
    ("NVIDIA H100 NVL", 835.5, 417.5),
    ("NVIDIA H200", 989.4, 494.7),
    ("NVIDIA H200 NVL", 835.5, 417.5),
    ("NVIDIA GH200 480GB", 989.4, 494.7),
    ("NVIDIA A100-SXM4-80GB", 312.0, 156.0),
    ("NVIDIA L40S", 362.1, 183.0),
    ("NVIDIA L40", 181.0, 90.5),
    ("NVIDIA L4", 121.0, 60.0),
    ("NVIDIA A10", 125.0, 62.5),
    ("NVIDIA GeForce RTX 4090", 165.2, 82.6),
    ("NVIDIA GeForce RTX 3090", 71.0, 35.6),
    ("Tesla V100-SXM2-16GB", 125.0, 15.7),
    ("Tesla T4", 65.0, 8.1),
])
def test_every_gpu_name_finds_its_own_row(name: str, bf16: float, tf32: float) -> None:
    assert peak_flops(name, "bf16", None) == pytest.approx(bf16 * 1e12)
    assert peak_flops(name, "fp32", None) == pytest.approx(tf32 * 1e12)


def test_every_row_of_the_table_is_reachable() -> None:
    """A broader key listed first would shadow a more specific one."""
    for key, half, _ in GPU_PEAK_TFLOPS:
        assert peak_flops(f"NVIDIA {key}", "bf16", None) == pytest.approx(half * 1e12), key


@pytest.mark.parametrize("name", ["NVIDIA A100-SXM4-40GB MIG 1g.5gb",
                                  "NVIDIA H100 80GB HBM3 MIG 3g.40gb", "NVIDIA A10G",
                                  "NVIDIA H800", "x86_64"])
def test_mig_slices_and_unknown_devices_have_no_peak_unless_given(name: str) -> None:
    assert peak_flops(name, "bf16", None) is None
    assert peak_flops(name, "bf16", 100.0) == 100e12


# --- 8. torch.compile: evaluation runs the uncompiled module ------------------------------


def test_evaluation_uses_the_uncompiled_module(tiny_spec: Path, images: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    evaluated = []
    real_evaluate = engine_torch.evaluate

    def spy(model, *args, **kwargs):
        evaluated.append(model)
        return real_evaluate(model, *args, **kwargs)

    monkeypatch.setattr(engine_torch, "evaluate", spy)
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda module: compiled.append(module) or
                        _CountingWrapper(module))
    code = main(["train", str(tiny_spec), "--data", str(images), "--out", str(tmp_path / "r"),
                 "--epochs", "1", "--device", "cpu", "--compile"])
    assert code == 0
    assert len(compiled) == 1 and evaluated
    assert all(model is compiled[0] for model in evaluated)


class _CountingWrapper(torch.nn.Module):
    """Stands in for torch.compile's wrapper: calls the module (compiling takes minutes)."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)
