"""`specc validate` and `specc schema` through the real CLI entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specc.cli import main
from specc.layers.registry import LAYER_TYPES
from specc.spec.load import load_spec
from specc.spec.yaml_source import parse_yaml
from specc.summary import ASCII, box_for, memory_size

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))

TINY = (
    "name: tiny\n"
    "input:\n  shape: [8, 8, 3]\n"
    "layers:\n"
    "  - {name: conv, type: Conv2D, filters: 4, kernel_size: 3, expect: {shape: [6, 6, 4], "
    "params: PARAMS}}\n"
    "  - {name: flat, type: Flatten}\n"
)


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_every_spec_validates_with_its_table(
    spec_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(spec_path)]) == 0
    out = capsys.readouterr().out
    loaded = load_spec(spec_path)
    assert f'Model: "{loaded.spec.name}"' in out
    for info in loaded.info.layers:
        assert f"{info.layer.name} ({info.layer.type})" in out
    assert f"Total params: {loaded.info.total_params:,} ({memory_size(loaded.info.total_params)})" in out


def test_json_is_one_document_for_all_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--json", *map(str, SPECS)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 0
    assert [entry["file"] for entry in document["files"]] == list(map(str, SPECS))
    for entry, path in zip(document["files"], SPECS, strict=True):
        loaded = load_spec(path)
        model = entry["model"]
        assert entry["status"] == "ok"
        assert model["totals"]["total_params"] == loaded.info.total_params
        assert model["totals"]["flops"] == loaded.info.flops
        assert [layer["output_shape"] for layer in model["layers"]] == [
            list(info.output_shape) for info in loaded.info.layers
        ]
        assert all(check["met"] for check in model["expectations"])


def test_unmet_expectation_exits_1_with_the_arithmetic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "tiny.yaml", TINY.replace("PARAMS", "100"))
    assert main(["validate", path]) == 1
    captured = capsys.readouterr()
    column = TINY.splitlines()[4].index("PARAMS") + 1
    assert captured.err.splitlines() == [
        f"{path}:5:{column}: layer conv (Conv2D): expected params 100, inferred 112 = (3*3*3 + 1)*4"
    ]
    assert "✗ params" in captured.out
    assert "1 of 2 expectation(s) hold" in captured.out


def test_json_reports_the_failed_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "tiny.yaml", TINY.replace("PARAMS", "100"))
    assert main(["validate", "--json", path]) == 1
    entry = json.loads(capsys.readouterr().out)["files"][0]
    (failed,) = [check for check in entry["model"]["expectations"] if not check["met"]]
    assert (failed["quantity"], failed["declared"], failed["inferred"]) == ("params", 100, 112)
    assert failed["line"] == 5


def test_the_worst_file_sets_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _write(tmp_path, "good.yaml", TINY.replace("PARAMS", "112"))
    failing = _write(tmp_path, "failing.yaml", TINY.replace("PARAMS", "1"))
    broken = _write(tmp_path, "broken.yaml", "name: [\n")
    assert main(["validate", good, failing]) == 1
    assert main(["validate", good, broken, failing]) == 2
    out = capsys.readouterr().out
    assert out.count('Model: "tiny"') == 4  # every valid file still gets its table


def test_missing_directory_and_unreadable_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = str(tmp_path / "absent.yaml")
    assert main(["validate", absent]) == 2
    assert capsys.readouterr().err.splitlines() == [f"specc: {absent}: no such file"]
    assert main(["validate", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    not_a_dir = _write(tmp_path, "file.yaml", "name: x\n")
    assert main(["validate", not_a_dir + "/inner.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"specc: {not_a_dir}/inner.yaml: cannot read") and err.count("\n") == 1
    locked = _write(tmp_path, "locked.yaml", TINY.replace("PARAMS", "112"))
    os.chmod(locked, 0)
    try:
        code = main(["validate", locked])
        err = capsys.readouterr().err
        if os.access(locked, os.R_OK):  # root reads anything: the file is then simply valid
            assert code == 0
        else:
            assert (code, err) == (2, f"specc: {locked}: cannot read: Permission denied\n")
    finally:
        os.chmod(locked, 0o644)


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["validate"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_descriptions_with_quotes_and_newlines_are_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = TINY.replace("PARAMS", "112").replace(
        "name: tiny\n", "name: tiny\ndescription: \"it's \\\"quoted\\\"\\n'''\\nimport os\"\n"
    )
    assert main(["validate", _write(tmp_path, "tiny.yaml", text)]) == 0
    assert load_spec(tmp_path / "tiny.yaml").spec.description == "it's \"quoted\"\n'''\nimport os"


def test_ascii_table_where_the_terminal_cannot_show_boxes() -> None:
    assert box_for("ascii") is ASCII
    assert box_for("utf-8") is not ASCII


def test_validate_imports_no_framework() -> None:
    code = (
        "import sys\n"
        "from specc.cli import main\n"
        "assert main(['validate', 'specs/alexnet.yaml']) == 0\n"
        "heavy = {'torch', 'tensorflow', 'keras', 'jax', 'rich', 'numpy', 'matplotlib'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_schema_names_every_layer_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    mapping = schema["properties"]["layers"]["items"]["discriminator"]["mapping"]
    assert set(mapping) == set(LAYER_TYPES)
    for type_name in LAYER_TYPES:
        definition = schema["$defs"][type_name]
        assert definition["properties"]["type"]["const"] == type_name
        assert definition["properties"]["name"]["pattern"] == r"^[A-Za-z_][A-Za-z0-9_]*$"
        assert definition["additionalProperties"] is False


def test_schema_agrees_with_every_spec(capsys: pytest.CaptureFixture[str]) -> None:
    """Each layer of each spec uses only keys the schema offers and all it requires."""
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    for path in SPECS:
        data, _ = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        assert set(data) <= set(schema["properties"])
        for layer in data["layers"]:
            definition = schema["$defs"][layer["type"]]
            assert set(layer) <= set(definition["properties"]), (path, layer["name"])
            assert set(definition.get("required", ())) <= set(layer), (path, layer["name"])
