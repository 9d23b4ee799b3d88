"""`specc import keras`: a Keras model to a spec with the model's own figures, its weights,
and the round trip: import, port to PyTorch with those weights, same outputs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from specc.cli import main
from specc.spec.load import load_spec

MODELS = "keras_import_models"


def _import(tmp_path: Path, model: str, *extra: str) -> tuple[int, Path, Path]:
    spec = tmp_path / "imported.yaml"
    weights = tmp_path / "imported.safetensors"
    code = main(["import", "keras", model, "-o", str(spec), "--weights", str(weights), *extra])
    return code, spec, weights


def test_import_reproduces_every_figure_and_translates_what_it_must(tmp_path: Path) -> None:
    code, spec_path, weights = _import(tmp_path, f"{MODELS}:squeeze_excite")
    assert code == 0
    loaded = load_spec(spec_path)
    types = {layer.name: layer.type for layer in loaded.spec.layers}
    assert types["add"] == "Rescaling"  # x + 3.0
    assert types["multiply_1"] == "Multiply"  # x * gate, a broadcast between tensors
    assert types["layer_scale"] == "DepthwiseConv2D"
    assert types["scaled_sum_scaled"] == "Rescaling" and types["scaled_sum"] == "Add"
    assert "inner_conv" in types and "inner" not in types  # the nested model is inlined
    frozen = {layer.name for layer in loaded.spec.layers if not layer.trainable}
    assert frozen == {"stem", "frozen_bn"}
    text = spec_path.read_text()
    assert "# translated from the Keras operation `x + 3.0`" in text
    assert "translated from ConvNeXt's LayerScale" in text
    assert "kernel_initializer: {class_name: VarianceScaling, scale: 2.0, mode: fan_out}" in text
    # Every layer carries the Keras model's figures, and specc's inference meets them all.
    assert all(layer.expect is not None and layer.expect.shape is not None
               for layer in loaded.spec.layers)
    from specc.expectations import check_expectations

    assert all(check.met for check in check_expectations(loaded))
    assert weights.is_file()


def _load_generated(path: Path) -> object:
    module_spec = importlib.util.spec_from_file_location(f"ported_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _assert_port_computes(keras_model: object, spec_path: Path, weights: Path, out: Path,
                          batch: np.ndarray) -> None:
    """Port in one build, load in the one documented line: the PyTorch model's outputs are
    the Keras model's within 1e-4 relative (float32, inference mode)."""
    import torch

    assert main(["build", str(spec_path), "--backend", "torch", "--weights", str(weights),
                 "--out", str(out)]) == 0
    name = load_spec(spec_path).spec.name
    ported = _load_generated(out / f"{name}_torch.py").build_model()
    ported.load_state_dict(torch.load(out / f"{name}_torch.pt"))
    ported.eval()
    expected = np.asarray(keras_model(batch, training=False))
    with torch.no_grad():
        images = batch.ndim == 4  # the PyTorch model takes images channels-first
        actual = ported(torch.from_numpy(batch.transpose(0, 3, 1, 2).copy() if images
                                         else batch)).numpy()
    assert np.max(np.abs(actual - expected)) <= 1e-4 * np.max(np.abs(expected))


def test_round_trip_pytorch_port_computes_the_keras_model(tmp_path: Path) -> None:
    """Import, port in one build, load in one line: the PyTorch model's outputs are the
    original Keras model's within 1e-4 relative (float32, inference mode)."""
    from keras_import_models import squeeze_excite

    code, spec_path, weights = _import(tmp_path, f"{MODELS}:squeeze_excite")
    assert code == 0
    out = tmp_path / "build"
    batch = np.random.default_rng(0).normal(size=(4, 12, 12, 3)).astype(np.float32)
    # seeded: squeeze_excite() is the very model the importer read
    _assert_port_computes(squeeze_excite(), spec_path, weights, out, batch)
    # Parity of the two generated models with the imported weights holds too.
    assert main(["parity", str(spec_path), "--weights", str(weights), "--out", str(out)]) == 0


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_keras_file_imports_with_its_weights(suffix: str, tmp_path: Path) -> None:
    import keras
    from keras import layers

    inputs = keras.Input((6, 6, 2), name="pixels")
    x = layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = layers.Flatten()(x)
    model = keras.Model(inputs, layers.Dense(4, name="head")(x), name="saved")
    model.save(tmp_path / f"saved{suffix}")
    code, spec_path, weights = _import(tmp_path, str(tmp_path / f"saved{suffix}"))
    assert code == 0
    from safetensors.numpy import load_file

    arrays = load_file(str(weights))
    umask = os.umask(0o022)
    os.umask(umask)
    assert weights.stat().st_mode & 0o777 == 0o666 & ~umask == spec_path.stat().st_mode & 0o777
    np.testing.assert_array_equal(arrays["conv/kernel"], model.get_layer("conv").kernel.numpy())
    assert set(arrays) == {"conv/kernel", "conv/bias", "head/kernel", "head/bias"}
    assert load_spec(spec_path).spec.input.name == "pixels"


def _nested_model():  # a functional model holding a Sequential one, as transfer learning writes it
    import keras
    from keras import layers

    backbone = keras.Sequential([layers.Input((8, 8, 3)), layers.Conv2D(4, 3, name="bb_conv"),
                                 layers.BatchNormalization(name="bb_bn")], name="backbone")
    backbone.trainable = False
    inputs = keras.Input((8, 8, 3), name="pixels")
    x = backbone(inputs)
    gate = layers.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)
    x = layers.Multiply(name="excite")([x, layers.Activation("sigmoid", name="gate")(gate)])
    outputs = layers.Dense(3, name="head")(layers.Flatten(name="flat")(x))
    return keras.Model(inputs, outputs, name="nested")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_keras_file_with_a_nested_model_is_inlined_and_ported(
    suffix: str, tmp_path: Path
) -> None:

    model = _nested_model()
    _randomise_statistics(model)
    model.save(tmp_path / f"nested{suffix}")
    code, spec_path, weights = _import(tmp_path, str(tmp_path / f"nested{suffix}"))
    assert code == 0
    loaded = load_spec(spec_path)
    names = [layer.name for layer in loaded.spec.layers]
    assert "backbone" not in names and {"bb_conv", "bb_bn", "excite"} <= set(names)
    assert {layer.name for layer in loaded.spec.layers if not layer.trainable} == {
        "bb_conv", "bb_bn"}
    from specc.expectations import check_expectations

    assert all(check.met for check in check_expectations(loaded))
    batch = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype(np.float32)
    _assert_port_computes(model, spec_path, weights, tmp_path / "build", batch)


def _randomise_statistics(model: object) -> None:
    """Non-trivial BatchNormalization statistics, so that a weight left behind shows."""
    rng = np.random.default_rng(0)
    for weight in model.weights:
        if "moving" in weight.path or "bias" in weight.path or "beta" in weight.path:
            weight.assign(rng.uniform(0.5, 1.5, weight.shape).astype(np.float32))


def test_an_h5_file_with_an_unknown_custom_layer_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from keras_import_models import custom_layer

    custom_layer().save(tmp_path / "custom.h5")
    out = tmp_path / "out"
    out.mkdir()
    code = main(["import", "keras", str(tmp_path / "custom.h5"), "-o", str(out / "spec.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "custom.h5" in err and "Doubling" in err
    assert list(out.iterdir()) == []


def test_a_variable_input_size_needs_input_shape(tmp_path: Path, capsys) -> None:
    code, spec_path, _ = _import(tmp_path, f"{MODELS}:variable_size")
    assert code == 2
    assert "--input-shape" in capsys.readouterr().err
    assert not spec_path.exists()
    code, spec_path, _ = _import(tmp_path, f"{MODELS}:variable_size", "--input-shape", "9,7,3")
    assert code == 0
    assert load_spec(spec_path).spec.input.shape == (9, 7, 3)


def test_a_sequential_never_built_is_built_with_input_shape(tmp_path: Path) -> None:
    code, spec_path, _ = _import(tmp_path, f"{MODELS}:unbuilt_sequential", "--input-shape", "6,5,3")
    assert code == 0
    spec = load_spec(spec_path)
    assert spec.spec.input.shape == (6, 5, 3)
    assert [layer.name for layer in spec.spec.layers] == ["conv", "flat", "head"]
    assert spec.info.total_params == (3 * 3 * 3 * 4 + 4) + (4 * 3 * 4 * 2 + 2)


def _bad_keras_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import zipfile

    import keras
    from keras import layers

    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    good = tmp_path / "good.keras"
    model.save(good)
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(os.urandom(2048))
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    bomb = tmp_path / "bomb.keras"  # 65 MiB of config.json in a few hundred KiB, valid JSON
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            padding = b" " * (65 << 20) if item.filename == "config.json" else b""
            out.writestr(item.filename, padding + source.read(item))
    folder = tmp_path / "folder.keras"
    folder.mkdir()
    return {"corrupt": (corrupt, "not a .keras model archive: BadZipFile"),
            "truncated": (truncated, "not a .keras model archive: BadZipFile"),
            "bomb": (bomb, "its config.json declares 68,"),
            "folder": (folder, "folder.keras: is a folder, not a model file")}


BAD_MODELS = {
    "shared": (f"{MODELS}:shared_layer", "layer 'shared' (Dense): is shared"),
    "outputs": (f"{MODELS}:two_outputs", "the model has 2 outputs"),
    "unsupported": (f"{MODELS}:unsupported_layer",
                    "layer 'temporal' (Conv1D): is not a layer type specc supports"),
    "regularizer": (f"{MODELS}:regularized",
                    ("layer 'decayed' (Dense): argument `kernel_regularizer`=L2(l2=0.01) is not "
                    "supported by specc (it needs Keras's default, None)")),
    "activation": (f"{MODELS}:unsupported_activation",
                   "layer head (Dense): Invalid value for argument `activation`. Expected one of"),
    "activation object": (f"{MODELS}:activation_object", ("layer 'head' (Dense): argument "
                          "`activation` is a LeakyReLU object; specc reads an activation given "
                          "by its name")),
    "sourceless lambda": (f"{MODELS}:sourceless_activation", ("layer 'head' (Dense): its "
                          "configuration cannot be read: OSError: could not get source code")),
    "divided by zero": (f"{MODELS}:divided_by_zero",
                        "(TrueDivide): divides by zero (`x / [1.0, 0.0, 2.0]`)"),
    "own call": (f"{MODELS}:own_call", "model 'doubled' (_Doubled) overrides call()"),
    "nested own call": (f"{MODELS}:nested_own_call",
                        "model 'doubled' (_Doubled) overrides call()"),
    "own activation": (f"{MODELS}:own_named_activation", ("layer 'head' (Dense): its "
                       "activation is keras_import_models.gelu, which Keras saves as 'gelu' but "
                       "which does not compute Keras's gelu")),
    "own clipped relu": (f"{MODELS}:own_clipped_relu", ("layer 'clipped' (Activation): its "
                         "activation is keras_import_models.relu, which Keras saves as 'relu'")),
    "training=True": (f"{MODELS}:monte_carlo_dropout",
                      ("layer 'mc' (Dropout): is called with training=True, which a spec cannot "
                      "express")),
    "custom": (f"{MODELS}:custom_layer", "layer 'doubling' (Doubling): is not a layer type"),
    "not a model": (f"{MODELS}:not_a_model", "returned a int, not a Keras model"),
    "raises": (f"{MODELS}:raises", "raised RuntimeError: no model today"),
    "no module": ("no_such_module_here:build", "cannot import module 'no_such_module_here'"),
    "no function": (f"{MODELS}:nowhere", "has no function 'nowhere'"),
    "no file": ("missing.keras", "missing.keras: no such file"),
    "subclassed": (f"{MODELS}:subclassed", "_Subclassed is a subclassed keras.Model"),
    "never built": (f"{MODELS}:unbuilt_sequential", "has no input shape"),
    "alias argument": (f"{MODELS}:channels_first_dropout",
                       "layer 'drop' (SpatialDropout2D): argument `data_format`='channels_first'"),
}


@pytest.mark.parametrize("case", [*BAD_MODELS, "corrupt", "truncated", "bomb", "folder"])
def test_bad_models_are_one_line_exit_2_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if case in BAD_MODELS:
        model, expected = BAD_MODELS[case]
    else:
        path, expected = _bad_keras_files(tmp_path)[case]
        model = str(path)
    out = tmp_path / "out"
    out.mkdir()
    code = main(["import", "keras", model, "-o", str(out / "spec.yaml"),
                 "--weights", str(out / "w.safetensors")])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and "Did you mean" not in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(out.iterdir()) == []


def test_weights_onto_the_spec_itself_or_a_pipe_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import stat

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    spec = tmp_path / "spec.yaml"
    for weights, expected in ((spec, "is the spec's own file"),
                              (pipe, "is a device, pipe or socket, not a file")):
        code = main(["import", "keras", f"{MODELS}:unbuilt_sequential", "--input-shape", "6,5,3",
                     "-o", str(spec), "--weights", str(weights)])
        err = capsys.readouterr().err
        assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
        assert sorted(os.listdir(tmp_path)) == ["pipe"] and stat.S_ISFIFO(pipe.stat().st_mode)


def test_a_keras_file_is_loaded_in_safe_mode_its_code_never_runs(tmp_path: Path, capsys) -> None:
    import keras
    from keras import layers

    marker = tmp_path / "ran"
    inputs = keras.Input((4,))
    path = str(marker)
    outputs = layers.Lambda(lambda x: (open(path, "w").close(), x)[1], name="sneaky")(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)  # building the model ran it once, here, by our choice
    code = main(["import", "keras", str(tmp_path / "lambda.keras"), "-o",
                 str(tmp_path / "spec.yaml")])
    assert code == 2
    assert "cannot be loaded as a Keras model" in capsys.readouterr().err
    assert not marker.exists() and not (tmp_path / "spec.yaml").exists()


def test_bad_weights_files_are_one_line_exit_2(tmp_path: Path, capsys) -> None:
    from safetensors.numpy import load_file, save_file

    code, spec_path, weights = _import(tmp_path, f"{MODELS}:squeeze_excite")
    assert code == 0
    arrays = load_file(str(weights))
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(weights.read_bytes()[:100])
    missing = tmp_path / "missing.safetensors"
    save_file({k: v for k, v in arrays.items() if k != "stem/kernel"}, str(missing))
    extra = tmp_path / "extra.safetensors"
    save_file({**arrays, "nowhere/kernel": np.zeros(2, np.float32)}, str(extra))
    wrong = tmp_path / "wrong.safetensors"
    save_file({**arrays, "classifier/bias": np.zeros(7, np.float32)}, str(wrong))
    cases = {corrupt: "not a readable safetensors weights file",
             missing: "no weight 'stem/kernel' for layer 'stem' (Conv2D)",
             extra: "the weight 'nowhere/kernel' belongs to no layer",
             wrong: "classifier/bias has shape (7,) where the model needs (5,)"}
    for path, expected in cases.items():
        out = tmp_path / f"out_{path.stem}"
        code = main(["build", str(spec_path), "--backend", "torch", "--weights", str(path),
                     "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2, path
        assert expected in err and len(err.strip().splitlines()) == 1, err
        assert not list(out.glob("*.pt"))


def test_train_starts_from_the_weights_file_with_frozen_layers_frozen(tmp_path: Path) -> None:
    """What `specc train SPEC --weights W` builds before its first step."""
    from safetensors.numpy import load_file

    from specc.train.common import RunOptions
    from specc.train.session import build_model

    code, spec_path, weights = _import(tmp_path, f"{MODELS}:squeeze_excite")
    assert code == 0
    loaded = load_spec(spec_path)
    arrays = load_file(str(weights))
    model = build_model(loaded, RunOptions(device="cpu", weights=str(weights)), tmp_path / "b")
    state = model.state_dict()
    np.testing.assert_array_equal(state["classifier.weight"].numpy(), arrays["classifier/kernel"].T)
    np.testing.assert_array_equal(state["frozen_bn.running_var"].numpy(),
                                  arrays["frozen_bn/moving_variance"])
    assert not model.stem.weight.requires_grad and model.classifier.weight.requires_grad
    model.train()
    assert not model.frozen_bn.training and model.stem_bn.training


def test_required_arguments_are_read_per_layer_not_from_the_first_model_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AveragePooling2D has no default pool_size: a pool of 3 imported first must not become
    the 'default' that a later model's pool of 2 is compared with (DenseNet121 after
    InceptionV3 in one process failed so)."""
    (tmp_path / "pool_models.py").write_text(
        "import keras\nfrom keras import layers\n\n\n"
        "def pooled(pool):\n"
        "    inputs = keras.Input((12, 12, 2))\n"
        "    x = layers.AveragePooling2D(pool, strides=pool, name='pool')(inputs)\n"
        "    return keras.Model(inputs, layers.Flatten(name='flat')(x))\n\n\n"
        "def pool3():\n    return pooled(3)\n\n\n"
        "def pool2():\n    return pooled(2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for pool in (3, 2):
        code, spec_path, _ = _import(tmp_path, f"pool_models:pool{pool}")
        assert code == 0
        (layer, _) = load_spec(spec_path).spec.layers
        assert layer.windows()[0] == (pool, pool)


def test_a_precision_other_than_float32_is_said_in_the_spec(tmp_path: Path) -> None:
    code, spec_path, _ = _import(tmp_path, f"{MODELS}:mixed_precision")
    assert code == 0
    header = [line for line in spec_path.read_text().splitlines() if line.startswith("#")]
    assert any("compute in mixed_float16; a spec holds no precision" in line for line in header)
    (tmp_path / "plain").mkdir()
    code, plain_path, _ = _import(tmp_path / "plain", f"{MODELS}:unbuilt_sequential",
                                  "--input-shape", "6,5,3")
    assert code == 0 and "compute in" not in plain_path.read_text()


def test_keras_layers_that_are_another_layer_are_translated_exactly(tmp_path: Path) -> None:
    from keras_import_models import layer_aliases

    code, spec_path, weights = _import(tmp_path, f"{MODELS}:layer_aliases")
    assert code == 0
    loaded = load_spec(spec_path)
    layers = {layer.name: layer for layer in loaded.spec.layers}
    assert (layers["leaky"].type, layers["leaky"].negative_slope) == ("ReLU", 0.3)
    assert (layers["channel_drop"].type, layers["channel_drop"].noise_shape) == (
        "Dropout", (None, 1, 1, 4))
    assert [layers[name].activation for name in ("same", "elu", "probabilities")] == [
        "linear", "elu", "softmax"]
    assert "translated from Keras's LeakyReLU(negative_slope=0.3)" in spec_path.read_text()
    batch = np.random.default_rng(1).normal(size=(4, 6, 6, 3)).astype(np.float32)
    _assert_port_computes(layer_aliases(), spec_path, weights, tmp_path / "build", batch)


@pytest.mark.parametrize("axis", [-1, None])
def test_an_adapted_normalization_imports_with_its_state_and_ports(axis: int | None,
                                                                    tmp_path: Path) -> None:
    """adapt() leaves mean, variance and a scalar count as weights; the scalar stays a scalar
    in the weights file (it became shape (1,), which `build --weights` refused)."""
    import keras
    from keras import layers

    normalization = layers.Normalization(axis=axis, name="norm")
    normalization.adapt(np.random.default_rng(0).normal(2.0, 3.0, (32, 5, 5, 3)).astype(np.float32))
    inputs = keras.Input((5, 5, 3))
    x = layers.Conv2D(2, 3, name="conv")(normalization(inputs))
    model = keras.Model(inputs, layers.Flatten(name="flat")(x))
    model.save(tmp_path / "adapted.keras")
    code, spec_path, weights = _import(tmp_path, str(tmp_path / "adapted.keras"))
    assert code == 0
    batch = np.random.default_rng(1).normal(2.0, 3.0, (2, 5, 5, 3)).astype(np.float32)
    _assert_port_computes(model, spec_path, weights, tmp_path / "build", batch)


def test_an_array_argument_serialised_by_keras_is_read_as_its_values(tmp_path: Path) -> None:
    """Rescaling(np.array(...)) serialises its scale as {class_name: __numpy__, ...}."""
    code, spec_path, _ = _import(tmp_path, f"{MODELS}:array_rescaling")
    assert code == 0
    assert load_spec(spec_path).spec.layers[0].scale == (1.0, 2.0, 0.5)


def test_a_model_module_in_the_working_folder_and_a_model_object_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`specc import keras my_models:model` where my_models.py is in the working folder: the
    `specc` script has neither it nor '' on sys.path (python -m has), and `model` may be a
    model object, not a function (a Keras model is callable: it was called with no input)."""
    import sys

    (tmp_path / "cwd_models.py").write_text(
        "import keras\nfrom keras import layers\n\n\n"
        "def build():\n"
        "    inputs = keras.Input((4,))\n"
        "    return keras.Model(inputs, layers.Dense(3, name='head')(inputs))\n\n\n"
        "model = build()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    for name in ("build", "model"):
        (tmp_path / name).mkdir()
        code, spec_path, _ = _import(tmp_path / name, f"cwd_models:{name}")
        assert code == 0
        assert [layer.name for layer in load_spec(spec_path).spec.layers] == ["head"]


def test_an_h5_file_with_keras_applications_layers_loads_and_ports(tmp_path: Path) -> None:
    """A legacy .h5 names InceptionResNetV2's CustomScaleLayer and ConvNeXt's LayerScale
    without their module: Keras could not find them ('Unknown layer')."""
    import keras
    from keras import layers
    from keras_import_models import CustomScaleLayer, LayerScale

    inputs = keras.Input((6, 6, 4))
    residual = layers.Conv2D(4, 1, name="residual")(inputs)
    x = CustomScaleLayer(0.17, name="scaled_sum")([inputs, residual])
    x = LayerScale(0.5, 4, name="layer_scale")(x)
    model = keras.Model(inputs, layers.Flatten(name="flat")(x))
    model.save(tmp_path / "applications.h5")
    code, spec_path, weights = _import(tmp_path, str(tmp_path / "applications.h5"))
    assert code == 0
    batch = np.random.default_rng(2).normal(size=(2, 6, 6, 4)).astype(np.float32)
    _assert_port_computes(model, spec_path, weights, tmp_path / "build", batch)


def test_tensorflow_activation_functions_import_as_keras_ones_and_port(tmp_path: Path) -> None:
    """tf.nn.silu is saved as {class_name: function, config: swish}, refused before."""
    from keras_import_models import tensorflow_activations

    code, spec_path, weights = _import(tmp_path, f"{MODELS}:tensorflow_activations")
    assert code == 0
    activations = [layer.activation for layer in load_spec(spec_path).spec.layers]
    assert activations == ["swish", "leaky_relu", "gelu", "relu"]
    batch = np.random.default_rng(3).normal(size=(4, 4)).astype(np.float32)
    _assert_port_computes(tensorflow_activations(), spec_path, weights, tmp_path / "build", batch)


def test_a_backbone_called_with_training_false_imports(tmp_path: Path) -> None:
    code, spec_path, _ = _import(tmp_path, f"{MODELS}:frozen_backbone_called_in_inference")
    assert code == 0
    assert [layer.name for layer in load_spec(spec_path).spec.layers] == [
        "bb_dense", "bb_bn", "head"]
