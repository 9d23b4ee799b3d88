"""Checkpoint files: round trip, corruption and truncation detected, full disk and SIGKILL
during a write leave the previous checkpoint loadable and no partial file behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from specc.errors import SpeccError
from specc.train import checkpoint as checkpoint_module
from specc.train.checkpoint import HEADER_SIZE, read_checkpoint, write_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "run" / "last.ckpt"
    payload = os.urandom(100_000)
    write_checkpoint(path, "torch", payload)
    assert read_checkpoint(path) == ("torch", payload)
    write_checkpoint(path, "keras", b"second")
    assert read_checkpoint(path) == ("keras", b"second")
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.ckpt"]


def test_truncated_checkpoint_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    write_checkpoint(path, "torch", os.urandom(5000))
    content = path.read_bytes()
    path.write_bytes(content[:3000])
    with pytest.raises(SpeccError, match=r"last\.ckpt: truncated checkpoint \(payload is 2,944"):
        read_checkpoint(path)
    path.write_bytes(content[:20])
    with pytest.raises(SpeccError, match="truncated checkpoint .*header incomplete"):
        read_checkpoint(path)


def test_flipped_byte_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    write_checkpoint(path, "torch", bytes(5000))
    content = bytearray(path.read_bytes())
    content[HEADER_SIZE + 1234] ^= 0x10
    path.write_bytes(bytes(content))
    with pytest.raises(SpeccError, match="corrupted checkpoint .sha256 checksum mismatch"):
        read_checkpoint(path)


def test_other_files_are_not_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(SpeccError, match="not a specc checkpoint"):
        read_checkpoint(path)
    with pytest.raises(SpeccError, match="no such checkpoint"):
        read_checkpoint(tmp_path / "missing.ckpt")


def test_full_disk_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "last.ckpt"
    write_checkpoint(path, "torch", b"previous epoch")
    real_write = checkpoint_module._write_chunk
    calls = []

    def fill_up(handle: int, chunk: memoryview) -> None:
        calls.append(len(chunk))
        if len(calls) == 3:  # the disk fills up in the middle of the payload
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(handle, chunk)

    monkeypatch.setattr(checkpoint_module, "_write_chunk", fill_up)
    monkeypatch.setattr(checkpoint_module, "CHUNK", 1000)
    with pytest.raises(SpeccError, match="no space left .* previous checkpoint .* is intact"):
        write_checkpoint(path, "torch", os.urandom(10_000))
    assert len(calls) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]
    assert read_checkpoint(path) == ("torch", b"previous epoch")


WRITER = """
import sys, time
from pathlib import Path
from specc.train import checkpoint as c
path = Path(sys.argv[1])
c.write_checkpoint(path, "torch", b"epoch 1 " * 1000)
real = c._write_chunk
def slow(handle, chunk):
    real(handle, chunk)
    time.sleep(0.02)
c._write_chunk = slow
c.CHUNK = 4096
print("writing", flush=True)
c.write_checkpoint(path, "torch", b"epoch 2 " * 200_000)
print("done", flush=True)
"""


def test_sigkill_during_a_write_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "last.ckpt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"
        deadline = time.monotonic() + 30
        temp = None
        while temp is None and time.monotonic() < deadline:  # wait until the write is under way
            partial = [p for p in tmp_path.glob(".last.ckpt.tmp-*") if p.stat().st_size > 50_000]
            temp = partial[0] if partial else None
            time.sleep(0.01)
        assert temp is not None, "the writer never started its second checkpoint"
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL
    assert temp.exists()  # killed mid-write: the partial temporary file is there...
    assert read_checkpoint(path) == ("torch", b"epoch 1 " * 1000)  # ...the checkpoint intact
    write_checkpoint(path, "torch", b"epoch 2")  # the next write clears the leftover
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]
