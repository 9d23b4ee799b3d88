"""Data-parallel training under torchrun: which rank this process is, its process group, and
the few collectives the engine needs (sums, a shared stop decision, one broadcast).

torchrun (`torch.distributed.run`) starts one process per rank with RANK, WORLD_SIZE and
LOCAL_RANK in the environment; without them this is the single process of an ordinary run
and every helper here is a no-op. The process group is NCCL on GPUs and gloo on CPUs; small
host-side decisions (stop requests, objects) go through a gloo group in either case, so
they never wait for the device.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from specc.errors import ExitCode, SpeccError

# Long enough for rank 0 to write a large checkpoint while the others wait at a barrier; a
# rank that dies is noticed by torchrun's agent, which stops the others long before this.
COLLECTIVE_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that prints and writes the run folder."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()
LAUNCHED_BY_SPECC = "SPECC_LAUNCHED"  # set by `--nproc` for its ranks: it reports dead ranks
_groups: dict[str, Any] = {}  # "host": the gloo group for host-side decisions


def _env_int(name: str) -> int:
    text = os.environ[name]
    try:
        return int(text)
    except ValueError:
        raise SpeccError(f"${name}={text!r}: expected an integer (torchrun sets it)") from None


def world_from_environment() -> World:
    """This process's place in a torchrun job, or SINGLE outside one."""
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return SINGLE
    world = World(_env_int("RANK"), _env_int("WORLD_SIZE"),
                  _env_int("LOCAL_RANK") if "LOCAL_RANK" in os.environ else 0)
    if not 0 <= world.rank < world.size:
        raise SpeccError(f"$RANK={world.rank} is outside the world of {world.size} processes")
    return world


def local_batch(global_batch: int, world: World) -> int:
    """The batch of one rank: the recipe's batch is the global one, split evenly."""
    if global_batch % world.size:
        raise SpeccError(
            f"Invalid value for argument `batch_size`. Expected a multiple of the world size "
            f"{world.size} (the batch is split evenly across the ranks). Received "
            f"batch_size={global_batch}.")
    return global_batch // world.size


@contextmanager
def process_group(world: World, device_type: str) -> Iterator[None]:
    """The job's process group (NCCL on CUDA, else gloo) for the duration of a run."""
    if not world.distributed:
        yield
        return
    import torch.distributed as dist

    backend = "nccl" if device_type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
    _groups["host"] = dist.new_group(backend="gloo") if backend != "gloo" else dist.group.WORLD
    try:
        yield
    finally:
        _groups.clear()
        dist.destroy_process_group()


def _host_group() -> Any:
    return _groups["host"]


def broadcast_object(value: Any, world: World) -> Any:
    """Rank 0's `value` on every rank."""
    if not world.distributed:
        return value
    import torch.distributed as dist

    holder = [value]
    dist.broadcast_object_list(holder, src=0, group=_host_group())
    return holder[0]


def any_rank(flag: bool, world: World) -> bool:
    """True on every rank if it is true on any (a stop request that all ranks act on at the
    same step, so that none is left waiting in a collective)."""
    if not world.distributed:
        return flag
    import torch
    import torch.distributed as dist

    tensor = torch.tensor([int(flag)], dtype=torch.int32)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX, group=_host_group())
    return bool(tensor.item())


def barrier(world: World) -> None:
    if world.distributed:
        import torch.distributed as dist

        dist.barrier(group=_host_group())


def all_sum(tensor: Any, world: World) -> Any:
    """The element-wise sum over the ranks (in place; returned for convenience)."""
    if world.distributed:
        import torch.distributed as dist

        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather(tensor: Any, world: World) -> list[Any]:
    """Every rank's `tensor`, in rank order."""
    if not world.distributed:
        return [tensor]
    import torch
    import torch.distributed as dist

    gathered = [torch.empty_like(tensor) for _ in range(world.size)]
    dist.all_gather(gathered, tensor)
    return gathered


@contextmanager
def main_first(world: World) -> Iterator[None]:
    """Rank 0 runs the block first (decoding and caching the data set once), then the rest."""
    if world.distributed and not world.is_main:
        barrier(world)
    yield
    if world.distributed and world.is_main:
        barrier(world)


def shard_range(count: int, world: World) -> tuple[int, int]:
    """The contiguous [start, stop) of `count` items that this rank holds (sizes differ by at
    most one)."""
    base, extra = divmod(count, world.size)
    start = world.rank * base + min(world.rank, extra)
    return start, start + base + (1 if world.rank < extra else 0)


def device_type(requested: str | None) -> str:
    """"cuda" or "cpu": what the run's --device resolves to, for the process group's backend."""
    if requested == "cpu":
        return "cpu"
    import torch

    return "cuda" if requested == "cuda" or torch.cuda.is_available() else "cpu"


def _process_group_failure(error: RuntimeError) -> bool:
    """An error of the collectives themselves: typically another rank is gone."""
    import torch.distributed as dist

    return isinstance(error, dist.DistError) or any(
        word in str(error) for word in ("gloo", "NCCL", "Connection closed", "Connection reset"))


@contextmanager
def rank_reporting(world: World) -> Iterator[None]:
    """In a multi-process run rank 0 alone prints; the others run with stdout silenced and
    exit with the same code as rank 0 without repeating its error line. A failure of the
    process group (another rank died) is one line and exit code 4, left to `--nproc`'s
    launcher to say when it started the job (it names the rank that died)."""
    if not world.distributed:
        yield
        return
    with open(os.devnull, "w") as quiet:
        try:
            with nullcontext() if world.is_main else redirect_stdout(quiet):
                yield
        except SpeccError as error:
            if world.is_main:
                raise
            raise SystemExit(int(error.exit_code)) from None
        except RuntimeError as error:
            if not _process_group_failure(error):
                raise
            if world.is_main and LAUNCHED_BY_SPECC not in os.environ:
                first = (str(error).strip().splitlines() or [""])[0]
                print(f"specc: rank {world.rank}: the process group failed (another rank is "
                      f"probably gone): {first}", file=sys.stderr)
            raise SystemExit(int(ExitCode.RANK_FAILED)) from None
