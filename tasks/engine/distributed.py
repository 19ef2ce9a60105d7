"""Training in several processes: who this process is, joining the others, and the few
collectives the trainer and the tasks share.

torchrun (``python -m torch.distributed.run``) starts N copies of the same command and tells
each its place in the environment: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous
``MASTER_ADDR``/``MASTER_PORT``. `world` reads it, `init_world` joins the process group (gloo
on the CPU, NCCL on CUDA), and the helpers below exchange a few numbers at a time:

- `share`: in one all-reduce, rank 0's values to every rank and the sums of every rank's
  (the trainer's stop, pause, save and progress each step, and the step's loss and tokens);
  `all_reduce_sum`, `all_reduce_mean`, `broadcast_flag` and `any_flag` are its plain forms.
- `gather_objects`: every rank's object on every rank (the carried state of the char LM's
  streams and each rank's RNG state, for rank 0's checkpoint).
- `average_gradients`: the gradients averaged over the ranks, for a backward pass that does
  not run through DistributedDataParallel (gradflow's probed steps).
- `shard_rows`: the contiguous rows of a global batch that one rank trains on.

Outside torchrun (no ``WORLD_SIZE``, or 1) every helper works on the one process and never
imports `torch.distributed`, so the single-process path is the one it always was. Torch is
imported inside the functions, like the rest of `tasks`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT_S = 1800.0
"""How long a process waits for the others in one collective (joining included). Tasks that
do not shard their evaluation evaluate on rank 0 alone while the others wait, so this covers a
full evaluation; a process that dies is noticed by torchrun, which ends the rest, long before."""


class DistributedError(ValueError):
    """This process cannot train with the others (a device without a backend, no rendezvous)."""


class ShardError(ValueError):
    """A batch has fewer rows than there are processes, so it cannot be split among them."""


@dataclass(frozen=True)
class World:
    """This process's place among the training processes.

    One process alone is ``World()``: rank 0 of 1, no backend.
    """

    rank: int = 0
    """0 .. size - 1; rank 0 alone writes the run folder and reads the controls."""
    size: int = 1
    """How many processes train together (torchrun's WORLD_SIZE)."""
    local_rank: int = 0
    """The rank among the processes of this machine (its CUDA device under NCCL)."""
    backend: str = ""
    """gloo or nccl once `init_world` has joined the group; "" before (or alone)."""

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes events, history, checkpoints and the summary."""
        return self.rank == 0


SINGLE = World()
"""One process alone."""


def world() -> World:
    """This process's `World`: from its process group once joined, else from the environment
    torchrun sets (``World()`` outside torchrun)."""
    size = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if size <= 1:
        return SINGLE
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), local, str(dist.get_backend()))
    return World(rank, size, local, "")


def backend_for(device: str) -> str:
    """The process-group backend for a device: nccl for CUDA, gloo for the CPU.

    Raises `DistributedError` for a device no backend serves (mps).
    """
    kind = device.split(":")[0]
    if kind == "cuda":
        return "nccl"
    if kind == "cpu":
        return "gloo"
    raise DistributedError(
        f"--device {device} cannot train in several processes; use --device cpu or cuda "
        "(or --nproc 1)"
    )


def init_world(device: str = "cpu", timeout_s: float = DEFAULT_TIMEOUT_S) -> World:
    """Join the process group torchrun describes (once; later calls return the same world).

    Alone it does nothing. Under NCCL each process takes the CUDA device of its local rank,
    so ``"cuda"`` means that device from here on. `timeout_s` bounds the wait for the others,
    joining and every later collective. Raises `DistributedError` (one line) when the group
    cannot be joined.
    """
    me = world()
    if me.size == 1 or me.backend:
        return me
    import datetime

    import torch
    import torch.distributed as dist

    backend = backend_for(device)
    if backend == "nccl":
        if not torch.cuda.is_available() or me.local_rank >= torch.cuda.device_count():
            raise DistributedError(
                f"local rank {me.local_rank} has no CUDA device of its own "
                f"({torch.cuda.device_count()} visible); start at most that many processes "
                "per machine"
            )
        torch.cuda.set_device(me.local_rank)
    try:
        dist.init_process_group(
            backend,
            rank=me.rank,
            world_size=me.size,
            timeout=datetime.timedelta(seconds=timeout_s),
        )
    except (RuntimeError, ValueError) as exc:  # no MASTER_ADDR, a rendezvous that never answers
        raise DistributedError(
            f"rank {me.rank} of {me.size} could not join the others: {_first_line(exc)}"
        ) from exc
    return world()


def close_world() -> None:
    """Leave the process group (if this process joined one)."""
    if world().size == 1:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def shard_rows(n_rows: int, rank: int, size: int) -> slice:
    """The rows of a global batch of `n_rows` that `rank` of `size` trains on: contiguous, in
    rank order, as equal as they can be (the first ``n_rows % size`` ranks take one more).

    With rows divisible by the ranks every shard has ``n_rows / size`` rows, and averaging the
    ranks' mean losses (what DistributedDataParallel does to their gradients) is the mean loss
    of the whole batch. Raises `ShardError` when a rank would get no row.
    """
    if n_rows < size:
        raise ShardError(f"a batch of {n_rows} rows cannot be split among {size} processes")
    per, extra = divmod(n_rows, size)
    start = rank * per + min(rank, extra)
    return slice(start, start + per + (1 if rank < extra else 0))


def share(
    main: Sequence[float] = (), each: Sequence[float] = ()
) -> tuple[list[float], list[float]]:
    """One all-reduce: rank 0's `main` values on every rank, and the sum over the ranks of
    every rank's `each`. Every rank passes as many of both. Alone: the values themselves."""
    me = world()
    if me.size == 1:
        return [float(v) for v in main], [float(v) for v in each]
    import torch
    import torch.distributed as dist

    mine = [float(v) for v in main] if me.main else [0.0] * len(main)
    values = torch.tensor([*mine, *(float(v) for v in each)], dtype=torch.float64,
                          device=_device(me))  # fmt: skip
    dist.all_reduce(values)
    out = values.cpu().tolist()
    return out[: len(main)], out[len(main) :]


def all_reduce_sum(values: dict[str, float]) -> dict[str, float]:
    """Each value summed over the ranks (every rank passes the same keys)."""
    keys = sorted(values)
    _, sums = share(each=[values[k] for k in keys])
    return dict(zip(keys, sums, strict=True))


def all_reduce_mean(values: dict[str, float]) -> dict[str, float]:
    """Each value averaged over the ranks (every rank passes the same keys)."""
    size = world().size
    return {k: v / size for k, v in all_reduce_sum(values).items()}


def broadcast_flag(flag: bool) -> bool:
    """Rank 0's `flag` on every rank (the others' are ignored)."""
    (value,), _ = share(main=[float(flag)])
    return value != 0.0


def any_flag(flag: bool) -> bool:
    """True on every rank when `flag` is true on any rank."""
    _, (count,) = share(each=[float(flag)])
    return count > 0.0


def barrier() -> None:
    """Wait until every rank has come here."""
    share(each=[0.0])


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's `obj`, in rank order, on every rank (pickled; give CPU tensors)."""
    if world().size == 1:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def average_gradients(parameters: Any) -> None:
    """Replace each parameter's gradient with its mean over the ranks (one all-reduce).

    For a backward pass that does not run through DistributedDataParallel; parameters without
    a gradient are skipped (the same ones on every rank).
    """
    me = world()
    if me.size == 1:
        return
    import torch
    import torch.distributed as dist

    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= me.size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def _device(me: World) -> Any:
    """Where a collective's tensor lives: the process's CUDA device under NCCL, else the CPU."""
    import torch

    if me.backend == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
