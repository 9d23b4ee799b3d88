"""Progress output: plain lines when the output is not a terminal, a rich bar when it is."""

from __future__ import annotations

import io

from specc.train.progress import EpochProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = EpochProgress(stream)
    assert progress.plain
    progress.start_epoch(2, 5, 8)
    for step in range(1, 9):
        if step == 4:  # the engine hands over loss and accuracy when it syncs
            progress.update(step, 64, loss=1.5, accuracy=0.25)
        else:
            progress.update(step, 64)
    progress.end_epoch("epoch 2: done")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("epoch 2/5 step 2/8") and "img/s" in lines[0] and "eta" in lines[0]
    assert any("loss 1.5000 acc 0.2500" in line for line in lines)
    assert lines[-1] == "epoch 2: done"
    assert "\x1b" not in stream.getvalue()  # no terminal control codes in logs


def test_a_bar_on_a_terminal() -> None:
    stream = _Terminal()
    progress = EpochProgress(stream)
    assert not progress.plain
    progress.start_epoch(1, 3, 10)
    progress.update(5, 32, loss=0.75, accuracy=0.5)
    progress.update(10, 32)
    progress.end_epoch("epoch 1: done")
    output = stream.getvalue()
    assert "epoch 1/3" in output and "10/10" in output and "loss 0.7500 acc 0.5000" in output
    assert output.rstrip().endswith("epoch 1: done")
