"""Gradient flow: train on long-range synthetic problems and record how gradients travel in time.

Problems, generated on the fly from ``(seed, epoch, batch)``, with ``T = --seq-len``:

- **adding** (Hochreiter & Schmidhuber 1997): T steps of two features, a number from U(0, 1)
  and a marker that is 1 at exactly two steps (one in each half). After the last step the model
  outputs the sum of the two marked numbers; the loss is the MSE. Always predicting 1 (the mean)
  scores Var(u1 + u2) = 1/6 = 0.167: a model near that has learnt nothing.
- **copy** (copy-memory, Arjovsky et al. 2016): 10 symbols from 8, then T - 1 blanks, a
  delimiter and 10 more blanks (T + 20 steps); the model outputs blanks, then the 10 symbols.
  The loss is the cross-entropy over all steps; outputting blanks and then guessing uniformly
  scores 10 ln 8 / (T + 20) nats.

Every `TrainConfig.probe_every` steps the step is taken through `models.probe.ProbeNet.unrolled`
(the same function, one time step at a time) and records, per layer and time step t, the norm of
dL/dh_t (the whole gradient reaching h_t, through every later step) and ``||u^T dh_T/dh_t||`` for
a fixed random unit vector u, plus the global gradient norm before and after clipping. The newest
record rides on the trainer's next `StepLogged` event (``gradients``). The NumPy RNN
(``--arch numpy-rnn``, copy only: it reads symbols) takes both from its own BPTT. For a modern
core h_t is its whole state (e.g. mLSTM's matrix memory) and h_T in the second quantity is the
layer's last output (see `models.probe`).

Under several processes every rank generates each batch whole and trains on its rows of it; a
probed step's state gradients are those of rank 0's rows (of its part of the loss), and its
parameter gradients are averaged over the ranks as DDP averages an unprobed step's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tasks.engine.base import StepStats, TaskBase, make_optimizer, seed_everything, torch_device
from tasks.engine.distributed import World, average_gradients, shard_rows, world
from tasks.engine.precision import StepModel
from tasks.engine.settings import ConfigError, TrainConfig

STEPS_PER_EPOCH = 100
"""Batches per epoch (the data is endless; an epoch is a unit of scheduling and checkpoints)."""
VAL_SIZE = 512
"""Fixed validation sequences (seeded apart from the training data)."""
QUICK_VAL_SIZE = 128
"""Sequences for the quick estimate during training."""
PROBE_SIZE = 64
"""Validation sequences whose gradients `evaluate` probes (for ``grad_ratio``)."""
EXPLODING_NORM = 1e3
"""A global gradient norm above this (before clipping) is reported as exploding."""
COPY_SYMBOLS = 8
"""Copy-memory draws its symbols from 1..8; 0 is the blank and 9 the delimiter."""
COPY_LENGTH = 10
"""Symbols to remember in copy-memory."""
COPY_VOCAB = COPY_SYMBOLS + 2
"""blank, 8 symbols, delimiter."""
VAL_STREAM = 2**31 - 1
"""The validation data's seed stream (training uses epoch numbers, far below it)."""


# -- the problems ------------------------------------------------------------------------------


def adding_batch(rng: np.random.Generator, batch: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """x ``(B, T, 2)`` float32 (number, marker) and y ``(B,)`` float32 the marked sum."""
    values = rng.random((batch, steps))  # (B, T)
    half = steps // 2
    first = rng.integers(0, half, batch)  # (B,) in [0, T/2)
    second = rng.integers(half, steps, batch)  # (B,) in [T/2, T)
    markers = np.zeros((batch, steps))
    rows = np.arange(batch)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], -1).astype(np.float32)
    y = (values[rows, first] + values[rows, second]).astype(np.float32)
    return x, y


def copy_batch(rng: np.random.Generator, batch: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y ``(B, T + 20)`` int64 symbol ids (0 blank, 1..8 symbols, 9 delimiter)."""
    length = steps + 2 * COPY_LENGTH
    symbols = rng.integers(1, COPY_SYMBOLS + 1, (batch, COPY_LENGTH))  # (B, 10)
    x = np.zeros((batch, length), dtype=np.int64)
    y = np.zeros((batch, length), dtype=np.int64)
    x[:, :COPY_LENGTH] = symbols
    x[:, COPY_LENGTH + steps - 1] = COPY_VOCAB - 1  # the delimiter: "now write them out"
    y[:, -COPY_LENGTH:] = symbols
    return x, y


def copy_baseline(steps: int) -> float:
    """Cross-entropy of blanks, then a uniform guess over the 8 symbols: 10 ln 8 / (T + 20)."""
    return COPY_LENGTH * math.log(COPY_SYMBOLS) / (steps + 2 * COPY_LENGTH)


PROBLEMS = {"adding": adding_batch, "copy": copy_batch}
"""Problem name -> batch generator ``(rng, batch, T) -> (x, y)``."""


# -- the record ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GradientProfile:
    """The gradient flow of one training step (lists run over time steps t = 1..N).

    Non-finite values (an explosion) are stored as None, so the record stays valid JSON.
    """

    step: int
    """The training step it was measured at (0: on validation data, no update)."""
    dl_dh: list[list[float | None]]
    """Per layer (bottom first): ||dL/dh_t|| for t = 1..N."""
    dhT_dh: list[list[float | None]]
    """Per layer: ||u^T dh_N/dh_t|| for a fixed random unit vector u (batch mean)."""
    norm_before: float | None
    """Global gradient norm before clipping."""
    norm_after: float | None
    """Global gradient norm after clipping (the same when clipping is off or did not bite)."""
    clip: float
    """The clipping threshold (0: off)."""
    peak_norm: float | None
    """The largest global norm before clipping of any step since the previous profile."""
    exploding: bool
    """`peak_norm` exceeded `EXPLODING_NORM` or was not finite."""

    def ratio(self, layer: int = -1) -> float | None:
        """||dL/dh_1|| / ||dL/dh_N|| of a layer: far below 1 means the gradient vanished."""
        row = self.dl_dh[layer]
        first, last = row[0], row[-1]
        if first is None or last is None or last == 0:
            return None
        return first / last

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradientProfile:
        return cls(**{k: v for k, v in data.items() if k != "ratio"})

    @classmethod
    def measured(
        cls, step: int, dl_dh: np.ndarray, dhT_dh: np.ndarray, before: float, after: float,
        clip: float, peak: float | None = None,
    ) -> GradientProfile:  # fmt: skip
        """From arrays ``(L, N)`` and the norms (peak: since the last profile; default before)."""
        peak = before if peak is None else peak
        return cls(
            step=step,
            dl_dh=[[_finite(v) for v in row] for row in dl_dh],
            dhT_dh=[[_finite(v) for v in row] for row in dhT_dh],
            norm_before=_finite(before),
            norm_after=_finite(after),
            clip=clip,
            peak_norm=_finite(peak),
            exploding=not math.isfinite(peak) or peak > EXPLODING_NORM,
        )


def _finite(value: float) -> float | None:
    """4 significant digits, None for NaN/inf."""
    value = float(value)
    return float(f"{value:.4g}") if math.isfinite(value) else None


# -- the task ------------------------------------------------------------------------------


class GradFlowTask(TaskBase):
    """The gradflow task (see the module docstring) for rnn, lstm, gru and numpy-rnn."""

    name = "gradflow"
    primary_metric = "val_loss"
    lower_is_better = True

    def __init__(self, config: TrainConfig) -> None:
        config.validate()
        self.config = config
        self.problem = config.problem
        self.steps_taken = 0
        """Training steps so far (decides which ones are probed; saved for resume)."""
        self._unsent: GradientProfile | None = None
        """The newest profile of a training step, until the trainer takes it."""
        self._peak = 0.0
        """The largest norm before clipping since the last profile (inf once one overflowed)."""
        self._epoch = 0
        self.length = config.seq_len + (2 * COPY_LENGTH if self.problem == "copy" else 0)
        """Time steps per sequence (N): T for adding, T + 20 for copy."""
        self.dataset_note = (
            f"synthetic {self.problem} problem, T = {config.seq_len} "
            f"({self.length} steps), generated from seed {config.seed}"
        )
        rng = np.random.default_rng([config.seed, VAL_STREAM])
        self.val_x, self.val_y = PROBLEMS[self.problem](rng, VAL_SIZE, config.seq_len)
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.u = _unit_vector(config.hidden, config.seed)
        engine = NumpyEngine if config.arch == "numpy-rnn" else TorchEngine
        self.engine = engine(config, self.u)

    def parameter_count(self) -> int:
        return self.engine.parameter_count()

    def batches(self, epoch: int) -> list[int]:
        """Batch numbers; each batch is generated from (seed, epoch, number)."""
        self._epoch = epoch
        return list(range(STEPS_PER_EPOCH))

    def start_epoch(self, epoch: int) -> None:
        self._epoch = epoch

    def shard(self, batch: int, world: World) -> tuple[int, slice]:
        """Batch number `batch` (every rank generates it whole from its seed) with this rank's
        rows of it."""
        return batch, shard_rows(self.config.batch, world.rank, world.size)

    def train_step(self, batch: int | tuple[int, slice], lr: float) -> StepStats:
        """One step on batch number `batch`, or on some of its rows (`shard`: the gradient
        profile is then measured on this rank's rows)."""
        number, rows = batch if isinstance(batch, tuple) else (batch, slice(None))
        rng = np.random.default_rng([self.config.seed, self._epoch, number])
        x, y = PROBLEMS[self.problem](rng, self.config.batch, self.config.seq_len)
        x, y = x[rows], y[rows]
        self.steps_taken += 1
        probe = self.steps_taken == 1 or self.steps_taken % self.config.probe_every == 0
        loss, before, after, grads = self.engine.step(x, y, lr, probe)
        self._peak = max(self._peak, before) if math.isfinite(before) else math.inf
        if grads is not None:
            self._unsent = GradientProfile.measured(
                self.steps_taken, grads.dl_dh, grads.dhT_dh, before, after, self.config.clip,
                self._peak,
            )  # fmt: skip
            self._peak = 0.0
        return StepStats(loss, before, x.shape[0] * self.length)

    def pop_gradient_profile(self) -> dict[str, Any] | None:
        """The newest training profile not handed out yet (the trainer attaches it to a step)."""
        profile, self._unsent = self._unsent, None
        return profile.to_dict() if profile is not None else None

    def probe(self) -> GradientProfile:
        """The gradient flow on `PROBE_SIZE` validation sequences (no update; step 0)."""
        x, y = self.val_x[:PROBE_SIZE], self.val_y[:PROBE_SIZE]
        before, grads = self.engine.probe(x, y)
        return GradientProfile.measured(
            0, grads.dl_dh, grads.dhT_dh, before, before, self.config.clip
        )

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        """val_loss (MSE or cross-entropy), the trivial baseline and (full only) ``grad_ratio``,
        ||dL/dh_1|| / ||dL/dh_N|| of the top layer on `PROBE_SIZE` validation sequences.

        adding adds ``val_mse`` and ``baseline_mse`` (predicting 1, on the same sequences);
        copy adds ``val_accuracy`` (of the 10 recalled symbols) and ``baseline_loss``.
        """
        size = QUICK_VAL_SIZE if quick else VAL_SIZE
        x, y = self.val_x[:size], self.val_y[:size]
        out = self.engine.predict(x)  # adding (B,); copy (B, N, V) log-probabilities
        metrics: dict[str, float] = {}
        if self.problem == "adding":
            mse = float(np.mean((out - y) ** 2))
            metrics |= {"val_loss": mse, "val_mse": mse}
            metrics["baseline_mse"] = float(np.mean((1.0 - y) ** 2))
        else:
            picked = np.take_along_axis(out, y[..., None], -1)[..., 0]  # (B, N)
            metrics["val_loss"] = float(-picked.mean())
            recalled = out[:, -COPY_LENGTH:].argmax(-1) == y[:, -COPY_LENGTH:]
            metrics["val_accuracy"] = float(recalled.mean())
            metrics["baseline_loss"] = copy_baseline(self.config.seq_len)
        if not quick:
            ratio = self.probe().ratio()
            if ratio is not None:
                metrics["grad_ratio"] = ratio
        return {k: float(f"{v:.5g}") for k, v in metrics.items() if math.isfinite(v)}

    def state_dict(self) -> dict[str, Any]:
        return {"engine": self.engine.state_dict(), "steps_taken": self.steps_taken}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.engine.load_state_dict(state["engine"])
        self.steps_taken = int(state["steps_taken"])


def _unit_vector(size: int, seed: int) -> np.ndarray:
    """A random direction ``(size,)`` for the dh_T/dh_t probe, fixed by the seed."""
    v = np.random.default_rng([seed, 7]).standard_normal(size)
    return v / np.linalg.norm(v)


# -- engines: the torch models and the NumPy RNN behind one interface -----------------------


@dataclass(frozen=True)
class Gradients:
    """``(L, N)`` arrays: ||dL/dh_t|| and ||u^T dh_N/dh_t||."""

    dl_dh: np.ndarray
    dhT_dh: np.ndarray


class TorchEngine:
    """`models.probe.ProbeNet` (fused or scratch), AdamW, global-norm clipping."""

    def __init__(self, config: TrainConfig, u: np.ndarray) -> None:
        import torch

        from models.probe import ProbeNet

        self.config = config
        self.device = torch_device(config)
        self.copy = config.problem == "copy"
        self.model = ProbeNet(
            config.arch, COPY_VOCAB if self.copy else 2, config.hidden, config.layers,
            COPY_VOCAB if self.copy else 1, config.backend, config.activation, config.init,
            **config.core_options(),
        ).to(self.device)  # fmt: skip
        self.optimizer = make_optimizer(self.model, config)
        self.step_model = StepModel(self.model, self.device, config)
        """The forward pass of an unprobed step (DDP under several processes)."""
        self.u = torch.from_numpy(u).float().to(self.device)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def _inputs(self, x: np.ndarray) -> Any:
        import torch
        import torch.nn.functional as F

        x_t = torch.from_numpy(x).to(self.device)
        return F.one_hot(x_t, COPY_VOCAB).float() if self.copy else x_t  # (B, N, I)

    def _loss(self, out: Any, y: np.ndarray) -> Any:
        import torch
        import torch.nn.functional as F

        y_t = torch.from_numpy(y).to(self.device)
        if self.copy:
            return F.cross_entropy(out.reshape(-1, COPY_VOCAB), y_t.reshape(-1))
        return F.mse_loss(out[:, -1, 0], y_t)  # the answer comes after the last step

    def step(
        self, x: np.ndarray, y: np.ndarray, lr: float, probe: bool
    ) -> tuple[float, float, float, Gradients | None]:
        """One update; returns (loss, norm before clipping, norm after, probed gradients).

        As `tasks.engine.base.torch_update`, with the backward pass through `probe_backward` when
        probing: clipping keeps an exploding batch from throwing the weights far away, and a
        non-finite norm skips the update (the trainer then reports the failure).
        """
        import torch

        from models.probe import probe_backward

        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        inputs = self._inputs(x)
        probed = None
        if probe:  # past DDP (it unrolls the plain module): the gradients are averaged here
            unrolled = self.model.unrolled(inputs)
            loss = self._loss(unrolled.outputs, y)
            grads = probe_backward(loss, unrolled, self.u)
            probed = Gradients(grads.dl_dh, grads.dhT_dh)
            average_gradients(self.model.parameters())
        else:
            loss = self._loss(self.step_model(inputs), y)
            loss.backward()
        value = float(loss.detach())
        params = [p for p in self.model.parameters() if p.grad is not None]
        max_norm = self.config.clip if self.config.clip > 0 else float("inf")
        before = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        if math.isfinite(before) and math.isfinite(value):
            self.optimizer.step()
        return value, before, self._grad_norm(), probed

    def probe(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Gradients]:
        """Gradients on a batch without an update (the parameters' grads are cleared after);
        returns (global gradient norm, probed gradients)."""
        from models.probe import probe_backward

        self.model.zero_grad(set_to_none=True)
        unrolled = self.model.unrolled(self._inputs(x))
        grads = probe_backward(self._loss(unrolled.outputs, y), unrolled, self.u)
        norm = self._grad_norm()
        self.model.zero_grad(set_to_none=True)
        return norm, Gradients(grads.dl_dh, grads.dhT_dh)

    def _grad_norm(self) -> float:
        import torch

        grads = [p.grad.detach().norm() for p in self.model.parameters() if p.grad is not None]
        return float(torch.stack(grads).norm()) if grads else 0.0

    def predict(self, x: np.ndarray) -> np.ndarray:
        """adding: the answers ``(B,)``; copy: log-probabilities ``(B, N, V)``."""
        import torch

        self.model.eval()
        parts = []
        with torch.inference_mode():
            for i in range(0, len(x), 256):
                out = self.model(self._inputs(x[i : i + 256]))
                out = out.log_softmax(-1) if self.copy else out[:, -1, 0]
                parts.append(out.float().cpu().numpy())
        self.model.train()
        return np.concatenate(parts)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])


class NumpyEngine:
    """`models.numpy_rnn.VanillaRNN` on copy-memory: BPTT per sequence, mean over the batch,
    global-norm clipping and Adagrad, as the charlm task trains it."""

    def __init__(self, config: TrainConfig, u: np.ndarray) -> None:
        from models.numpy_rnn import VanillaRNN

        if world().size > 1:
            raise ConfigError(
                "numpy-rnn trains in one process", "nproc",
                message="--arch numpy-rnn trains in one process (NumPy, no DDP): use --nproc 1",
            )  # fmt: skip
        self.config = config
        self.rnn = VanillaRNN(COPY_VOCAB, config.hidden, seed=config.seed)
        if config.init == "orthogonal":
            q, r = np.linalg.qr(np.random.default_rng(config.seed).standard_normal(
                (config.hidden, config.hidden)))  # fmt: skip
            self.rnn.params["Whh"][...] = q * np.sign(np.diag(r))  # a uniform random rotation
        self.u = u.astype(self.rnn.dtype)

    def parameter_count(self) -> int:
        return self.rnn.num_parameters

    def _gradients(
        self, x: np.ndarray, y: np.ndarray, probe: bool
    ) -> tuple[float, dict[str, np.ndarray], Gradients | None]:
        from models.probe import numpy_state_jacobian_norms

        batch = x.shape[0]
        total = {k: np.zeros_like(v) for k, v in self.rnn.params.items()}
        loss = 0.0
        dh_sq = np.zeros(x.shape[1])
        jac = np.zeros(x.shape[1])
        for b in range(batch):
            cache = self.rnn.forward(x[b])
            grads, _ = self.rnn.backward(cache, y[b])
            logp = cache.logits - cache.logits.max(-1, keepdims=True)
            logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
            loss -= float(logp[np.arange(len(y[b])), y[b]].mean()) / batch
            for k, g in grads.items():
                total[k] += g / batch
            if probe:  # the batch loss is the mean, so each sequence's dL/dh_t is 1/B of its own
                dh_sq += (self.rnn.dh_history / batch) ** 2  # ||dL/dh_t|| from the BPTT above
                jac += numpy_state_jacobian_norms(self.rnn.params["Whh"], cache.hs, self.u) / batch
        probed = Gradients(np.sqrt(dh_sq)[None], jac[None]) if probe else None
        return loss, total, probed

    def step(
        self, x: np.ndarray, y: np.ndarray, lr: float, probe: bool
    ) -> tuple[float, float, float, Gradients | None]:
        from models.numpy_rnn import global_norm

        loss, grads, probed = self._gradients(x, y, probe)
        clipped, before = self.rnn.clip(grads, self.config.clip or None)
        if math.isfinite(loss) and math.isfinite(before):
            self.rnn.step(clipped, lr)
        return loss, before, global_norm(clipped), probed

    def probe(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Gradients]:
        """(global gradient norm, probed gradients) on a batch, without an update."""
        from models.numpy_rnn import global_norm

        _, grads, probed = self._gradients(x, y, True)
        assert probed is not None
        return global_norm(grads), probed

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Log-probabilities ``(B, N, V)``, all sequences stepped together."""
        from models.numpy_rnn import log_softmax

        p = self.rnn.params
        h = np.zeros((x.shape[0], self.rnn.hidden_size), dtype=self.rnn.dtype)  # (B, H)
        logits = []
        for t in range(x.shape[1]):
            h = np.tanh(p["Wxh"][:, x[:, t]].T + h @ p["Whh"].T + p["bh"])  # (B, H)
            logits.append(h @ p["Why"].T + p["by"])  # (B, V)
        return log_softmax(np.stack(logits, 1))

    def state_dict(self) -> dict[str, Any]:
        import torch

        state = self.rnn.state_dict()
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rnn.load_state_dict(state)


def create(config: TrainConfig) -> GradFlowTask:
    """The task registry's factory."""
    return GradFlowTask(config)
