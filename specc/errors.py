"""specc's own error types and the exit codes they map to.

Every failure a user can cause ends as one of these, rendered as a single line
``file:line:col: message``; the CLI never shows a traceback for them.
"""

from __future__ import annotations

import errno
import os
import re
import shlex
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    EXPECTATION_FAILED = 1  # the spec is valid but a declared expectation (or the gate) does not hold
    INVALID_INPUT = 2  # YAML, schema, usage, data or a backend that cannot express the spec
    INTERNAL_ERROR = 3  # a bug in specc: one line on the terminal, the full report in a file
    RANK_FAILED = 4  # a process of a multi-process training run died; the others were stopped
    INTERRUPTED = 130  # Ctrl-C during training, after the checkpoint was saved


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a source file."""

    line: int
    col: int


class SpeccError(Exception):
    """An error caused by the user's input; always reported as one line."""

    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __init__(
        self, message: str, *, file: str | None = None, position: Position | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.position = position

    def located(self, file: str | None = None, position: Position | None = None) -> SpeccError:
        """Return a copy of this error with a file and position filled in where missing."""
        error = type(self)(
            self.message, file=self.file or file, position=self.position or position
        )
        error.exit_code = self.exit_code
        return error

    def __str__(self) -> str:
        prefix = ""
        if self.file is not None:
            prefix = f"{self.file}:"
            if self.position is not None:
                prefix += f"{self.position.line}:{self.position.col}:"
            prefix += " "
        return one_line(prefix + self.message)


class ExpectationError(SpeccError):
    """The spec is well-formed, but a declared expectation does not match what specc inferred."""

    exit_code = ExitCode.EXPECTATION_FAILED


class LayerError(ValueError):
    """Raised by a layer's inference rules; ``field`` names the argument at fault (if any).

    The spec loader turns it into a located SpeccError pointing at that argument's line.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# What an OSError means for the user, by errno (the system's strerror is the fallback).
_OS_ERROR_MEANINGS = {
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "on a read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "a file or folder name in the path is too long (at most 255 bytes "
                        "each, 4096 in all)",
    errno.ELOOP: "too many levels of symbolic links (a loop?)",
    errno.EMFILE: "too many open files",
    errno.EIO: "input/output error (a failing disk or network file system?)",
    errno.ENXIO: "no such device",
    errno.ENODEV: "no such device",
}


def os_error(error: OSError, what: str = "", path: object = None) -> SpeccError:
    """`path: what is wrong` for an OSError (exit 2); `what` says what specc was doing, `path`
    names the file meant (default: the one the error names, e.g. a temporary file's)."""
    meaning = _OS_ERROR_MEANINGS.get(error.errno or 0) or error.strerror or str(error)
    named = (path,) if path is not None else (error.filename, error.filename2)
    paths = [os.fsdecode(p) for p in named if p is not None]
    doing = f"cannot {what}: " if what else ""
    message = f"{doing}{meaning}"
    return SpeccError(message, file=" -> ".join(paths)) if paths else SpeccError(message)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with newlines and other control characters escaped (`\\n`, `\\x1b`), so that a
    message naming a hostile path or archive member stays one line on the terminal."""
    return _CONTROL.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def shell_word(text: str) -> str:
    """`text` quoted for a POSIX shell on one line: shlex.quote, or bash's `$'...'` form when
    it holds control characters (which plain single quotes would print raw)."""
    if not _CONTROL.search(text):
        return shlex.quote(text)
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return "$'" + _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}"
                               if ord(found.group()) < 0x100 else f"\\u{ord(found.group()):04x}",
                               escaped) + "'"
