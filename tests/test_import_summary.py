"""`specc import summary`: every layout, the seed, a corpus of real tables, bad input."""

from __future__ import annotations

import json
import os
import re
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from layer_examples import EXAMPLE_IDS, EXAMPLES, load_example
from pydantic import ValidationError
from summary_layouts import Printed, Row, keras2_summary, tf2_summary

from specc.cli import main
from specc.errors import LayerError
from specc.layers import LAYER_TYPES
from specc.layers.base import Layer, LayerExample
from specc.layers.conv_math import as_pair, output_length, same_padding
from specc.layers.readings import MAX_STRIDES, PrintedRow, window_steps
from specc.layers.zero_padding2d import sides
from specc.spec.load import LoadedSpec, load_spec

SUMMARIES = ROOT / "tests" / "summaries"
CORPUS = sorted(SUMMARIES.glob("*.txt"))
SEED = ROOT.parent / "shared" / "seed" / "alexnet-keras-summary.md"


def run_import(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["import", "summary", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def import_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: Path | str,
                *extra: str) -> LoadedSpec:
    out = tmp_path / "imported.yaml"
    code, stdout, stderr = run_import(capsys, str(source), "-o", str(out), *extra)
    assert code == 0, stdout + stderr
    return load_spec(out)


# ---------------------------------------------------------------- the seed


def test_the_seed_imports_to_specs_alexnet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not SEED.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the seed {SEED} is missing; CI must provide it")
        pytest.skip(f"the seed summary is not at {SEED} (outside CI only)")
    out = tmp_path / "alexnet.yaml"
    code, stdout, _ = run_import(capsys, str(SEED), "-o", str(out))
    assert code == 0
    assert "71 of 71 expectation(s) hold" in stdout
    imported = load_spec(out).spec
    reference = load_spec(ROOT / "specs" / "alexnet.yaml").spec
    assert imported.input.shape == reference.input.shape
    assert [meaning(layer) for layer in imported.layers] == [
        meaning(layer) for layer in reference.layers
    ]
    assert imported.expect == reference.expect


def meaning(layer: Layer) -> tuple[str, str, dict[str, Any]]:
    """Name, type and arguments, with "int or pair" arguments as pairs (3 == (3, 3))."""
    arguments = {
        key: as_pair(key, value) if isinstance(value, int) and key in PAIR_ARGUMENTS else value
        for key, value in layer.hyper_parameters().items()
    }
    if layer.type == "ZeroPadding2D":
        arguments["padding"] = layer.pads()  # type: ignore[attr-defined]
    return layer.name, layer.type, arguments


PAIR_ARGUMENTS = {"kernel_size", "strides", "pool_size", "dilation_rate"}


# ---------------------------------------------------------------- the corpus of real tables


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_every_corpus_table_imports_to_its_model(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = json.loads((SUMMARIES / f"{model_of(path)}.json").read_text())
    loaded = import_file(tmp_path, capsys, path)
    compare_with_truth(loaded, truth)


def model_of(path: Path) -> str:
    return next(model for model in ("sequential_cnn", "residual", "trained_mlp")
                if model in path.stem)


def compare_with_truth(loaded: LoadedSpec, truth: dict[str, Any]) -> None:
    assert list(loaded.spec.input.shape) == truth["input_shape"]
    assert len(loaded.spec.layers) == len(truth["layers"])
    for layer, info, expected in zip(loaded.spec.layers, loaded.info.layers, truth["layers"],
                                     strict=True):
        where = f"{expected['name']} ({expected['type']})"
        assert expected["name"].startswith(layer.name), where  # Keras 3 may cut names with …
        assert layer.type == expected["type"], where
        assert list(info.output_shape) == expected["shape"], where
        assert info.params.total == expected["params"], where
        for key, value in expected["config"].items():
            assert shown_value(layer, key) == normalised(key, value), f"{where}: {key}"


def shown_value(layer: Layer, key: str) -> Any:
    if key == "strides" and hasattr(layer, "pool_size"):
        return layer.windows()[1]  # type: ignore[attr-defined]
    if key == "padding" and layer.type == "ZeroPadding2D":
        return layer.pads()  # type: ignore[attr-defined]
    return normalised(key, getattr(layer, key))


def normalised(key: str, value: Any) -> Any:
    if key in PAIR_ARGUMENTS and isinstance(value, int):
        return (value, value)
    if isinstance(value, list):
        return tuple(normalised("", item) for item in value)
    return value


def test_the_corpus_has_every_layout_and_widths() -> None:
    stems = {path.stem for path in CORPUS}
    assert {stem.split("_")[0] for stem in stems} == {"keras2", "tf2", "keras3"}
    assert {"keras3_residual_w64", "keras3_residual_default", "keras3_residual_w120"} <= stems
    assert "…" in (SUMMARIES / "keras3_residual_w64.txt").read_text()  # cut names and inputs
    assert "Optimizer params:" in (SUMMARIES / "keras3_trained_mlp_default.txt").read_text()


# ---------------------------------------------------------------- layout details


def test_crlf_and_a_missing_model_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (SUMMARIES / "tf2_residual.txt").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("Model:"))
    source = tmp_path / "pasted.txt"
    source.write_bytes(text.replace("\n", "\r\n").encode())
    loaded = import_file(tmp_path, capsys, source)
    assert loaded.spec.name == "pasted"
    compare_with_truth(loaded, json.loads((SUMMARIES / "residual.json").read_text()))


def test_a_functional_table_without_its_input_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (SUMMARIES / "keras2_residual.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "(InputLayer)" in line)
    source = tmp_path / "no_input.txt"
    source.write_text("\n".join(lines[:start] + lines[start + 2:]) + "\n")
    loaded = import_file(tmp_path, capsys, source)
    assert loaded.spec.input.shape == (32, 32, 3)
    given = import_file(tmp_path, capsys, source, "--input-shape", "32,32,3")
    assert given.spec.layers == loaded.spec.layers


def test_input_shape_inferred_for_a_dense_first_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = import_file(tmp_path, capsys, SUMMARIES / "keras2_trained_mlp.txt")
    assert loaded.spec.input.shape == (12,)
    assert "# no InputLayer row" in loaded.text


def test_output_shapes_printed_as_multiple_come_from_the_neighbours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (SUMMARIES / "tf2_sequential_cnn.txt").read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith((" batch_normalization (BatchN", " dense (Dense)")):
            shape = re.search(r"\(None[^)]*\)", line)[0]  # type: ignore[index]
            lines[index] = line.replace(shape, "multiple".ljust(len(shape)))
    text = "\n".join(lines) + "\n"
    assert text.count("multiple") == 2
    source = tmp_path / "multiple.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source)
    compare_with_truth(loaded, json.loads((SUMMARIES / "sequential_cnn.json").read_text()))
    assert "output shape printed as 'multiple'" in loaded.text


def test_a_closing_bracket_alone_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TF 2.x wraps "Connected to" lists at 30 characters: a 31-character entry leaves `]`."""
    long_name = "a_twenty_one_char_nam"
    rows = [
        Row("inputs", "InputLayer", [(None, 4)], 0, ()),
        Row(long_name, "Dense", (None, 3), 15, ("inputs[0][0]",)),
        Row("other", "Dense", (None, 3), 15, ("inputs[0][0]",)),
        Row("sum", "Add", (None, 3), 0, ("other[0][0]", f"{long_name}[0][0]")),
    ]
    text = tf2_summary(Printed("branches", rows, 30, 0, sequential=False))
    assert any(line.strip() == "]" for line in text.splitlines()), text
    source = tmp_path / "branches.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source)
    assert loaded.spec.layers[-1].inputs == ("other", long_name)


def test_a_count_tf2_wraps_onto_the_next_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A functional table's `Param #` column holds 8 digits: VGG16's fc1 prints `10276454`
    with `4` on the line below."""
    rows = [
        Row("flatten_input", "InputLayer", [(None, 25088)], 0),
        Row("fc1", "Dense", (None, 4096), 102_764_544, ("flatten_input[0][0]",)),
    ]
    text = tf2_summary(Printed("vgg_head", rows, 102_764_544, 0, sequential=False))
    assert re.search(r" 10276454 .*\n {50,}4 ", text), text
    source = tmp_path / "wrapped.txt"
    source.write_text(text)
    assert import_file(tmp_path, capsys, source).spec.layers[0].expect.params == 102_764_544


@pytest.mark.parametrize("layout", ["keras2", "tf2"])
def test_long_names_cut_or_wrapped_in_both_columns(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """NASNet's names: Keras 2 cuts the name cell (no `(Type)` left) and the "Connected to"
    entry at different lengths, unmarked; TF 2.x wraps both mid-name."""
    long_name = "separable_conv_1_pad_reduction_left1_stem_1"
    rows = [
        Row("inputs", "InputLayer", [(None, 8, 8, 3)], 0),
        Row(long_name, "ZeroPadding2D", (None, 10, 10, 3), 0, ("inputs[0][0]",)),
        Row("separable_conv_1_reduction_left1_stem_1", "SeparableConv2D", (None, 4, 4, 11), 60,
            (f"{long_name}[0][0]",)),
    ]
    printed = Printed("nasnet", rows, 60, 0, sequential=False)
    text = keras2_summary(printed) if layout == "keras2" else tf2_summary(printed)
    assert long_name not in text  # cut or wrapped everywhere
    source = tmp_path / "long_names.txt"
    source.write_text(text)
    spec = import_file(tmp_path, capsys, source).spec
    assert spec.layers[1].inputs is None  # it reads the padding above it
    assert [layer.type for layer in spec.layers] == ["ZeroPadding2D", "SeparableConv2D"]


def test_keras2_functional_connections_on_rows_of_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (SUMMARIES / "keras2_residual.txt").read_text()
    assert re.search(r"\n {40,}block_bn\[0\]\[0\]", text)
    loaded = import_file(tmp_path, capsys, SUMMARIES / "keras2_residual.txt")
    add = next(layer for layer in loaded.spec.layers if layer.name == "block_add")
    assert add.inputs == ("stem_relu", "block_bn")


def test_guesses_are_comments_and_listed_at_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cnn.yaml"
    code, stdout, _ = run_import(capsys, str(SUMMARIES / "keras3_sequential_cnn_default.txt"),
                                 "-o", str(out))
    assert code == 0
    text = out.read_text()
    listed = [line for line in stdout.splitlines() if line.startswith("  ")]
    commented = [line for line in text.splitlines() if "# " in line and "guessed" in line]
    assert len(listed) >= len(commented) > 0
    dropout = next(line for line in text.splitlines() if "type: Dropout" in line)
    assert dropout.endswith("# guessed: rate 0.5 (a summary does not show it)")
    last = [line for line in text.splitlines() if "type: Activation" in line][-1]
    assert "activation: softmax" in last and "classifier" in last
    assert any("type: Conv2D" in line and "guessed: kernel_size 3x3" in line
               and "also fits kernel_size 1x9" in line for line in text.splitlines())


def test_the_spec_over_the_summary_being_read_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "model.txt"
    text = (SUMMARIES / "keras2_residual.txt").read_text()
    source.write_text(text)
    (tmp_path / "link.txt").symlink_to(source)
    for output in (source, tmp_path / "link.txt"):
        code, stdout, stderr = run_import(capsys, str(source), "-o", str(output))
        assert (code, stdout) == (2, "")
        assert stderr == (f"specc: {output}: is the summary being read (FILE); writing the spec "
                          "there would replace it: give the spec another name\n")
    assert source.read_text() == text


def test_standard_input_and_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    data = (SUMMARIES / "tf2_trained_mlp.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, stdout, stderr = run_import(capsys, "-", "-o", "-")
    assert code == 0
    assert stdout.startswith("# yaml-language-server")
    assert "expectation(s) hold" in stderr


# ---------------------------------------------------------------- a figure that differs


def test_a_row_no_configuration_reproduces_exits_1_naming_the_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (SUMMARIES / "keras2_sequential_cnn.txt").read_text()
    # BatchNormalization of 16 channels has 64 parameters; 60 fits no configuration.
    text = re.sub(r"(batch_normalization \(BatchNo \(None, 7, 7, 16\) +)64", r"\g<1>60", text)
    for label in ("Total", "Trainable"):
        count = int(re.search(rf"{label} params: ([\d,]+)", text)[1].replace(",", ""))  # type: ignore[index]
        text = re.sub(rf"{label} params: [\d,]+", f"{label} params: {count - 4:,}", text)
    source = tmp_path / "odd.txt"
    source.write_text(text)
    out = tmp_path / "odd.yaml"
    code, _, stderr = run_import(capsys, str(source), "-o", str(out))
    assert code == 1, stderr
    assert "batch_normalization" in stderr and "60" in stderr
    assert "show_trainable" not in stderr  # the total differs too: no layer is frozen
    assert out.is_file()


# ---------------------------------------------------------------- bad input


def _damaged(name: str, change: Any) -> str:
    return change((SUMMARIES / name).read_text())


# The start of a Keras 3 `model.summary(line_length=40)`: a count too wide for its column.
KERAS3_W40_CNN_START = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━┓
┃                 ┃ Output     ┃ Param ┃
┃ Layer (type)    ┃ Shape      ┃     # ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━┩
│ conv2d (Conv2D) │ (None, 32, │ 2,432 │
│                 │ 32, 32)    │       │
├─────────────────┼────────────┼───────┤
│ batch_normaliz… │ (None, 32, │   128 │
│ (BatchNormaliz… │ 32, 32)    │       │
├─────────────────┼────────────┼───────┤
│ activation      │ (None, 32, │     0 │
│ (Activation)    │ 32, 32)    │       │
├─────────────────┼────────────┼───────┤
│ zero_padding2d  │ (None, 36, │     0 │
│ (ZeroPadding2D) │ 36, 32)    │       │
├─────────────────┼────────────┼───────┤
│ conv2d_1        │ (None, 34, │ 30,7… │
│ (Conv2D)        │ 32, 64)    │       │
├─────────────────┼────────────┼───────┤
"""

# Keras 3 summaries of models built for any input size (keras.Input((None, None, 3))), and
# of a Sequential model never built.
KERAS3_ANY_SIZE = """\
Model: "fcn"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ input_layer (InputLayer)             │ (None, None, None, 3)       │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ conv2d (Conv2D)                      │ (None, None, None, 8)       │             224 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ max_pooling2d (MaxPooling2D)         │ (None, None, None, 8)       │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ global_average_pooling2d             │ (None, 8)                   │               0 │
│ (GlobalAveragePooling2D)             │                             │                 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense (Dense)                        │ (None, 2)                   │              18 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 242 (968.00 B)
 Trainable params: 242 (968.00 B)
 Non-trainable params: 0 (0.00 B)
"""
KERAS3_ANY_SIZE_POOLED = """\
Model: "gap"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ input_layer (InputLayer)             │ (None, None, None, 3)       │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ global_average_pooling2d             │ (None, 3)                   │               0 │
│ (GlobalAveragePooling2D)             │                             │                 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense (Dense)                        │ (None, 2)                   │               8 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 8 (32.00 B)
 Trainable params: 8 (32.00 B)
 Non-trainable params: 0 (0.00 B)
"""
KERAS3_UNBUILT = """\
Model: "unbuilt"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ dense_2 (Dense)                      │ ?                           │     0 (unbuilt) │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_3 (Dense)                      │ ?                           │     0 (unbuilt) │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 0 (0.00 B)
 Trainable params: 0 (0.00 B)
 Non-trainable params: 0 (0.00 B)
"""

# `model.summary(expand_nested=True)` of a model holding a nested Sequential: Keras 3's, and
# TF 2.9's (its print_summary's `|` borders and `¯` rules, written from its code).
KERAS3_EXPANDED = """\
Model: "outer"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ input_layer_7 (InputLayer)           │ (None, 8)                   │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ inner (Sequential)                   │ (None, 4)                   │              36 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│    └ dense_11 (Dense)                │ (None, 4)                   │              36 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_12 (Dense)                     │ (None, 2)                   │              10 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 46 (184.00 B)
 Trainable params: 46 (184.00 B)
 Non-trainable params: 0 (0.00 B)

"""
TF2_EXPANDED = """\
Model: "outer"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 input_2 (InputLayer)        [(None, 8)]               0         
                                                                 
 inner (Sequential)          (None, 4)                 36        
|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
| dense (Dense)              (None, 4)                 36        |
¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯
 dense_1 (Dense)             (None, 2)                 10        
                                                                 
=================================================================
Total params: 46
Trainable params: 46
Non-trainable params: 0
_________________________________________________________________
"""

BAD_INPUTS = {
    "not_a_summary": (lambda: "# My model\n\nIt has some layers.\n", r":1:1: not a Keras model summary"),
    "cut_off": (lambda: _damaged("keras3_residual_w64.txt",
                                 lambda t: "\n".join(t.splitlines()[:30]) + "\n"),
                r":30:1: the table is cut off"),
    "counts_do_not_add_up": (lambda: _damaged("tf2_sequential_cnn.txt",
                                              lambda t: t.replace("  80  ", "  81  ")),
                             (r":\d+:1: the layers' parameter counts add up to [\d,]+, but the "
                             r"totals say")),
    "unknown_type": (lambda: _damaged("keras3_sequential_cnn_default.txt",
                                      lambda t: t.replace("(Conv2D)  ", "(Conv3D)  ", 1)),
                     (r":\d+:1: layer conv2d: specc does not know the layer type 'Conv3D'; the "
                     r"nearest known type is Conv2D")),
    "count_cut_by_a_narrow_column": (lambda: KERAS3_W40_CNN_START,
                                     (r":18:1: layer conv2d_1: the parameter count is cut to "
                                      r"'30,7…': its column was too narrow; print the table "
                                      r"wider")),
    "two_summaries": (lambda: (SUMMARIES / "tf2_residual.txt").read_text()
                      + (SUMMARIES / "keras3_sequential_cnn_default.txt").read_text(),
                      (r":\d+:1: a second model summary \(\"sequential_cnn\"\) starts here, "
                       r"after the one \(\"residual\"\) at line 3; specc imports one model")),
    "variable_size": (lambda: KERAS3_ANY_SIZE,
                      (r":7:1: layer conv2d: its output shape \(None, None, None, 8\) has a "
                       r"variable size \(the model takes any input size\).*print the summary of "
                       r"the model built for one size")),
    "variable_input_size": (lambda: KERAS3_ANY_SIZE_POOLED,
                            r":5:1: layer input_layer: .* variable size.*give --input-shape"),
    "unbuilt": (lambda: KERAS3_UNBUILT,
                r":5:1: layer dense_2 is unbuilt \(Keras prints `\?` for its shape and "),
    "expand_nested_keras3": (lambda: KERAS3_EXPANDED,
                             (r":9:1: layer inner is a nested model, its layers printed here by "
                             r"expand_nested=True")),
    "expand_nested_tf2": (lambda: TF2_EXPANDED,
                          (r":8:1: layer inner is a nested model, its layers printed here by "
                          r"expand_nested=True")),
    # Matching such a row took minutes (backtracking over the spaces) before it was refused.
    "a_row_line_of_spaces": (lambda: _damaged("keras2_sequential_cnn.txt", lambda t: t.replace(
        "=\n", "=\nx" + " " * 5_000 + "(None, 1)" + " " * 5_000 + "z\n", 1)),
                             (r":5:1: a line of 10,011 characters inside the table; Keras prints "
                              r"rows of a few hundred")),
    "over_the_parameter_limit": (lambda: keras2_summary(Printed("huge", [
        Row("input_1", "InputLayer", [(None, 60_000)], 0),
        Row("dense", "Dense", (None, 50_000), 3_000_050_000)], 3_000_050_000, 0, True)),
                                 (r":7:1: layer dense: the model reaches 3,000,050,000 parameters "
                                  r"at this layer, over specc's limit of 2,000,000,000")),
    "over_the_layer_limit": (lambda: keras2_summary(Printed("deep", [
        Row("input_1", "InputLayer", [(None, 4)], 0),
        *(Row(f"dense_{i}", "Dense", (None, 4), 20) for i in range(5_001))], 5_001 * 20, 0, True)),
                             r":10007:1: the table has 5,001 layers; a spec has at most 5,000"),
    # A size of 10^9 took the search for strides and windows hours.
    "a_size_over_the_limit": (lambda: _damaged("keras3_residual_default.txt", lambda t: t.replace(
        "│ (None, 17, 17, 16)        │               0 │ block_add[0][0]",
        "│ (None, 1048577, 17, 16)   │               0 │ block_add[0][0]")),
                              (r":22:1: layer down_pad: its output shape \(None, 1048577, 17, "
                               r"16\) has a size of 1,048,577; specc reads sizes from 1 to "
                               r"1,048,576")),
    # A pooling to a printed size of 0 crashed the pooling-window search (exit 3).
    "a_size_of_zero": (lambda: _damaged("keras3_sequential_cnn_default.txt", lambda t: t.replace(
        "(None, 13, 13, 8)", "(None, 13, 0, 8) ")),
                       (r":7:1: layer max_pooling2d: its output shape \(None, 13, 0, 8\) has a "
                        r"size of 0; specc reads sizes from 1 to 1,048,576")),
    # `(None,)`, no size besides the batch, was read as a shape of none (IndexError, exit 3).
    "a_shape_of_no_sizes": (lambda: _damaged("keras3_trained_mlp_default.txt", lambda t: t.replace(
        "(None, 16)", "(None,)   ", 1)),
                            (r":5:1: the table has no InputLayer row and the input shape cannot "
                             r"be inferred from layer dense")),
    "cut_type_fits_nothing": (lambda: _damaged("keras2_sequential_cnn.txt",
                                               lambda t: t.replace("(Conv2D)", "(Zz", 1)),
                              (r":\d+:1: layer conv2d: the type is cut to '\(Zz' and no type "
                              r"specc knows starts so")),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_with_its_line_number_exit_2_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, pattern = BAD_INPUTS[case]
    source = tmp_path / "bad.txt"
    source.write_text(make())
    out = tmp_path / "out.yaml"
    code, stdout, stderr = run_import(capsys, str(source), "-o", str(out))
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert re.search(re.escape(str(source)) + pattern, stderr), stderr
    assert not out.exists() and os.listdir(tmp_path) == ["bad.txt"]


# ---------------------------------------------------------------- every layer type reads back


def _reproducing(layer_type: str, row: PrintedRow) -> list[Layer]:
    cls = LAYER_TYPES[layer_type]
    found = []
    for reading in cls.summary_readings(row):
        try:
            layer = cls.model_validate({"type": layer_type, "name": "x", **reading.config})
            shape = layer.output_shape(row.input_shapes)
        except (ValidationError, LayerError, ValueError):
            continue
        if shape == row.output_shape and layer.param_count(row.input_shapes).total == row.params:
            found.append(layer)
    return found


# What a summary cannot show: grouped convolutions (fewer parameters, read as a smaller
# kernel), and a dilation under 'same' padding (it changes no shape and no count).
# Arguments that change neither a shape nor a count are not skipped but left out of
# `readable()`: the hook proposes a stated guess (with a note) and the row cannot tell it
# from the example's value: Dropout's rate, an activation, Rescaling's scale and offset,
# Normalization's given mean and variance (and, with them, its axis) and `invert`,
# UpSampling2D's interpolation, a convolution's padding where 'same' and 'valid' give the
# same size, Conv2DTranspose's output_padding where it only restates the default length.
NOT_READABLE = {"groups"}


@pytest.mark.parametrize(("type_name", "index", "example"), EXAMPLES, ids=EXAMPLE_IDS)
def test_every_layer_example_reads_back_from_its_printed_row(
    type_name: str, index: int, example: LayerExample
) -> None:
    if NOT_READABLE & set(example.config) or (
        "dilation_rate" in example.config and example.config.get("padding") == "same"
    ):
        pytest.skip(f"{example.config} cannot be read from a summary")
    loaded = load_example(type_name, example, index)
    info = loaded.info.layers[-1]
    row = PrintedRow(tuple(info.input_shapes), info.output_shape, info.params.total)
    fits = _reproducing(type_name, row)
    assert fits, f"no {type_name} reading reproduces {row}"
    rank = len(row.input_shapes[0])
    assert readable(info.layer, rank) in [readable(fit, rank) for fit in fits]


def readable(layer: Layer, rank: int) -> dict[str, Any]:
    """The arguments a row's shapes and counts pin down (up to the listed alternatives)."""
    keys = ("filters", "units", "kernel_size", "strides", "use_bias", "depth_multiplier",
            "dilation_rate", "size",
            "center", "scale", "keepdims", "pool_size")
    values = {key: normalised(key, getattr(layer, key)) for key in keys if hasattr(layer, key)}
    if layer.type == "Rescaling":
        del values["scale"]  # no weights and the same shape: a summary never shows it
    if layer.type == "UpSampling2D":
        values["size"] = as_pair("size", layer.size)  # type: ignore[attr-defined]
    if hasattr(layer, "pool_size"):
        values["strides"] = layer.windows()[1]  # type: ignore[attr-defined]
    if layer.type == "ZeroPadding2D":
        values["padding"] = layer.pads()  # type: ignore[attr-defined]
    if layer.type == "Cropping2D":
        values["cropping"] = sides("cropping", layer.cropping)  # type: ignore[attr-defined]
    if layer.type == "Concatenate":
        values["axis"] = layer.spec_axis(rank)  # type: ignore[attr-defined]
    if layer.type == "Normalization":
        # Adapted state (2*S + 1 weights) shows the kept axes' size; given values show nothing.
        given = layer.mean is not None  # type: ignore[attr-defined]
        values["given"] = given
        if not given:
            values["kept_axes"] = layer.kept_axes(rank)  # type: ignore[attr-defined]
    return values


def test_a_pool_to_one_takes_the_whole_input_and_lists_the_others() -> None:
    row = PrintedRow(((7, 7, 8),), (1, 1, 8), 0)
    fits = _reproducing("AveragePooling2D", row)
    assert fits[0].pool_size == 7 and fits[0].strides is None
    assert {4, 5, 6} <= {fit.pool_size for fit in fits if isinstance(fit.pool_size, int)}


def test_a_model_with_two_outputs_is_refused_at_the_unread_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        Row("inputs", "InputLayer", [(None, 4)], 0, ()),
        Row("lambda", "Dense", (None, 3), 15, ("inputs[0][0]",)),
        Row("second_head", "Dense", (None, 2), 10, ("inputs[0][0]",)),
    ]
    source = tmp_path / "two_heads.txt"
    source.write_text(tf2_summary(Printed("two_heads", rows, 25, 0, sequential=False)))
    code, _, stderr = run_import(capsys, str(source), "-o", str(tmp_path / "out.yaml"))
    assert code == 2
    assert re.fullmatch(rf"{re.escape(str(source))}:7:1: layer 'layer_lambda' \(Dense\): its "
                        r"output is never used.*one output\)\n", stderr), stderr
    assert not (tmp_path / "out.yaml").exists()


def test_a_cut_type_goes_by_the_longest_class_name_the_layer_name_starts_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`conv2d_transpose_1234 (Conv2` starts with conv2d too; a 1x1 kernel at stride 1
    prints the same row as a Conv2D, so only the name tells them apart."""
    rows = [
        Row("input_1", "InputLayer", [(None, 8, 8, 3)], 0),
        Row("conv2d_transpose_1234", "Conv2DTranspose", (None, 8, 8, 4), 16),
        Row("up_sampling2d", "UpSampling2D", (None, 16, 24, 4), 0),
        Row("cropping2d", "Cropping2D", (None, 15, 22, 4), 0),
        Row("normalization", "Normalization", (None, 15, 22, 4), 9),
        Row("rescaling", "Rescaling", (None, 15, 22, 4), 0),
    ]
    source = tmp_path / "new_types.txt"
    source.write_text(keras2_summary(Printed("new_types", rows, 16, 9, sequential=True)))
    assert "(Conv2 " in source.read_text()
    loaded = import_file(tmp_path, capsys, source)
    shown = [(layer.type, layer.model_dump(exclude_defaults=True,
                                           exclude={"name", "type", "expect", "inputs"}))
             for layer in loaded.spec.layers]
    assert shown == [
        ("Conv2DTranspose", {"filters": 4, "kernel_size": 1}),
        ("UpSampling2D", {"size": (2, 3)}),
        ("Cropping2D", {"cropping": ((0, 1), (1, 1))}),
        ("Normalization", {}),
        ("Rescaling", {"scale": 1.0 / 255}),
    ]


def test_a_cut_input_shape_keeps_its_printed_dimensions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keras 2 cut an InputLayer's `[(None, 128, 128, 3)]` at its column's edge."""
    rows = [
        Row("inputs", "InputLayer", [(None, 128, 128, 3)], 0, ()),
        Row("conv", "Conv2D", (None, 64, 64, 8), 224, ("inputs[0][0]",)),
        Row("flatten", "Flatten", (None, 32768), 0, ("conv[0][0]",)),
        Row("dense", "Dense", (None, 10), 327690, ("flatten[0][0]",)),
    ]
    text = keras2_summary(Printed("cut", rows, 327914, 0, sequential=False),
                          positions=[30, 49, 61, 98])
    assert "[(None, 128, 128,  " in text and "(None, 64, 64, 8)" in text
    source = tmp_path / "cut_input.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source)
    assert loaded.spec.input.shape == (128, 128, 3)
    assert loaded.spec.layers[0].strides == 2  # type: ignore[attr-defined]


def test_a_cut_output_shape_is_read_as_printed_not_as_the_next_row_s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keras 2 cut Xception's `(None, 147, 147, 128)` to `(None, 147, 147, 128`; the shapes
    tried for it were only the input's and the next row's, so the layer below fit nothing."""
    rows = [
        Row("inputs", "InputLayer", (None, 147, 147, 64), 0, ()),
        Row("sepconv", "SeparableConv2D", (None, 147, 147, 128), 8768, ("inputs[0][0]",)),
        Row("pool", "MaxPooling2D", (None, 74, 74, 128), 0, ("sepconv[0][0]",)),
    ]
    text = keras2_summary(Printed("xception_block", rows, 8768, 0, sequential=False))
    assert "(None, 147, 147, 128 " in text
    source = tmp_path / "cut_shape.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source)
    assert [tuple(info.output_shape) for info in loaded.info.layers] == [
        (147, 147, 128), (74, 74, 128)]


def test_cut_type_names_resolve_by_the_layer_name_and_by_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`(Gl` could be either global pooling: Keras's default name tells which; `(De` could be
    Dense or DepthwiseConv2D: only one reproduces the row."""
    rows = [
        Row("conv2d_1", "Conv2D", (None, 8, 8, 4), 112),
        Row("a_depthwise_layer_name_x", "DepthwiseConv2D", (None, 8, 8, 4), 40),
        Row("global_average_pooling2d", "GlobalAveragePooling2D", (None, 4), 0),
        Row("dense_1", "Dense", (None, 2), 10),
    ]
    text = keras2_summary(Printed(None, rows, 162, 0, sequential=True))
    assert "(Gl" in text and "(De" in text and "Model:" not in text
    source = tmp_path / "cut_types.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source, "--input-shape", "8,8,3")
    assert [layer.type for layer in loaded.spec.layers] == [
        "Conv2D", "DepthwiseConv2D", "GlobalAveragePooling2D", "Dense"]
    assert "only DepthwiseConv2D of Dense, DepthwiseConv2D reproduces the row" in loaded.text


def test_a_cut_type_goes_by_a_word_of_the_layer_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """MobileNetV2's `expanded_conv_depthwise_relu (R`: ReLU, Rescaling and Reshape (to the
    same shape) all print the row; the name says which."""
    rows = [
        Row("inputs", "InputLayer", (None, 4, 4, 3), 0),
        Row("expanded_conv_depthwise_relu", "ReLU", (None, 4, 4, 3), 0, ("inputs[0][0]",)),
    ]
    text = keras2_summary(Printed("mobilenet_v2", rows, 0, 0, sequential=False))
    assert "expanded_conv_depthwise_relu (R " in text
    source = tmp_path / "cut_relu.txt"
    source.write_text(text)
    assert import_file(tmp_path, capsys, source).spec.layers[0].type == "ReLU"


def test_a_type_cut_only_of_its_bracket_is_that_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """NASNet's `reduction_conv_1_stem_1 (Conv2D`: a 1x1 Conv2DTranspose prints the same row,
    but a cut that leaves a whole type name is that type, guessed and said so."""
    rows = [
        Row("inputs", "InputLayer", (None, 8, 8, 32), 0),
        Row("reduction_conv_1_stem_1", "Conv2D", (None, 8, 8, 11), 352, ("inputs[0][0]",)),
    ]
    text = keras2_summary(Printed("nasnet", rows, 352, 0, sequential=False))
    assert "reduction_conv_1_stem_1 (Conv2D " in text
    source = tmp_path / "cut_bracket.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source)
    assert loaded.spec.layers[0].type == "Conv2D"
    assert "guessed: type Conv2D (the table cuts it to '(Conv2D'; Conv2DTranspose also" in (
        loaded.text)


def test_keras3_ascii_boxes_where_the_terminal_cannot_show_box_drawing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """rich draws `+--+` / `|-+|` boxes (its box.ASCII) on a terminal without UTF-8."""
    text = (SUMMARIES / "keras3_residual_w64.txt").read_text()
    for drawn, ascii_ in (("┏┓┗┛└┘┌┐", "+"), ("┳┻╇┼┬┴", "+"), ("┃│┡┩├┤", "|"), ("━─", "-")):
        text = re.sub(f"[{drawn}]", ascii_, text)
    source = tmp_path / "ascii.txt"
    source.write_text(text)
    compare_with_truth(import_file(tmp_path, capsys, source),
                       json.loads((SUMMARIES / "residual.json").read_text()))


# ---------------------------------------------------------------- frozen layers

# Keras 3's `model.summary(show_trainable=True)` of a model whose first two layers were
# frozen (`layer.trainable = False`), as printed.
KERAS3_FROZEN = """\
Model: "fine_tuned"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ Layer (type)                  ┃ Output Shape              ┃          Param # ┃ Connected to              ┃ Trainable ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
│ features (InputLayer)         │ (None, 10)                │                0 │ -                         │     -     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ frozen_dense (Dense)          │ (None, 32)                │              352 │ features[0][0]            │     N     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ frozen_bn                     │ (None, 32)                │              128 │ frozen_dense[0][0]        │     N     │
│ (BatchNormalization)          │                           │                  │                           │           │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ head (Dense)                  │ (None, 32)                │            1,056 │ frozen_bn[0][0]           │     Y     │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ add (Add)                     │ (None, 32)                │                0 │ frozen_bn[0][0],          │     -     │
│                               │                           │                  │ head[0][0]                │           │
├───────────────────────────────┼───────────────────────────┼──────────────────┼───────────────────────────┼───────────┤
│ out (Dense)                   │ (None, 2)                 │               66 │ add[0][0]                 │     Y     │
└───────────────────────────────┴───────────────────────────┴──────────────────┴───────────────────────────┴───────────┘
 Total params: 1,602 (6.26 KB)
 Trainable params: 1,122 (4.38 KB)
 Non-trainable params: 480 (1.88 KB)
"""
FROZEN_ROWS = [
    Row("features", "InputLayer", [(None, 10)], 0),
    Row("frozen_dense", "Dense", (None, 32), 352, ("features[0][0]",), trainable=False),
    Row("frozen_bn", "BatchNormalization", (None, 32), 128, ("frozen_dense[0][0]",),
        trainable=False),
    Row("head", "Dense", (None, 32), 1056, ("frozen_bn[0][0]",)),
    Row("add", "Add", (None, 32), 0, ("frozen_bn[0][0]", "head[0][0]")),
    Row("out", "Dense", (None, 2), 66, ("add[0][0]",)),
]


@pytest.mark.parametrize("layout", ["keras3", "tf2_functional", "tf2_sequential"])
def test_frozen_layers_shown_by_show_trainable_are_frozen_in_the_spec(
    layout: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if layout == "keras3":
        text = KERAS3_FROZEN
    else:
        sequential = layout == "tf2_sequential"
        rows = [row for row in FROZEN_ROWS if not (sequential and row.class_name == "Add")]
        text = tf2_summary(Printed("fine_tuned", rows, 1122, 480, sequential),
                           show_trainable=True)
    source = tmp_path / "frozen.txt"
    source.write_text(text)
    loaded = import_file(tmp_path, capsys, source)
    assert [layer.name for layer in loaded.spec.layers if not layer.trainable] == [
        "frozen_dense", "frozen_bn"]


def test_a_frozen_layer_in_a_table_without_the_trainable_column_is_named_as_the_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "frozen.txt"
    source.write_text(tf2_summary(Printed("fine_tuned", FROZEN_ROWS, 1122, 480, False)))
    code, _, stderr = run_import(capsys, str(source), "-o", str(tmp_path / "out.yaml"))
    assert code == 1
    assert stderr.splitlines()[-1].startswith(f"{source}:")
    assert "model.summary(show_trainable=True)" in stderr.splitlines()[-1]


# Keras 3's `model.summary(line_length=40, show_trainable=True)`: rich wraps the titles over
# two lines and cuts words (`Pa… #`, `Conne… to`, the Trainable title to `…`).
KERAS3_W40_FUNCTIONAL = """\
Model: "narrow"
┏━━━━━━━━━┳━━━━━━━━━┳━━━━━┳━━━━━━━━┳━━━┓
┃ Layer   ┃ Output  ┃ Pa… ┃ Conne… ┃   ┃
┃ (type)  ┃ Shape   ┃   # ┃ to     ┃ … ┃
┡━━━━━━━━━╇━━━━━━━━━╇━━━━━╇━━━━━━━━╇━━━┩
│ x       │ (None,  │   0 │ -      │ - │
│ (Input… │ 4)      │     │        │   │
├─────────┼─────────┼─────┼────────┼───┤
│ a       │ (None,  │  15 │ x[0][… │ N │
│ (Dense) │ 3)      │     │        │   │
├─────────┼─────────┼─────┼────────┼───┤
│ b       │ (None,  │  15 │ x[0][… │ Y │
│ (Dense) │ 3)      │     │        │   │
├─────────┼─────────┼─────┼────────┼───┤
│ s (Add) │ (None,  │   0 │ a[0][… │ - │
│         │ 3)      │     │ b[0][… │   │
└─────────┴─────────┴─────┴────────┴───┘
 Total params: 30 (120.00 B)
 Trainable params: 15 (60.00 B)
 Non-trainable params: 15 (60.00 B)
"""


def test_a_narrow_keras3_table_with_wrapped_and_cut_titles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "narrow.txt"
    source.write_text(KERAS3_W40_FUNCTIONAL)
    spec = import_file(tmp_path, capsys, source).spec
    assert spec.input.shape == (4,)
    assert [(layer.name, layer.type, layer.inputs, layer.trainable) for layer in spec.layers] == [
        ("a", "Dense", None, False), ("b", "Dense", ("x",), True), ("s", "Add", ("a", "b"), True)]



def test_a_variable_input_size_alone_is_given_with_input_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "any_size.txt"
    source.write_text(KERAS3_ANY_SIZE_POOLED)
    spec = import_file(tmp_path, capsys, source, "--input-shape", "32,32,3").spec
    assert spec.input.shape == (32, 32, 3)
    assert [layer.type for layer in spec.layers] == ["GlobalAveragePooling2D", "Dense"]


def _logged(text: str) -> str:
    """`model.summary(print_fn=logger.info)`: each line after a timestamp that changes."""
    return "".join(f"2026-11-26 14:{i // 60:02d}:{i % 60:02d},{i * 37 % 1000:03d} - INFO - {line}\n"
                   for i, line in enumerate(text.splitlines(), start=55))


LINE_PREFIXES = {
    "github_quote": lambda text: "".join(f"> {line}\n" for line in text.splitlines()),
    "python_comment": lambda text: "".join(f"# {line}\n" for line in text.splitlines()),
    "logger": _logged,
}


@pytest.mark.parametrize("prefix", sorted(LINE_PREFIXES))
@pytest.mark.parametrize("name", ["keras2_residual", "tf2_residual", "keras3_residual_w64"])
def test_a_table_with_a_prefix_on_every_line(
    prefix: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "prefixed.txt"
    source.write_text("Training log\n" + LINE_PREFIXES[prefix]((SUMMARIES / f"{name}.txt").read_text())
                      + "Epoch 1/10\n")
    loaded = import_file(tmp_path, capsys, source)
    compare_with_truth(loaded, json.loads((SUMMARIES / "residual.json").read_text()))
    layout = {"keras2": "Keras 2 (before TF 2.6)", "tf2": "TF 2.6-2.15", "keras3": "Keras 3"}
    assert f"({layout[name.split('_')[0]]} layout)" in loaded.text


def test_a_narrow_table_with_a_prefix_on_every_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "narrow.txt"
    source.write_text(LINE_PREFIXES["python_comment"](KERAS3_W40_FUNCTIONAL))
    assert len(import_file(tmp_path, capsys, source).spec.layers) == 3


@pytest.mark.parametrize("name", ["keras2_residual", "tf2_residual", "keras3_residual_w64"])
def test_no_break_spaces_of_a_table_copied_from_a_web_page(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "copied.txt"
    source.write_text((SUMMARIES / f"{name}.txt").read_text().replace(" ", "\u00a0"))
    compare_with_truth(import_file(tmp_path, capsys, source),
                       json.loads((SUMMARIES / "residual.json").read_text()))


def test_window_steps_are_the_smallest_strides_solved_not_searched() -> None:
    """The strides taking a length to an output length, as trying every stride up to the
    length finds them (the smallest MAX_STRIDES of each padding), without trying them all."""
    def every_stride(length: int, out: int, window: int) -> list[tuple[int, str]]:
        found = []
        for stride in range(1, length + 1):
            if output_length(length, window, stride, 1, "valid") == out:
                found.append((stride, "valid"))
            if output_length(length, window, stride, 1, "same") == out and sum(
                    same_padding(length, window, stride)):
                found.append((stride, "same"))
        return found

    for length, window, out in product(range(1, 40), range(1, 9), range(42)):
        solved = window_steps(length, out, window)
        for padding in ("valid", "same"):
            assert [step for step in solved if step[1] == padding] == [
                step for step in every_stride(length, out, window) if step[1] == padding
            ][:MAX_STRIDES], (length, window, out, padding)
    assert len(window_steps(1 << 20, 2, 3)) <= 2 * MAX_STRIDES  # not half a million
