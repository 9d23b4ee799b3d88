"""Writing files so that nothing half-written ever remains: a temporary file beside the
target, renamed over it when complete and removed on any error; and strict JSON."""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from specc.errors import SpeccError

NAME_MAX = 255  # bytes in one file name on Linux and macOS file systems


@contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path in `path`'s folder: renamed over `path` when the block ends normally,
    removed when it raises (whatever it raises, Ctrl-C included).

    An OSError names `path` (not the temporary file) so that the message says which file
    could not be written."""
    check_replaceable(path)
    mode = _new_file_mode(path)
    # mkstemp adds 8 random characters; the temporary name must fit where `path`'s name fits.
    room = NAME_MAX - len(os.fsencode(suffix)) - 8 - 2
    prefix = os.fsdecode(os.fsencode(path.name)[:max(room, 0)])
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{prefix}.", suffix=suffix)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from None
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        temp.chmod(mode)  # after: a writer may have replaced the temporary file (safetensors)
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def check_replaceable(path: Path) -> None:
    """Refuse a target that is a device, pipe or socket (`-o /dev/stdout`): renaming a file
    over it would replace the device itself, as root even /dev/null."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # absent (or unreadable: the write itself says why)
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise SpeccError(f"{path}: is a device, pipe or socket, not a file; specc writes a "
                         "complete file and renames it over the target, which would replace it: "
                         "give a file's name")


def same_file(first: str, second: str) -> bool:
    """Whether two command-line paths name one file (`-`, standard input or output, names
    none): the same path once links are resolved, or an existing file under two names."""
    if "-" in (first, second):
        return False
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # either does not exist (yet)
        return False


def _new_file_mode(path: Path) -> int:
    """The permissions open() would give: the replaced file's own, or 0o666 less the umask
    (mkstemp's 0o600 would hide every spec, weights file and checkpoint from the group)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it; restored at once
        os.umask(umask)
        return 0o666 & ~umask


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as temp, open(temp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def finite_or_none(value: Any) -> Any:
    """`value` with every NaN or infinite float replaced by None (JSON null), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(item) for item in value]
    return value


def strict_json(value: Any, **options: Any) -> str:
    """JSON that every parser accepts: no NaN or Infinity (they become null)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **options)
