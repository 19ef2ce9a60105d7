"""The contract between the generic `Trainer` and a task, and the shared torch update step."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tasks.engine.settings import TrainConfig


@dataclass(frozen=True)
class StepStats:
    """What one optimisation step reports: mean loss, gradient norm before clipping, tokens seen."""

    loss: float
    grad_norm: float
    tokens: int


class Task(Protocol):
    """A task owns its data, model and optimiser; the trainer owns the loop around them.

    Every task class derives from `TaskBase`, which gives the last three hooks (`end_epoch`,
    `pop_gradient_profile`, `details`) their defaults; a task overrides the ones it needs.
    """

    name: str
    config: TrainConfig
    primary_metric: str
    lower_is_better: bool
    dataset_note: str

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


class TaskBase:
    """The defaults of a `Task`'s optional hooks, and `seeded_batches`; every task class derives
    from it."""

    config: TrainConfig
    _epoch_batches: tuple[int, Sequence[Any]] | None = None
    """The batches `seeded_batches` made last, with their epoch (None: make them again)."""

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


def torch_update(model: Any, optimizer: Any, loss: Any, clip: float, lr: float) -> float:
    """Backward pass, global-norm clipping and one optimiser step; returns the norm before clipping.

    Clipping keeps one exploding batch from throwing the weights far away, which recurrent nets
    are prone to (the product of Jacobians over time can blow up). A non-finite norm skips the
    update so the weights stay good; the trainer then reports the failure.
    """
    import torch

    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    loss_value = float(loss.detach())
    params = [p for p in model.parameters() if p.grad is not None]
    max_norm = clip if clip > 0 else float("inf")
    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    if math.isfinite(norm) and math.isfinite(loss_value):
        optimizer.step()
    return norm


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
    """Apply ``--threads`` to torch and return the ``--device`` to use (see `pick_device`)."""
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)
    return pick_device(config.device)


def pick_device(name: str) -> str:
    """auto: CUDA, then MPS, then CPU."""
    import torch

    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
