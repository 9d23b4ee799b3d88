"""Reading files specc did not write, in bounded time and memory.

Every such file is checked to be a regular file (or folder) before it is opened, so a FIFO,
a device or a socket can never block or stream forever; its size is checked against a cap
before it is read; and `.npz` members are checked against the shapes and dtypes the reader
expects, from their headers, before any array is allocated.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from tokenize import TokenError
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

from specc.errors import SpeccError, os_error

# What a damaged zip or .npy header can raise (numpy parses the header with Python's tokenizer;
# zipfile refuses unknown compression methods and encrypted members).
_DAMAGED_NPZ = (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, KeyError,
                NotImplementedError, RuntimeError, SyntaxError, TokenError, OverflowError,
                MemoryError)

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def require_file_or_folder(path: Path, what: str) -> os.stat_result:
    """The stat of `path` (symbolic links followed) if it is a regular file or a folder."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise os_error(error, f"read {what}", path) from None
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise SpeccError(f"{path}: {file_kind(info.st_mode)}, not a regular file or folder; "
                         f"{what} is read only from files and folders")
    return info


def read_capped(path: Path, cap: int, what: str) -> bytes:
    """The bytes of the regular file `path`, refused without reading if over `cap` bytes."""
    info = require_file_or_folder(path, what)
    if stat.S_ISDIR(info.st_mode):
        raise SpeccError(f"{path}: is a folder, not {what}")
    if info.st_size > cap:
        raise SpeccError(f"{path}: {info.st_size:,} bytes; {what} is at most {cap:,} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)  # one byte past the cap, in case it grew since stat
    except OSError as error:
        raise os_error(error, f"read {what}", path) from None
    if len(data) > cap:
        raise SpeccError(f"{path}: more than {cap:,} bytes; {what} is at most {cap:,} bytes")
    return data


# --- .npz archives ------------------------------------------------------------------------

# (dtype, shape) of a member as its .npy header declares it; a check returns a problem or None.
MemberCheck = Callable[[np.dtype, tuple[int, ...]], str | None]


def read_npz(source: bytes | Path, checks: dict[str, MemberCheck], max_bytes: int,
             name: str, exact: bool = True) -> dict[str, np.ndarray]:
    """The arrays of an `.npz`, each checked from its header before it is read.

    `checks` names the members that must be present (`exact`: and no others); each member's
    declared dtype and shape go through its check, no object arrays are accepted, and the
    total declared size is at most `max_bytes`. Raises SpeccError naming `name` otherwise.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except _DAMAGED_NPZ as error:
        raise SpeccError(f"{name}: not a valid .npz archive ({error})") from None
    with archive:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        missing = sorted(set(checks) - set(members))
        unexpected = sorted(set(members) - set(checks)) if exact else []
        if missing or unexpected:
            problem = f"missing {', '.join(missing)}" if missing else \
                f"unexpected {', '.join(unexpected[:5])}"
            raise SpeccError(f"{name}: not the expected arrays ({problem})")
        total = sum(members[key].file_size for key in checks)
        if total > max_bytes + 1024 * len(checks):
            raise SpeccError(f"{name}: its arrays unpack to {total:,} bytes; at most "
                             f"{max_bytes:,} expected")
        return {key: _read_member(archive, members[key], check, name)
                for key, check in checks.items()}


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, check: MemberCheck,
                 name: str) -> np.ndarray:
    where = f"{name}: array {info.filename.removesuffix('.npy')!r}"
    try:
        with archive.open(info) as stream:
            dtype, shape, fortran = _header(stream)
            problem = check(dtype, shape) if not dtype.hasobject else "holds Python objects"
            if problem is not None:
                raise SpeccError(f"{where} {problem}")
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if size > info.file_size:
                raise SpeccError(f"{where}: its header declares {size:,} bytes, the archive "
                                 f"holds {info.file_size:,}")
            data = bytearray(size)
            read = stream.readinto(data)
            extra = stream.read(1)
    except _DAMAGED_NPZ as error:
        raise SpeccError(f"{where}: unreadable ({type(error).__name__}: {error})") from None
    if read != size or extra:
        raise SpeccError(f"{where}: holds a different number of bytes than its header says")
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order)


def _header(stream: IO[bytes]) -> tuple[np.dtype, tuple[int, ...], bool]:
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    return np.dtype(dtype), tuple(int(n) for n in shape), bool(fortran)


def shape_is(expected: tuple[int, ...], dtype: np.dtype | None = None) -> MemberCheck:
    """A check: exactly this shape (and dtype, when given)."""
    def check(found_dtype: np.dtype, shape: tuple[int, ...]) -> str | None:
        if shape != expected:
            return f"has shape {shape}, expected {expected}"
        if dtype is not None and found_dtype != dtype:
            return f"has dtype {found_dtype}, expected {dtype}"
        return None
    return check
