"""The second bad-input corpus (tests/bad_data/corpus.py): data archives, pickles, images,
checkpoints, run folders, paths and OS errors.

Every case runs through the real CLI in-process and as a real subprocess under a memory cap
(RLIMIT_AS) and a timeout; each asserts the exit code, the single stderr line, no traceback,
no run folder and no temporary file left, and that planted code never ran.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import resource
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from bad_data.corpus import CASES, MARKER, Assets, Case, make_assets
from train_support import TINY_SPEC, write_image_folder

from specc.cli import main
from specc.errors import SpeccError, one_line, shell_word

MEMORY_CAP = 3 << 30  # address space of a subprocess: torch imports within 1 GiB
TIMEOUT_S = 300  # generous for a shared 2-core machine; a hang never ends on its own
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assets]:
    root = tmp_path_factory.mktemp("bad_data_assets")
    patch = pytest.MonkeyPatch()
    (root / "cache").mkdir()
    patch.setenv("SPECC_DATA", str(root / "cache"))
    yield make_assets(root)
    patch.undo()


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("SPECC_DATA", str(tmp_path / "cache"))
    monkeypatch.chdir(folder)
    return folder


def _files(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def _check_outcome(case: Case, work: Path, before: set[str], code: int, out: str,
                   err: str) -> None:
    assert code == case.code, f"{case.name}: exit {code}, stderr {err!r}"
    assert "Traceback" not in out + err
    lines = err.splitlines()
    if case.line:
        assert len(lines) == 1, f"{case.name}: expected one line, got {lines!r}"
        # "specc: " leads a message that names no file of its own
        assert re.fullmatch(f"(specc: )?{case.line}", lines[0]), f"{case.name}: {lines[0]!r}"
    else:
        assert lines == []
    assert not (work / MARKER).exists(), f"{case.name}: planted code ran"
    new = _files(work) - before
    temporary = [name for name in new if Path(name).name.startswith(".")]
    assert not temporary, f"{case.name}: temporary files left: {temporary}"
    allowed = {"build", "build/tiny_torch.py"} if case.name == "planted_pycache" else set()
    if case.leaves_run:
        allowed |= {name for name in new if name.split(os.sep)[0] == "runs"}
        _check_diverged_run(work / "runs")
    assert new <= allowed, f"{case.name}: left {sorted(new - allowed)}"


def _check_diverged_run(runs: Path) -> None:
    (run,) = runs.iterdir()
    assert not (run / "checkpoints" / "last.ckpt").exists()  # no epoch was good
    assert not (run / "result.json").exists()
    for path in run.glob("*.json*"):
        for line in path.read_text().splitlines() if path.suffix == ".jsonl" else [
                path.read_text()]:
            json.loads(line, parse_constant=_refuse_constant)  # strict JSON: no NaN


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"non-standard JSON constant {name}")


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_in_process(name: str, assets: Assets, work: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    case = BY_NAME[name]
    argv = case.build(work, assets)
    before = _files(work)
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    _check_outcome(case, work, before, code, captured.out, captured.err)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _subprocess_params() -> list[object]:
    """One case per attack class in `make test`; the rest under `make test-exhaustive`."""
    first_of_class = {}
    for case in CASES:
        first_of_class.setdefault(case.attack, case.name)
    return [pytest.param(name, marks=() if name in first_of_class.values()
                         else pytest.mark.exhaustive) for name in sorted(BY_NAME)]


@pytest.mark.slow
@pytest.mark.parametrize("name", _subprocess_params())
def test_as_a_subprocess(name: str, assets: Assets, work: Path) -> None:
    case = BY_NAME[name]
    argv = case.build(work, assets)
    before = _files(work)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "specc", *argv], cwd=work, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_S,
                            preexec_fn=_capped, check=False)
    _check_outcome(case, work, before, result.returncode, result.stdout, result.stderr)


def test_every_attack_class_has_cases() -> None:
    attacks = {case.attack for case in CASES}
    assert attacks == {
        "planted code", "not a regular file", "damaged archive", "size bomb", "wrong format",
        "wrong contents", "checkpoint from elsewhere", "run folder from elsewhere",
        "cannot train", "divergence", "OS error", "one line",
    }


# --- what the corpus cannot express as a command line --------------------------------------


def test_an_internal_error_is_one_line_naming_a_report(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from specc.commands import validate

    def broken(args: object) -> int:
        raise RuntimeError("a bug\nwith a second line")

    monkeypatch.setattr(validate, "run", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert main(["validate", "x.yaml"]) == 3
    (line,) = capsys.readouterr().err.splitlines()
    found = re.fullmatch(r"specc: internal error, a bug in specc \(RuntimeError: a bug\); the "
                         r"full report is in (.+specc-crash-.+\.txt)", line)
    assert found, line
    report = Path(found.group(1)).read_text()
    assert "Traceback" in report and "with a second line" in report


def test_a_full_disk_after_the_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The epoch's checkpoint is written, then the disk is full for the metrics: one line
    naming the file, exit 2, the checkpoint intact and no temporary file anywhere."""
    import specc.files
    from specc.train.checkpoint import read_checkpoint

    class FullDiskForMetrics:
        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

        @staticmethod
        def fsync(handle: int) -> None:
            if ".metrics.jsonl." in os.readlink(f"/proc/self/fd/{handle}"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(handle)

    monkeypatch.setenv("SPECC_DATA", str(tmp_path))
    monkeypatch.setattr(specc.files, "os", FullDiskForMetrics())
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    data = write_image_folder(tmp_path / "images", train=64, test=32)
    code = main(["train", str(spec), "--data", str(data), "--out", str(tmp_path / "runs"),
                 "--epochs", "1", "--device", "cpu"])
    assert code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r".+/runs/tiny-[\d-]+/metrics\.jsonl: no space left on the device",
                        line), line
    (run,) = (tmp_path / "runs").iterdir()
    assert read_checkpoint(run / "checkpoints" / "last.ckpt")[0] == "torch"
    assert [p for p in run.rglob(".*")] == []


def test_a_damaged_decoded_data_cache_is_rebuilt(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from specc.train.data import _cache_path, load_dataset

    monkeypatch.setenv("SPECC_DATA", str(tmp_path))
    data = write_image_folder(tmp_path / "images", train=16, test=8)
    first = load_dataset(data)
    cache = _cache_path(data)
    assert cache.is_file()
    arrays = dict(np.load(cache))
    arrays["y_train"] = arrays["y_train"] + 100  # labels no class has
    with open(cache, "wb") as out:
        np.savez(out, **arrays)
    again = load_dataset(data)
    assert np.array_equal(again.y_train, first.y_train)
    cache.write_bytes(b"PK\x03\x04 not a zip")
    assert np.array_equal(load_dataset(data).x_train, first.x_train)


def _npz_with_header(shape: tuple[int, ...], data: bytes) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": shape})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model_0.npy", header.getvalue() + data)
        meta = io.BytesIO()
        np.save(meta, np.array("{}"))
        archive.writestr("meta.npy", meta.getvalue())
    return buffer.getvalue()


class _Variable:
    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape, self.dtype = shape, "float32"


def test_a_keras_checkpoint_declaring_a_huge_array_allocates_nothing() -> None:
    from specc.train.engine_keras import arrays_from_payload

    payload = _npz_with_header((1 << 40,), bytes(16))  # 4 TiB declared, 16 bytes present
    with pytest.raises(SpeccError, match=r"ckpt: array 'model_0' has shape \(1099511627776,\), "
                                         r"expected \(4,\)"):
        arrays_from_payload(payload, "ckpt", [_Variable((4,))])
    payload = _npz_with_header((4,), bytes(8))  # the right shape, half the bytes
    with pytest.raises(SpeccError, match="holds a different number of bytes than its header"):
        arrays_from_payload(payload, "ckpt", [_Variable((4,))])


def test_two_builds_of_one_name_into_one_folder_at_once(tmp_path: Path) -> None:
    """Different specs with the same name, built concurrently into one --out: each gate
    checks and runs its own source, so both pass with their own parameter counts."""
    wide = TINY_SPEC.replace("filters: 8", "filters: 16")
    (tmp_path / "a.yaml").write_text(TINY_SPEC)
    (tmp_path / "b.yaml").write_text(wide)
    runs = [subprocess.Popen([sys.executable, "-m", "specc", "build", name, "--backend", "torch",
                              "--out", "out"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for name in ("a.yaml", "b.yaml")]
    outputs = [run.communicate(timeout=TIMEOUT_S) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert "conv1" in outputs[0][0] and "conv1" in outputs[1][0]
    assert not (tmp_path / "out" / "__pycache__").exists()


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    from PIL import Image

    from specc.train.data import decode_image

    values = np.array([[0, 255, 256, 40000], [65535, 1000, 30000, 12]], dtype=np.uint16)
    buffer = io.BytesIO()
    Image.frombytes("I;16", (4, 2), values.astype("<u2").tobytes()).save(buffer, format="PNG")
    pixels = decode_image(buffer.getvalue(), "grey16.png")
    assert pixels.shape == (2, 4, 3)
    assert np.array_equal(pixels[:, :, 0], (values >> 8).astype(np.uint8))
    assert np.array_equal(pixels[:, :, 0], pixels[:, :, 2])


def test_one_line_and_shell_words() -> None:
    assert one_line("a\nb\x1b[31m\u2028") == "a\\nb\\x1b[31m\\u2028"
    assert shell_word("runs/my run") == "'runs/my run'"
    word = shell_word("runs/it's\nhere")
    assert "\n" not in word
    assert subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True,
                          check=True).stdout == b"runs/it's\nhere"


def test_non_finite_weights_at_an_epoch_end_are_divergence(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Weights that became infinite without a NaN training loss yet (checked every step only
    on the device): the epoch's end refuses to save them and exits 1; `specc eval` of a
    checkpoint holding such weights exits 1 too."""
    import torch

    from specc.train import engine_torch

    original = engine_torch.TorchTrainer.evaluate

    def poisoned(self: engine_torch.TorchTrainer) -> object:
        with torch.no_grad():
            self.model.conv1.weight[0, 0, 0, 0] = float("inf")
        return original(self)

    monkeypatch.setenv("SPECC_DATA", str(tmp_path))
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    data = write_image_folder(tmp_path / "images", train=64, test=32)
    argv = ["train", str(spec), "--data", str(data), "--out", str(tmp_path / "runs"),
            "--epochs", "2", "--device", "cpu"]
    assert main(argv) == 0  # a good run first, for a good checkpoint to evaluate and poison
    (good,) = (tmp_path / "runs").iterdir()
    capsys.readouterr()
    monkeypatch.setattr(engine_torch.TorchTrainer, "evaluate", poisoned)
    assert main([*argv[:-4], "--out", str(tmp_path / "bad_runs"), "--epochs", "1"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"specc: training diverged in epoch 1: the test loss is (nan|inf) and the "
                        r"weights hold NaN or infinite values; stopped without saving \(no epoch "
                        r"completed before, so there is no checkpoint\); try a lower --lr", line)
    (bad,) = (tmp_path / "bad_runs").iterdir()
    assert not (bad / "checkpoints" / "last.ckpt").exists()
    monkeypatch.undo()

    from specc.train.checkpoint import read_checkpoint, write_checkpoint

    _, payload = read_checkpoint(good / "checkpoints" / "last.ckpt")
    state = torch.load(io.BytesIO(payload), weights_only=True)
    state["model"]["conv1.weight"][0, 0, 0, 0] = float("nan")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_checkpoint(tmp_path / "nan.ckpt", "torch", buffer.getvalue())
    monkeypatch.setenv("SPECC_DATA", str(tmp_path))
    assert main(["eval", str(spec), "--checkpoint", str(tmp_path / "nan.ckpt"), "--data",
                 str(data), "--out", str(tmp_path / "eval"), "--device", "cpu"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("nan.ckpt: the model's weights hold NaN or infinite values (the run "
                         "diverged); nothing to evaluate")
    assert not (tmp_path / "eval" / "eval.json").exists()
