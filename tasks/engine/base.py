"""The contract between the generic `Trainer` and a task, and the shared torch update step."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tasks.engine.distributed import World, shard_rows
from tasks.engine.settings import ConfigError, TrainConfig


@dataclass(frozen=True)
class StepStats:
    """What one optimisation step reports: mean loss, gradient norm before clipping, tokens seen."""

    loss: float
    grad_norm: float
    tokens: int


class Task(Protocol):
    """A task owns its data, model and optimiser; the trainer owns the loop around them.

    Every task class derives from `TaskBase`, which gives the optional hooks (`end_epoch`,
    `pop_gradient_profile`, `details`, `shard`, `evaluates_in_shards`) their defaults; a task
    overrides the ones it needs.

    Under several processes (torchrun) every rank builds the same task; the trainer hands
    each rank `shard(batch, world)` of every global batch, the task's training step runs its
    model in DistributedDataParallel (`distribute`), and rank 0 alone writes the run folder.
    """

    name: str
    config: TrainConfig
    primary_metric: str
    lower_is_better: bool
    dataset_note: str
    evaluates_in_shards: bool
    """True: `evaluate` (and `end_epoch`) run on every rank, each on its part of the
    validation data, and all-reduce what they sum (charlm). False: under several processes
    rank 0 alone evaluates the whole validation data with the weights every rank shares, and
    the others wait; the metrics are those of one process either way."""

    def parameter_count(self) -> int:
        """Trainable parameters of the model."""

    def batches(self, epoch: int) -> Sequence[Any]:
        """The training batches of an epoch, in an order that depends only on (seed, epoch)."""

    def start_epoch(self, epoch: int) -> None:
        """Reset per-epoch state (e.g. the hidden state carried between BPTT chunks)."""

    def train_step(self, batch: Any, lr: float) -> StepStats:
        """Forward, backward, clip and update on one batch at learning rate `lr`."""

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        """Validation metrics; quick: a cheap estimate on part of the data."""

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly (model, optimiser, carried state, vocabulary)."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""

    def end_epoch(self, epoch: int) -> bool:
        """Check the model after an epoch; True stops training after this epoch's checkpoint.

        `epoch` is the number of epochs done; the trainer calls this before the end-of-epoch
        evaluation and checkpoint (sentiment: scores validation, keeps the best weights, and
        says whether --patience ran out).
        """

    def pop_gradient_profile(self) -> dict[str, Any] | None:
        """The newest gradient-flow profile not handed out yet (a dict), or None.

        The trainer calls this for each `StepLogged` event and attaches the result as
        ``gradients`` (gradflow records profiles; the other tasks none).
        """

    def details(self) -> dict[str, Any]:
        """What the last full evaluation found besides its metrics (e.g. a confusion matrix).

        `rnn-tui eval --json` adds these keys to its output.
        """

    def shard(self, batch: Any, world: World) -> Any:
        """This rank's part of a global batch, as `train_step` takes it (several processes).

        Rank r takes the rows ``shard_rows(B, r, N)`` of a batch of B rows, so an epoch has the
        steps of one process and one step of N ranks is one step on the whole batch. Raises
        `ShardError` for a batch of fewer rows than ranks (the trainer skips it on every rank).
        """


class TaskBase:
    """The defaults of a `Task`'s optional hooks, and `seeded_batches`; every task class derives
    from it."""

    config: TrainConfig
    _epoch_batches: tuple[int, Sequence[Any]] | None = None
    """The batches `seeded_batches` made last, with their epoch (None: make them again)."""
    evaluates_in_shards: bool = False
    """Rank 0 alone evaluates under several processes (see `Task.evaluates_in_shards`)."""

    def seeded_batches(self, epoch: int, build: Callable[[Any], Sequence[Any]]) -> Sequence[Any]:
        """``build(rng)`` for `epoch`, made once and kept until another epoch is asked for.

        ``rng`` is a NumPy generator seeded by (``config.seed``, `epoch`), so the batches of an
        epoch depend on those alone, as `Task.batches` promises.
        """
        import numpy as np

        if self._epoch_batches is None or self._epoch_batches[0] != epoch:
            rng = np.random.default_rng([self.config.seed, epoch])
            self._epoch_batches = (epoch, build(rng))
        return self._epoch_batches[1]

    def end_epoch(self, epoch: int) -> bool:
        """Nothing to check after an epoch: never stops training early."""
        return False

    def pop_gradient_profile(self) -> dict[str, Any] | None:
        """No gradient-flow profiles recorded."""
        return None

    def details(self) -> dict[str, Any]:
        """Nothing beyond the metrics."""
        return {}

    def shard(self, batch: Any, world: World) -> Any:
        """A task that does not say how to split its batches trains in one process only."""
        name = getattr(self, "name", type(self).__name__)
        raise ConfigError(
            "needs 1 for this task",
            "nproc",
            message=f"{name} cannot train in several processes; use --nproc 1",
        )


def shard_indices(batch: Any, world: World) -> Any:
    """`Task.shard` of a batch that is an array of example indices (B,): this rank's rows."""
    return batch[shard_rows(len(batch), world.rank, world.size)]


def torch_update(
    model: Any, optimizer: Any, loss: Any, clip: float, lr: float, scaler: Any = None
) -> float:
    """Backward pass, global-norm clipping and one optimiser step; returns the norm before clipping.

    Clipping keeps one exploding batch from throwing the weights far away, which recurrent nets
    are prone to (the product of Jacobians over time can blow up). A non-finite norm skips the
    update so the weights stay good; the trainer then reports the failure.

    scaler: fp16's `torch.amp.GradScaler` (`tasks.engine.precision.grad_scaler`). The loss is
    scaled up for the backward pass and the gradients unscaled before clipping. A step whose
    scaled gradients overflowed is skipped by the scaler, which lowers its scale: that is how
    loss scaling finds its range, not a failure, so such a step reports a norm of 0 (no update).
    """
    import torch

    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss_value = float(loss.detach())
    (loss if scaler is None else scaler.scale(loss)).backward()
    if scaler is not None:
        scaler.unscale_(optimizer)
    params = [p for p in model.parameters() if p.grad is not None]
    max_norm = clip if clip > 0 else float("inf")
    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    if scaler is not None:
        scaler.step(optimizer)  # skipped when the unscaled gradients hold inf or NaN
        scaler.update()
        return 0.0 if math.isfinite(loss_value) and not math.isfinite(norm) else norm
    if math.isfinite(norm) and math.isfinite(loss_value):
        optimizer.step()
    return norm


def distribute(model: Any, world: World) -> Any:
    """The module a training step calls: `model` itself in one process; under several, `model`
    in DistributedDataParallel, which starts every rank from rank 0's weights and averages the
    gradients over the ranks during the backward pass.

    The wrapper shares `model`'s parameters, so the optimiser, clipping, the state dict and
    evaluation keep using `model` itself. Buffers are not broadcast (every rank holds the same
    ones, and evaluation on rank 0 alone must not wait for the others). Every parameter must
    take part in the loss of every step (no unused ones), or the second step fails naming
    them. Call it on every rank at the same point (it exchanges the weights).
    """
    if world.size == 1:
        return model
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from tasks.engine.distributed import init_world

    on_cuda = next(model.parameters()).is_cuda
    init_world("cuda" if on_cuda else "cpu")  # joined already when the trainer made it
    devices = [torch.cuda.current_device()] if on_cuda else None
    return DistributedDataParallel(model, device_ids=devices, broadcast_buffers=False)


def make_optimizer(model: Any, config: TrainConfig) -> Any:
    """AdamW with weight decay on matrices only (embeddings, biases and gains are not decayed)."""
    import torch

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.99))


def torch_device(config: TrainConfig) -> str:
    """Apply ``--threads`` to torch and return this process's device: ``--device`` (auto:
    CUDA, then MPS, then CPU) checked against the machine and ``--precision``, one GPU per
    process under torchrun (`tasks.engine.precision.process_device`)."""
    import torch

    from tasks.engine.precision import process_device

    if config.threads:
        torch.set_num_threads(config.threads)
    return process_device(config)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
