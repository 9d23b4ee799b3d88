"""Checkpoint files that survive crashes: atomic, checksummed, framework-neutral bytes.

Layout: ``MAGIC`` (8 bytes) | backend name (8 bytes, space padded) | payload length (8 bytes, big-endian) | sha256 of the payload
(32 bytes) | payload. The engines serialise their state to the payload bytes; this module
only guarantees that a file at the final path is either a complete checkpoint or absent.

A write goes to a temporary file in the same folder, is flushed and fsync'ed, then renamed
over the target with ``os.replace`` (atomic on POSIX), and the folder is fsync'ed. A crash,
SIGKILL or full disk at any moment leaves the previous checkpoint untouched; the temporary
file is removed on error (and stale ones from killed writers are removed on the next write).
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import numpy as np

from specc.errors import SpeccError
from specc.spec.load import LoadedSpec

MAGIC = b"SPECCKP1"
BACKEND_SIZE = 8
HEADER_SIZE = len(MAGIC) + BACKEND_SIZE + 8 + 32
CHUNK = 8 << 20


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _write_chunk(handle: int, chunk: memoryview) -> None:
    """Write one chunk fully (os.write may write less than asked)."""
    while chunk:
        written = os.write(handle, chunk)
        chunk = chunk[written:]


def write_checkpoint(path: Path, backend: str, payload: bytes) -> None:
    """Atomically write `payload` (made by `backend`) to `path` with its length and checksum."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(_temp_prefix(path) + "*"):
        stale.unlink(missing_ok=True)
    temp = path.parent / f"{_temp_prefix(path)}{os.getpid()}"
    tag = backend.encode("ascii").ljust(BACKEND_SIZE)[:BACKEND_SIZE]
    header = MAGIC + tag + len(payload).to_bytes(8, "big") + hashlib.sha256(payload).digest()
    handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            _write_chunk(handle, memoryview(header))
            view = memoryview(payload)
            for start in range(0, len(view), CHUNK):
                _write_chunk(handle, view[start : start + CHUNK])
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise SpeccError(
                f"{path}: no space left on the device while writing the checkpoint; nothing "
                "was written and the previous checkpoint (if any) is intact"
            ) from None
        if isinstance(error, OSError):
            raise SpeccError(f"{path}: cannot write the checkpoint ({error.strerror})") from None
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems do not support fsync on folders
    finally:
        os.close(handle)


def read_checkpoint(path: Path) -> tuple[str, bytes]:
    """(backend, payload) of a checkpoint file, after checking its length and checksum."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpeccError(f"{path}: no such checkpoint") from None
    except IsADirectoryError:
        raise SpeccError(f"{path}: is a folder, not a checkpoint file") from None
    except OSError as error:
        raise SpeccError(f"{path}: cannot read the checkpoint ({error.strerror})") from None
    if len(data) < HEADER_SIZE or not data.startswith(MAGIC):
        if len(data) < HEADER_SIZE and MAGIC.startswith(data[: len(MAGIC)]) and data:
            raise SpeccError(f"{path}: truncated checkpoint ({len(data)} bytes, header incomplete)")
        raise SpeccError(f"{path}: not a specc checkpoint (bad magic bytes)")
    backend = data[len(MAGIC) : len(MAGIC) + BACKEND_SIZE].decode("ascii", "replace").strip()
    at = len(MAGIC) + BACKEND_SIZE
    length = int.from_bytes(data[at : at + 8], "big")
    digest = data[at + 8 : HEADER_SIZE]
    payload = data[HEADER_SIZE:]
    if len(payload) != length:
        state = "truncated" if len(payload) < length else "corrupted"
        raise SpeccError(
            f"{path}: {state} checkpoint (payload is {len(payload):,} bytes, the header says "
            f"{length:,})"
        )
    if hashlib.sha256(payload).digest() != digest:
        raise SpeccError(f"{path}: corrupted checkpoint (sha256 checksum mismatch)")
    return backend, payload


def checkpoint_file(path: Path) -> Path:
    """The checkpoint a user names: a file, or a run folder's `checkpoints/last.ckpt`."""
    return path / "checkpoints" / "last.ckpt" if path.is_dir() else path


def check_trained_from(state_sha: str, state_name: str, loaded: LoadedSpec,
                       checkpoint: Path) -> None:
    """Refuse a checkpoint that was trained from another spec (or another text of it)."""
    if state_sha != loaded.sha256:
        raise SpeccError(
            f"{checkpoint}: the checkpoint was trained from spec {state_name!r} with a different "
            f"text (sha256 {state_sha[:12]}...), not from {loaded.path} (sha256 "
            f"{loaded.sha256[:12]}...)")


def check_checkpoint_matches(state_sha: str, state_name: str, loaded: LoadedSpec,
                             checkpoint: Path, classes: list[str],
                             data_classes: tuple[str, ...]) -> None:
    """The checkpoint is the spec's and was trained on as many classes as the data has."""
    check_trained_from(state_sha, state_name, loaded, checkpoint)
    if len(classes) != len(data_classes):
        raise SpeccError(f"{checkpoint}: trained on {len(classes)} classes, the data has "
                         f"{len(data_classes)}")


def normalization_of(state: dict) -> tuple[np.ndarray, np.ndarray]:
    """The training set's per-channel mean and std (in [0, 1] pixel units) a checkpoint keeps."""
    return np.asarray(state["normalization"]["mean"]), np.asarray(state["normalization"]["std"])
