"""`specc train --nproc N`: N local processes through torchrun's own launcher.

`torch.distributed.run` starts the ranks (each runs `python -m specc train ...` without
--nproc), watches them, and stops them all when one fails; Ctrl-C or SIGTERM to this process
is forwarded to every rank, which stop at the same step after rank 0 saved a checkpoint.
This module turns torchrun's outcome into specc's exit codes and one line.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

from specc.errors import ExitCode
from specc.train.distributed import LAUNCHED_BY_SPECC

# Exit codes with which a rank has already said (or, for the others than rank 0, left to
# rank 0 to say) what happened; any other ending is a rank that died.
_REPORTED = (ExitCode.EXPECTATION_FAILED, ExitCode.INVALID_INPUT, ExitCode.INTERNAL_ERROR,
             ExitCode.RANK_FAILED, ExitCode.INTERRUPTED)


def torchrun_arguments(nproc: int, worker_argv: list[str]) -> list[str]:
    return ["--standalone", "--nnodes", "1", "--nproc-per-node", str(nproc),
            "--monitor-interval", "0.2", "-m", "specc", *worker_argv]


@contextlib.contextmanager
def _quiet_agent() -> Iterator[None]:
    """torchrun's agent logs its rendezvous and shutdown at WARNING; specc reports itself."""
    logger = logging.getLogger("torch.distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def launch(nproc: int, worker_argv: list[str], threads_per_rank: int | None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    config = parse_args(torchrun_arguments(nproc, worker_argv))
    environment = {LAUNCHED_BY_SPECC: "1"}
    if threads_per_rank is not None and "OMP_NUM_THREADS" not in os.environ:
        environment["OMP_NUM_THREADS"] = str(threads_per_rank)
    with _quiet_agent(), _environment(environment):
        try:
            run(config)
        except SignalException:
            # The agent forwarded the signal; rank 0 saved and said how to resume.
            return int(ExitCode.INTERRUPTED)
        except ChildFailedError as error:
            return _outcome(error.failures)
    return int(ExitCode.OK)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _outcome(failures: dict) -> int:
    """The exit code of a failed job; one line when a rank died without saying why."""
    died = {rank: failure for rank, failure in failures.items()
            if failure.exitcode not in _REPORTED}
    if died:
        rank, failure = min(died.items(), key=lambda item: (item[1].timestamp, item[0]))
        how = (f"killed by {failure.signal_name()}" if failure.exitcode < 0
               else f"exit code {failure.exitcode}")
        print(f"specc: rank {rank} (pid {failure.pid}) died ({how}); torchrun stopped the other "
              f"ranks. The run folder keeps the last epoch's checkpoint: continue with `specc "
              f"train SPEC --resume RUN_DIR` (with any --nproc)", file=sys.stderr)
        return int(ExitCode.RANK_FAILED)
    codes = {failure.exitcode for failure in failures.values()}
    for code in (ExitCode.INVALID_INPUT, ExitCode.EXPECTATION_FAILED, ExitCode.INTERRUPTED):
        if code in codes:
            return int(code)
    print("specc: a rank lost contact with the others and stopped", file=sys.stderr)
    return int(ExitCode.RANK_FAILED)
