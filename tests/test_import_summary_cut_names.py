"""Keras 3 summaries whose "Connected to" names are cut with `…` (the default width), or
cropped at the console's right edge (a `line_length` wider than the console), and tables of
a layer called more than once. Each table is printed here from a real Keras model; an
imported graph is compared with the graph `specc import keras` reads from that same model."""

from __future__ import annotations

import contextlib
import io
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import keras
import pytest
from keras import layers

from specc.cli import main
from specc.graph import graph_signature
from specc.importers.keras import import_model_object
from specc.spec.load import load_spec, load_spec_text


def residual_blocks(prefix: str, blocks: int = 2) -> keras.Model:
    """conv -> bn -> relu chains whose long names a summary cuts to the same start, each
    added to its block's input, as EfficientNet's and ResNet's blocks are."""
    inputs = keras.Input((8, 8, 4), name="image")
    x = inputs
    for block in range(blocks):
        name = f"{prefix}{block}"
        y = layers.Conv2D(4, 3, padding="same", name=f"{name}_expand_convolution")(x)
        y = layers.BatchNormalization(name=f"{name}_expand_convolution_bn")(y)
        y = layers.Activation("relu", name=f"{name}_expand_convolution_relu")(y)
        x = layers.Add(name=f"{name}_add")([x, y])
    return keras.Model(inputs, layers.GlobalAveragePooling2D(name="pool")(x))


def printed(model: keras.Model, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
            line_length: int | None = None) -> Path:
    """model.summary() as captured output prints it: on a console 80 columns wide."""
    monkeypatch.setenv("COLUMNS", "80")
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        model.summary(line_length=line_length)
    path = tmp_path / f"{model.name}_{line_length}.txt"
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def imported_summary(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    out = path.with_suffix(".yaml")
    code = main(["import", "summary", str(path), "-o", str(out)])
    return code, capsys.readouterr().err, out


def truth(model: keras.Model) -> Counter[int]:
    return graph_signature(load_spec_text(import_model_object(model, model.name).text,
                                          "<keras>").spec)


def test_names_cut_with_an_ellipsis_are_inferred_from_the_graph(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = residual_blocks("stage")
    path = printed(model, monkeypatch, tmp_path)
    assert "stage0_expand_co…" in path.read_text(encoding="utf-8")  # the names are cut
    code, err, out = imported_summary(path, capsys)
    assert code == 0, err
    assert graph_signature(load_spec(out).spec) == truth(model)
    assert "inferred: input stage0_expand_conv" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("line_length", [100, 200])  # cropped in "Connected to", in "Output Shape"
def test_a_table_cropped_at_the_console_edge_is_one_line_exit_2(
    line_length: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cropping loses whole entries (an Add's second input sits beyond the edge), so no
    graph read from what is left can be trusted."""
    path = printed(residual_blocks("stage"), monkeypatch, tmp_path, line_length=line_length)
    header = next(line for line in path.read_text(encoding="utf-8").splitlines()
                  if "Layer (type)" in line)
    assert len(header) == 80 and "Connected to" not in header
    code, err, out = imported_summary(path, capsys)
    assert code == 2 and not out.exists()
    assert err.startswith(f"{path}:3:1: the table is cropped at column 80")
    assert len(err.strip().splitlines()) == 1


def test_a_nested_model_row_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = keras.Input((8, 8, 3))
    stem = keras.Sequential([layers.Conv2D(4, 3), layers.ReLU()], name="stem")
    model = keras.Model(inputs, layers.Flatten()(stem(inputs)), name="with_stem")
    code, err, out = imported_summary(printed(model, monkeypatch, tmp_path), capsys)
    assert code == 2 and not out.exists()
    assert "layer stem: is a nested Sequential model" in err and "specc import keras" in err
    assert len(err.strip().splitlines()) == 1


def _two_branches(merge: str, order: str, second_from: str = "a") -> str:
    return f"""
name: branches
input: {{shape: [4]}}
layers:
  - {{name: a, type: Dense, units: 3}}
  - {{name: b, type: Dense, units: 3, inputs: [{second_from}]}}
  - {{name: m, type: {merge}, inputs: [{order}]}}
"""


def test_the_graph_signature_sees_wiring_and_only_the_order_that_matters() -> None:
    def signature(text: str) -> Counter[int]:
        return graph_signature(load_spec_text(text, "<spec>").spec)

    assert signature(_two_branches("Add", "a, b")) == signature(_two_branches("Add", "b, a"))
    assert signature(_two_branches("Subtract", "a, b")) != signature(
        _two_branches("Subtract", "b, a"))
    assert signature(_two_branches("Add", "a, b")) != signature(
        _two_branches("Add", "a, b", second_from="input"))


def test_a_commutative_merge_of_two_cut_names_is_either_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two branches whose names a summary cuts to the same start, added: Add reading (a, b)
    is Add reading (b, a), so the cut names decide the graph."""
    inputs = keras.Input((8, 8, 3), name="image")
    one = layers.Conv2D(4, 3, padding="same", name="a_very_long_convolution_name_one")(inputs)
    two = layers.Conv2D(4, 1, name="a_very_long_convolution_name_two")(inputs)
    model = keras.Model(inputs, layers.Add(name="add")([one, two]), name="two_branches")
    path = printed(model, monkeypatch, tmp_path)
    assert path.read_text(encoding="utf-8").count("a_very_long_conv…") == 2  # both inputs cut
    code, err, out = imported_summary(path, capsys)
    assert code == 0, err
    assert graph_signature(load_spec(out).spec) == truth(model)


def shared_then_added() -> keras.Model:
    inputs = keras.Input((8,), name="x")
    shared = layers.Dense(8, name="shared")
    first = shared(inputs)
    return keras.Model(inputs, layers.Add(name="add")([shared(layers.ReLU()(first)), first]))


def shared_in_a_row() -> keras.Model:
    inputs = keras.Input((8,), name="x")
    shared = layers.Dense(8, name="shared")
    return keras.Model(inputs, shared(shared(inputs)))


@pytest.mark.parametrize(("make", "evidence"), [
    (shared_then_added, r"layers read `shared\[1\]\[0\]`, its second call"),
    (shared_in_a_row, "it reads its own output"),
])
def test_a_shared_layer_is_one_line_exit_2_at_its_row(
    make: Callable[[], keras.Model], evidence: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = printed(make(), monkeypatch, tmp_path)
    code, err, out = imported_summary(path, capsys)
    assert code == 2
    assert re.fullmatch(rf"{re.escape(str(path))}:7:1: layer shared: is a shared layer, called "
                        rf"more than once \({evidence}\); specc models call each layer once\n",
                        err), err
    assert not out.exists()


def test_an_input_cut_to_the_reading_layer_s_own_name_is_not_a_shared_layer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Xception's block10_sepconv1 reads block10_sepconv1_act, which the table cuts to
    `block10_sepconv1…`: the start of another name, not the layer reading itself."""
    inputs = keras.Input((8, 8, 4), name="image")
    x = layers.Activation("relu", name="block10_sepconv1_act")(inputs)
    x = layers.SeparableConv2D(4, 3, padding="same", name="block10_sepconv1")(x)
    model = keras.Model(inputs, layers.Add(name="add")([x, inputs]), name="xception_block")
    path = printed(model, monkeypatch, tmp_path)
    assert "block10_sepconv1…" in path.read_text(encoding="utf-8")
    code, err, out = imported_summary(path, capsys)
    assert code == 0, err
    assert graph_signature(load_spec(out).spec) == truth(model)
