"""Per-epoch progress: a rich bar on a terminal, plain lines otherwise (logs, CI, pipes)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _format_eta(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


class EpochProgress:
    """Shows steps continuously; loss/accuracy only when the engine hands them over (the
    engine syncs with the device rarely, so they are refreshed every few dozen steps)."""

    def __init__(self, stream: TextIO | None = None, *, force_plain: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.plain = force_plain or not self.stream.isatty()
        self._bar = None
        self._task = None
        self._plain_every = 1

    def start_epoch(self, epoch: int, epochs: int, steps: int) -> None:
        self.epoch, self.epochs, self.steps = epoch, epochs, steps
        self.started = time.perf_counter()
        self.loss: float | None = None
        self.accuracy: float | None = None
        self._last_plain = 0
        self._plain_every = max(steps // 4, 1)
        if self.plain:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn(f"epoch {epoch}/{epochs}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeRemainingColumn(),
            console=Console(file=self.stream), transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task("train", total=steps, stats="")

    def _stats(self, done: int, batch_size: int) -> str:
        elapsed = time.perf_counter() - self.started
        rate = done * batch_size / elapsed if elapsed > 0 else 0.0
        parts = []
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f} acc {self.accuracy:.4f}")
        parts.append(f"{rate:,.0f} img/s")
        return " ".join(parts)

    def update(self, done: int, batch_size: int, loss: float | None = None,
               accuracy: float | None = None) -> None:
        if loss is not None:
            self.loss, self.accuracy = loss, accuracy
        if self._bar is not None:
            self._bar.update(self._task, completed=done, stats=self._stats(done, batch_size))
            return
        if done - self._last_plain >= self._plain_every and done < self.steps:
            self._last_plain = done
            elapsed = time.perf_counter() - self.started
            eta = elapsed / done * (self.steps - done)
            print(f"epoch {self.epoch}/{self.epochs} step {done}/{self.steps} "
                  f"{self._stats(done, batch_size)} eta {_format_eta(eta)}",
                  file=self.stream, flush=True)

    def end_epoch(self, summary: str) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        print(summary, file=self.stream, flush=True)
