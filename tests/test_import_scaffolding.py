"""What every importer shares: the `specc import` command, reading sources, atomic output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from specc.cli import main
from specc.commands.import_ import importer_names
from specc.errors import SpeccError
from specc.importers import read_source_text, write_output


def test_import_without_a_source_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["import"])
    assert stopped.value.code == 2
    assert "specc: error:" in capsys.readouterr().err


def test_every_importer_module_has_the_interface() -> None:
    import importlib

    for name in importer_names():
        module = importlib.import_module(f"specc.importers.{name}")
        assert isinstance(module.HELP, str) and module.HELP
        assert callable(module.add_arguments) and callable(module.run)


def test_write_output_replaces_the_target_whole(tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old\n")
    write_output(str(target), "new: 1\n")
    assert target.read_text() == "new: 1\n"
    assert os.listdir(tmp_path) == ["out.yaml"]


@pytest.mark.parametrize("where", ["missing/out.yaml", "."])
def test_write_output_refuses_a_missing_folder_or_a_folder(tmp_path: Path, where: str) -> None:
    with pytest.raises(SpeccError, match="folder"):
        write_output(str(tmp_path / where), "x\n")
    assert sorted(os.listdir(tmp_path)) == []


def test_write_output_leaves_nothing_when_the_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    with pytest.raises(UnicodeEncodeError):
        write_output(str(target), "a: \udcff\n")  # a lone surrogate has no UTF-8 form
    assert os.listdir(tmp_path) == []


def test_write_output_gives_a_new_file_the_umask_mode_and_keeps_a_replaced_files(
    tmp_path: Path,
) -> None:
    umask = os.umask(0o022)
    try:
        write_output(str(tmp_path / "new.yaml"), "a: 1\n")
        shared = tmp_path / "shared.yaml"
        shared.write_text("old\n")
        shared.chmod(0o640)
        write_output(str(shared), "a: 2\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.yaml").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    assert shared.stat().st_mode & 0o777 == 0o640


def test_write_output_refuses_a_pipe_or_device_instead_of_replacing_it(tmp_path: Path) -> None:
    import stat

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(SpeccError, match="is a device, pipe or socket, not a file"):
        write_output(str(pipe), "x\n")
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def test_read_source_text_decodes_utf8_with_a_bom_and_refuses_binary(tmp_path: Path) -> None:
    text_file = tmp_path / "summary.txt"
    text_file.write_bytes(b"\xef\xbb\xbfModel: x\n")
    assert read_source_text(str(text_file)) == "Model: x\n"
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    with pytest.raises(SpeccError, match=r"model\.bin: not UTF-8 text"):
        read_source_text(str(binary))
    with pytest.raises(SpeccError, match="cannot read"):
        read_source_text(str(tmp_path / "absent.txt"))
