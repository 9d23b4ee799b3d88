"""`specc export`: every format reproduces the PyTorch model (softmax and normalization
included), from a checkpoint of either backend or a fresh model; bad input writes nothing."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from train_support import TINY_SPEC, train_tiny_runs

from specc.cli import main

onnxruntime = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

TOLERANCE = 1e-4


def relative(expected: np.ndarray, actual: np.ndarray) -> float:
    assert expected.shape == actual.shape
    scale = max(float(np.abs(expected).max()), 1e-6)
    return float(np.abs(expected.astype(np.float64) - actual).max()) / scale


def pixels(shape: tuple[int, ...], batch: int = 5, seed: int = 7) -> np.ndarray:
    """Whole-number pixels 0 to 255, as image files hold them (float32)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (batch, *shape)).astype(np.float32)


def run_onnx(path: Path | bytes, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(
        str(path) if isinstance(path, Path) else path, providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(None, {name: x})[0]


def torch_reference(model: torch.nn.Module, x_nhwc: np.ndarray, mean: np.ndarray,
                    std: np.ndarray) -> np.ndarray:
    """The generated PyTorch model on pixels normalised by hand, as training feeds it."""
    x = (x_nhwc.astype(np.float64) / 255.0 - mean) / std
    batch = torch.from_numpy(x.astype(np.float32).transpose(0, 3, 1, 2).copy())
    with torch.inference_mode():
        return model.eval()(batch).numpy()


# --- every spec in specs/, through onnxruntime ----------------------------------------------

def randomise_statistics(model: torch.nn.Module, seed: int) -> None:
    """Random biases and normalisation statistics, so that every array is exercised."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith(("bias", "running_mean")):
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.2)
            elif name.endswith(("running_var", "weight")) and tensor.ndim == 1:
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)


@pytest.mark.slow
def test_onnxruntime_matches_pytorch_for_every_spec(spec_path: Path, tmp_path: Path) -> None:
    from specc.export.formats import onnx_bytes
    from specc.export.job import job_for
    from specc.export.trained import Trained, load_trained
    from specc.spec.load import load_spec

    loaded = load_spec(spec_path)
    fresh = load_trained(loaded, None, None, tmp_path)
    randomise_statistics(fresh.model, seed=3)
    channels = loaded.spec.input.shape[-1]
    mean, std = np.linspace(0.3, 0.5, channels), np.linspace(0.2, 0.3, channels)
    trained = Trained(fresh.model, mean, std, "test")
    nhwc = spec_path.stem != "cifar_small"  # one spec in NCHW, the rest as Keras holds images
    job = job_for(loaded, trained, nhwc, tmp_path / "model.onnx", tmp_path)
    x = pixels(tuple(loaded.spec.input.shape), batch=3)
    expected = torch_reference(fresh.model, x, mean, std)
    actual = run_onnx(onnx_bytes(job), x if nhwc else np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    assert relative(expected, actual) <= TOLERANCE
    assert np.allclose(actual.sum(axis=1), 1.0, atol=1e-5)  # the final softmax is inside


# --- a trained checkpoint of each backend ---------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("export")
    (root / "cache").mkdir()
    patch = pytest.MonkeyPatch()
    patch.setenv("SPECC_DATA", str(root / "cache"))
    yield train_tiny_runs(root, train=128, test=32)
    patch.undo()


def checkpoint_reference(trained: dict[str, Path], backend: str, x: np.ndarray) -> np.ndarray:
    """What the checkpoint's own framework outputs (softmax included) on pixels 0 to 255."""
    from specc.backends.gate import build_checked
    from specc.spec.load import load_spec
    from specc.train.checkpoint import read_checkpoint

    loaded = load_spec(trained["spec"])
    checkpoint = trained[backend] / "checkpoints" / "last.ckpt"
    _, payload = read_checkpoint(checkpoint)
    folder = checkpoint.parent.parent / "reference"
    if backend == "torch":
        from specc.train.engine_torch import state_from_payload

        state = state_from_payload(payload, checkpoint)
        model = build_checked(loaded, "torch", folder).model
        model.load_state_dict(state["model"])
        norm = state["normalization"]
        return torch_reference(model, x, np.asarray(norm["mean"]), np.asarray(norm["std"]))
    from specc.train.engine_keras import arrays_from_payload, assign_variables

    model = build_checked(loaded, "keras", folder).model
    arrays, meta = arrays_from_payload(payload, checkpoint, model.variables)
    assign_variables(model.variables, arrays, "model")
    mean, std = np.asarray(meta["normalization"]["mean"]), np.asarray(meta["normalization"]["std"])
    normalised = ((x.astype(np.float64) / 255.0 - mean) / std).astype(np.float32)
    return np.asarray(model(normalised, training=False))


def export(trained: dict[str, Path], backend: str, output: Path, *extra: str) -> None:
    assert main(["export", str(trained["spec"]), "--checkpoint", str(trained[backend]),
                 "-o", str(output), *extra]) == 0


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_onnx_export_of_a_trained_checkpoint(backend: str, trained: dict[str, Path],
                                             tmp_path: Path) -> None:
    x = pixels((8, 8, 3))
    expected = checkpoint_reference(trained, backend, x)
    export(trained, backend, tmp_path / "tiny.onnx")
    assert relative(expected, run_onnx(tmp_path / "tiny.onnx", x)) <= TOLERANCE
    export(trained, backend, tmp_path / "nchw.onnx", "--layout", "nchw")
    x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    assert relative(expected, run_onnx(tmp_path / "nchw.onnx", x_nchw)) <= TOLERANCE
    # a dynamic batch: one image, and many
    assert run_onnx(tmp_path / "tiny.onnx", x[:1]).shape == (1, 4)
    assert run_onnx(tmp_path / "tiny.onnx", np.repeat(x, 20, axis=0)).shape == (100, 4)


def test_an_onnx_export_is_reproducible(trained: dict[str, Path], tmp_path: Path) -> None:
    """The same weights give the same bytes (no trace of the export's temporary folder)."""
    export(trained, "torch", tmp_path / "a.onnx")
    export(trained, "torch", tmp_path / "b.onnx")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_keras_export_loads_with_load_model_and_matches(backend: str, trained: dict[str, Path],
                                                        tmp_path: Path) -> None:
    import keras

    x = pixels((8, 8, 3))
    expected = checkpoint_reference(trained, backend, x)
    export(trained, backend, tmp_path / "tiny.keras")
    model = keras.models.load_model(tmp_path / "tiny.keras")
    assert relative(expected, np.asarray(model.predict(x, verbose=0))) <= TOLERANCE


@pytest.mark.parametrize("name", ["pixels", "pixel_normalization"])
def test_keras_export_of_a_spec_named_like_the_wrappers_layers(name: str, tmp_path: Path) -> None:
    """The nested model takes the spec's name; the input and normalization layers beside it
    have fixed names, and Keras refuses two layers of one name."""
    import keras

    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY_SPEC.replace("name: tiny", f"name: {name}"))
    assert main(["export", str(spec), "-o", str(tmp_path / "m.keras")]) == 0
    model = keras.models.load_model(tmp_path / "m.keras")
    assert model.input.name == "pixels" and model.output.shape == (None, 4)


def test_torch_export_loads_in_one_line(trained: dict[str, Path], tmp_path: Path) -> None:
    x = pixels((8, 8, 3))
    expected = checkpoint_reference(trained, "torch", x)
    export(trained, "torch", tmp_path / "tiny_model.pt")
    np.save(tmp_path / "x.npy", x)
    line = ("from tiny_model import load; import numpy, torch, json; "
            "print(json.dumps(load()(torch.from_numpy(numpy.load('x.npy'))).tolist()))")
    done = subprocess.run([sys.executable, "-c", line], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert relative(expected, np.array(json.loads(done.stdout), dtype=np.float32)) <= TOLERANCE


def test_safetensors_export_holds_the_checkpoint_weights(trained: dict[str, Path],
                                                         tmp_path: Path) -> None:
    from safetensors import safe_open

    from specc.train.engine_torch import load_torch_checkpoint

    export(trained, "torch", tmp_path / "tiny.safetensors")
    state = load_torch_checkpoint(trained["torch"] / "checkpoints" / "last.ckpt")
    with safe_open(tmp_path / "tiny.safetensors", framework="np") as file:
        names = set(file.keys())
        assert file.metadata()["specc_spec"] == "tiny"
        for name, tensor in state["model"].items():
            assert np.array_equal(file.get_tensor(f"model.{name}"), tensor.numpy()), name
        mean = np.asarray(state["normalization"]["mean"], dtype=np.float32)
        std = np.asarray(state["normalization"]["std"], dtype=np.float32)
        np.testing.assert_allclose(file.get_tensor("pixel_shift").ravel(), -mean / std,
                                   rtol=1e-6)
        np.testing.assert_allclose(file.get_tensor("pixel_scale").ravel(), 1 / (255 * std),
                                   rtol=1e-6)
    assert names == {f"model.{name}" for name in state["model"]} | {"pixel_scale", "pixel_shift"}


def test_a_fresh_export_is_the_model_training_starts_from(trained: dict[str, Path],
                                                          tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    """Without --checkpoint: the recipe's seed, and --data's statistics for normalization."""
    assert main(["export", str(trained["spec"]), "-o", str(tmp_path / "a.safetensors")]) == 0
    assert "divides pixels by 255 only" in capsys.readouterr().out
    assert main(["export", str(trained["spec"]), "-o", str(tmp_path / "b.safetensors"),
                 "--data", str(trained["data"])]) == 0
    from safetensors.numpy import load_file

    a, b = load_file(tmp_path / "a.safetensors"), load_file(tmp_path / "b.safetensors")
    assert np.array_equal(a["model.conv1.weight"], b["model.conv1.weight"])
    assert np.array_equal(a["pixel_shift"], np.zeros_like(a["pixel_shift"]))
    assert not np.array_equal(b["pixel_shift"], a["pixel_shift"])


def edited_checkpoint(trained: dict[str, Path], path: Path, edit: Callable[[dict], None]) -> Path:
    """The trained PyTorch checkpoint with `edit` applied to its state, checksum and all valid:
    a checkpoint from elsewhere."""
    from specc.train.checkpoint import write_checkpoint
    from specc.train.engine_torch import load_torch_checkpoint

    state = load_torch_checkpoint(trained["torch"] / "checkpoints" / "last.ckpt")
    edit(state)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_checkpoint(path, "torch", buffer.getvalue())
    return path

def test_a_checkpoint_with_nan_weights_is_refused_as_diverged(
        trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A checkpoint from elsewhere can hold NaN weights; the export says so, as `specc eval`
    does, instead of reporting a failed comparison of NaN outputs."""
    def poison(state: dict) -> None:
        state["model"]["conv1.weight"][0, 0, 0, 0] = float("nan")

    checkpoint = edited_checkpoint(trained, tmp_path / "nan.ckpt", poison)
    output = tmp_path / "m.onnx"
    assert main(["export", str(trained["spec"]), "--checkpoint", str(checkpoint),
                 "-o", str(output)]) == 1  # as `specc eval`'s refusal: a diverged run
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "NaN or infinite values" in err, err
    assert not output.exists()


def test_an_output_name_of_250_bytes_is_written(trained: dict[str, Path], tmp_path: Path) -> None:
    """The temporary file beside it fits the 255 bytes a file name may have, as the name does."""
    output = tmp_path / ("m" * (250 - len(".safetensors")) + ".safetensors")
    assert main(["export", str(trained["spec"]), "-o", str(output)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [output.name]


@pytest.mark.parametrize("umask", [0o077, 0o022])
def test_an_export_is_created_with_the_umask_s_mode(umask: int, trained: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """As any new file: a user whose umask keeps files private gets a private model."""
    previous = os.umask(umask)
    try:
        assert main(["export", str(trained["spec"]), "-o", str(tmp_path / "model.pt")]) == 0
    finally:
        os.umask(previous)
    for name in ("model.pt", "model.py"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name


def test_a_spec_edited_since_training_names_the_run_s_copy(
        trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Even a new comment makes another text; the run folder keeps the one it was trained from."""
    edited = tmp_path / "tiny.yaml"
    edited.write_text("# exported for the demo\n" + trained["spec"].read_text())
    assert main(["export", str(edited), "--checkpoint", str(trained["torch"]),
                 "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"; {trained['torch'] / 'spec.yaml'} holds the text it was trained from")
    assert len(err.splitlines()) == 1 and not (tmp_path / "m.onnx").exists()


def test_a_normalization_that_overflows_is_named_not_reported_as_a_mismatch(
        trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A checkpoint from elsewhere with a positive but tiny std: finite weights, infinite
    outputs; the comparison of two NaN outputs said nothing about why."""
    checkpoint = edited_checkpoint(trained, tmp_path / "tiny_std.ckpt", lambda state: state.update(
        normalization={"mean": [0.5] * 3, "std": [1e-300] * 3}))
    output = tmp_path / "m.onnx"
    assert main(["export", str(trained["spec"]), "--checkpoint", str(checkpoint),
                 "-o", str(output)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds NaN or infinite values" in err, err
    assert not output.exists()


# --- bad input: one line, exit 2, nothing written -------------------------------------------

def bad_cases(trained: dict[str, Path], root: Path) -> list[tuple[list[str], str]]:
    spec, torch_run = str(trained["spec"]), str(trained["torch"])
    other = root / "other.yaml"
    other.write_text(TINY_SPEC.replace("name: tiny", "name: tiny2"))
    junk = root / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint at all" * 10)
    one_channel = edited_checkpoint(trained, root / "one_channel.ckpt", lambda state: state.update(
        normalization={"mean": [0.5], "std": [0.25]}))
    out = root / "out"
    huge = root / "huge.yaml"  # 600M parameters: 2.2 GiB as float32
    huge.write_text("name: huge\ninput: {shape: [40000]}\n"
                    "layers: [{name: dense, type: Dense, units: 15000}]\n")
    (root / "train.py").write_text("print('the user's own script')\n")
    return [
        ([spec, "--checkpoint", str(root / "missing.ckpt"), "-o", f"{out}/m.onnx"],
         "no such checkpoint"),
        ([str(other), "--checkpoint", torch_run, "-o", f"{out}/m.onnx"],
         "trained from spec 'tiny' with a different text"),
        ([spec, "--checkpoint", str(junk), "-o", f"{out}/m.onnx"], "not a specc checkpoint"),
        ([spec, "--checkpoint", torch_run, "--data", str(trained["data"]), "-o",
          f"{out}/m.onnx"], "give --data only without --checkpoint"),
        ([spec, "--checkpoint", str(one_channel), "-o", f"{out}/m.onnx"],
         "`normalization` holds 1 channel(s), the spec's input has 3"),
        ([spec, "-o", f"{out}/missing/m.onnx"], "does not exist; create it first"),
        ([spec, "-o", f"{spec}/m.onnx"], f"{spec} is a file, not a folder"),
        ([spec, "-o", f"{out}/m.tflite"], "cannot tell the format from the suffix"),
        ([spec, "--format", "tflite", "-o", f"{out}/m.tflite"], "invalid choice: 'tflite'"),
        ([spec, "--format", "keras", "-o", f"{out}/m.onnx"], "expected a name ending in .keras"),
        ([spec, "--layout", "nchw", "-o", f"{out}/m.keras"], "--format keras takes no layout"),
        ([spec, "-o", f"{out}/my-model.pt"], "Python cannot import by that name"),
        ([spec, "-o", f"{out}/class.pt"], "Python cannot import by that name"),
        ([spec, "-o", f"{out}/torch.pt"], "would shadow the module `torch`"),
        ([spec, "-o", f"{out}/copy.pt"], "would shadow the module `copy`"),
        ([spec, "-o", f"{root}/train.pt"], "exists and was not written by specc"),
        ([spec, "-o", str(out)], "cannot tell the format"),
        ([spec, "-o", "-"], "not standard output"),
        ([spec, "--format", "onnx", "-o", "-"], "not standard output"),
        ([str(root / "nope.yaml"), "-o", f"{out}/m.onnx"], "nope.yaml: no such file"),
        ([str(out), "-o", f"{out}/m.onnx"], "is a directory; give the spec files in it"),
        ([str(huge), "-o", f"{out}/m.onnx"], "over the 2 GiB ONNX keeps in one file"),
    ]


def test_an_onnx_model_protobuf_cannot_measure_is_one_line(tmp_path: Path) -> None:
    """Over 2 GiB, protobuf raises EncodeError from ByteSize itself (a model whose weights are
    under the limit but whose graph is not); building such a model takes gigabytes, so a
    message that fails as protobuf does stands in for it."""
    from google.protobuf.message import EncodeError

    from specc.errors import SpeccError
    from specc.export.formats import _serialized

    class OverTheLimit:
        def ByteSize(self) -> int:
            raise EncodeError("Failed to serialize proto")

    with pytest.raises(SpeccError, match="over the 2 GiB ONNX keeps in one file"):
        _serialized(OverTheLimit(), tmp_path / "m.onnx")


def exit_code(args: list[str]) -> int:
    """main()'s exit code; argparse's usage errors exit through SystemExit."""
    try:
        return main(args)
    except SystemExit as stop:
        return int(stop.code)


def test_bad_input_is_one_line_exit_2_and_nothing_written(
        trained: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "out").mkdir()
    for args, message in bad_cases(trained, tmp_path):
        assert exit_code(["export", *args]) == 2, args
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and message in err, (args, err)
        assert list((tmp_path / "out").iterdir()) == [], args
    assert (tmp_path / "train.py").read_text() == "print('the user's own script')\n"
    assert not (tmp_path / "train.pt").exists()


def test_bad_input_in_a_subprocess_has_no_traceback(trained: dict[str, Path],
                                                    tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    args, message = bad_cases(trained, tmp_path)[1]  # a foreign checkpoint: read, then refused
    done = subprocess.run([sys.executable, "-m", "specc", "export", *args], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and message in done.stderr
    assert "Traceback" not in done.stderr and list((tmp_path / "out").iterdir()) == []


def test_without_the_interop_extra_one_line_names_it(trained: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # `import onnxscript` now fails
    assert main(["export", str(trained["spec"]), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs onnxscript" in err and "pip install 'specc[interop]'" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("suffix", [".keras", ".pt"])
def test_a_failed_check_leaves_the_previous_file_untouched(
        suffix: str, trained: dict[str, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The check runs before the rename: a file that fails it never replaces the old one."""
    from specc.export import formats

    output = tmp_path / f"tiny{suffix}"
    output.write_bytes(b"the previous export")
    monkeypatch.setattr(formats, "TOLERANCE", -1.0)  # no difference passes
    assert main(["export", str(trained["spec"]), "--checkpoint", str(trained["torch"]),
                 "-o", str(output)]) == 1
    assert output.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == [output.name]
