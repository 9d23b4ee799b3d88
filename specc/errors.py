"""specc's own error types and the exit codes they map to.

Every failure a user can cause ends as one of these, rendered as a single line
``file:line:col: message``; the CLI never shows a traceback for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    EXPECTATION_FAILED = 1  # the spec is valid but a declared expectation (or the gate) does not hold
    INVALID_INPUT = 2  # YAML, schema, usage, data or a backend that cannot express the spec
    RANK_FAILED = 3  # a process of a multi-process training run died; the others were stopped
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
        return prefix + self.message


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
