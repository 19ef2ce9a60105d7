"""Character-level language modelling (char-rnn): data, training steps, evaluation, generation.

The text is split 90/10 into train and validation (contiguous, validation at the end). Training
cuts the train text into `batch` parallel streams and walks them in chunks of `seq_len`
characters (truncated backpropagation through time), carrying the hidden state from one chunk
to the next and cutting the graph between them. Each epoch starts the streams at a different
offset (seeded), so chunk boundaries move. Evaluation is stateful in the same way over the
validation text; the metric is the mean cross-entropy in nats per character (`val_loss`) and
in bits per character (`val_bpc`).

Under several processes each rank trains on its share of the `batch` streams (`shard`) and
carries their state alone, and evaluates its share of the validation streams (the sums are
all-reduced); a checkpoint holds the state of every stream, so a resume under any number of
processes continues every stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.data.resolve import resolve
from tasks.data.text import read_text
from tasks.engine.base import (
    StepStats,
    TaskBase,
    make_optimizer,
    seed_everything,
    torch_device,
)
from tasks.engine.checkpoint import CheckpointError
from tasks.engine.distributed import World, all_reduce_sum, gather_objects, shard_rows, world
from tasks.engine.precision import StepModel, widen
from tasks.engine.settings import ConfigError, TrainConfig

VAL_FRACTION = 0.1
EVAL_STREAMS = 16
"""Parallel streams for validation (each starts with a zero state once)."""
EVAL_CHUNK = 256
QUICK_EVAL_CHUNKS = 2
"""A quick estimate reads this many chunks of every stream (about 8k characters)."""


@dataclass(frozen=True)
class CharVocab:
    """The characters of a text, sorted; id = position."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """text -> int64 ids (T,); raises ValueError naming characters it never saw."""
        index = {c: i for i, c in enumerate(self.chars)}
        missing = sorted({c for c in text if c not in index})
        if missing:
            shown = "".join(missing[:10])
            raise ValueError(f"the model never saw these characters: {shown!r}")
        return np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.chars[i] for i in ids)


def split_ids(ids: np.ndarray, val_fraction: float = VAL_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous split: the first 90% trains, the last 10% validates."""
    cut = int(len(ids) * (1 - val_fraction))
    return ids[:cut], ids[cut:]


def stream_chunks(ids: np.ndarray, streams: int, seq_len: int, full_only: bool) -> list[Any]:
    """Cut ids into `streams` parallel rows and walk them in chunks: [(x (B, T), y (B, T))].

    y is x shifted by one character. full_only drops a shorter last chunk (training).
    """
    import torch

    per_stream = (len(ids) - 1) // streams
    data = torch.from_numpy(ids)
    x = data[: streams * per_stream].view(streams, per_stream)
    y = data[1 : streams * per_stream + 1].view(streams, per_stream)
    stop = per_stream - seq_len + 1 if full_only else per_stream
    return [(x[:, i : i + seq_len], y[:, i : i + seq_len]) for i in range(0, stop, seq_len)]


class CharLMTask(TaskBase):
    """The charlm task for the torch architectures (classic and modern) and the NumPy RNN."""

    name = "charlm"
    primary_metric = "val_loss"
    lower_is_better = True
    evaluates_in_shards = True
    """Under several processes each rank reads its validation streams (`_mean_loss`)."""

    def __init__(self, config: TrainConfig, text: str | None = None) -> None:
        self.config = config
        self.dataset_note = ""
        if text is None:
            resolved = resolve(config.dataset, task="charlm")
            self.dataset_note = resolved.note
            if resolved.source == "offline default" and resolved.info is not None:
                config.dataset = resolved.info.name  # the run records what it really used
            text = read_text(resolved.path)
        self.text = text
        self.vocab = CharVocab.from_text(text)
        self.train_ids, self.val_ids = split_ids(self.vocab.encode(text))
        per_stream = (len(self.train_ids) - 1) // config.batch
        if per_stream < config.seq_len:
            raise ConfigError(
                f"--seq-len {config.seq_len} is longer than the data allows: the training part "
                f"has {len(self.train_ids)} characters, {per_stream} per stream with --batch "
                f"{config.batch}; use a smaller --seq-len or --batch"
            )
        if len(self.val_ids) < 2:
            raise ConfigError("the text is too short to hold out a validation part")
        seed_everything(config.seed)  # the initial weights depend on the seed alone
        self.engine = _make_engine(config, self.vocab.size)

    def parameter_count(self) -> int:
        return self.engine.parameter_count()

    def batches(self, epoch: int) -> Sequence[Any]:
        """Full chunks of the train streams; epoch > 0 starts at a seeded offset < seq_len."""

        def chunks(rng: np.random.Generator) -> list[Any]:
            offset = int(rng.integers(0, self.config.seq_len)) if epoch else 0
            ids = self.train_ids[offset:]
            if (len(ids) - 1) // self.config.batch < self.config.seq_len:
                ids = self.train_ids
            return stream_chunks(ids, self.config.batch, self.config.seq_len, full_only=True)

        return self.seeded_batches(epoch, chunks)

    def start_epoch(self, epoch: int) -> None:
        self.engine.carry = None

    def shard(self, batch: Any, world: World) -> Any:
        """This rank's streams of a chunk: the rows ``shard_rows(B, rank, N)`` of x and y (the
        carried state then holds those streams alone)."""
        x, y = batch
        rows = shard_rows(len(x), world.rank, world.size)
        return x[rows], y[rows]

    def train_step(self, batch: Any, lr: float) -> StepStats:
        return self.engine.train_step(batch, lr)

    def evaluate(self, quick: bool = False) -> dict[str, float]:
        streams = min(EVAL_STREAMS, max(1, (len(self.val_ids) - 1) // 2))
        if self.config.arch == "numpy-rnn":
            streams = 1
        chunks = stream_chunks(self.val_ids, streams, EVAL_CHUNK, full_only=False)
        if quick:
            chunks = chunks[: QUICK_EVAL_CHUNKS * (EVAL_STREAMS // streams)]
        loss = self._mean_loss(chunks, streams)
        return {"val_loss": round(loss, 5), "val_bpc": round(loss / math.log(2), 5)}

    def _mean_loss(self, chunks: list[Any], streams: int) -> float:
        """The mean loss over validation `chunks` of `streams` rows. Under several processes
        each rank reads its streams (rank 0 all of them when there are fewer than ranks) and
        the loss sums and character counts are all-reduced: the same mean as one process."""
        me = world()
        if me.size == 1:
            return self.engine.mean_loss(chunks)
        if streams >= me.size:
            rows = shard_rows(streams, me.rank, me.size)
        else:
            rows = slice(0, streams if me.main else 0)
        mine = [(x[rows], y[rows]) for x, y in chunks] if rows.stop > rows.start else []
        count = sum(y.numel() for _, y in mine)
        total = self.engine.mean_loss(mine) * count if count else 0.0
        sums = all_reduce_sum({"total": total, "count": float(count)})
        return sums["total"] / sums["count"]

    def state_dict(self) -> dict[str, Any]:
        return {"vocab": self.vocab.chars, **self.engine.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["vocab"] != self.vocab.chars:  # another text: read it with the model's vocabulary
            vocab = CharVocab(state["vocab"])
            try:
                ids = vocab.encode(self.text)
            except ValueError as exc:
                raise CheckpointError(f"this text does not fit the checkpoint: {exc}") from None
            self.vocab = vocab
            self.train_ids, self.val_ids = split_ids(ids)
            self.engine = _make_engine(self.config, vocab.size)
        self.engine.load_state_dict(state)


def build_model(config: TrainConfig, vocab_size: int) -> Any:
    """The `models.charlm.CharRNN` of a torch architecture's config (initial weights)."""
    from models.charlm import CharRNN

    return CharRNN(
        vocab_size, config.embed, config.hidden, config.layers,
        config.arch, config.dropout, config.backend, **config.core_options(),
    )  # fmt: skip


class _TorchEngine:
    """Model + AdamW + the state carried between chunks (any core's: nested, complex, ...)."""

    def __init__(self, config: TrainConfig, vocab_size: int) -> None:
        self.device = torch_device(config)
        self.config = config
        self.model = build_model(config, vocab_size).to(self.device)
        self.optimizer = make_optimizer(self.model, config)
        self.step_model = StepModel(self.model, self.device, config)
        self.carry: Any = None

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def train_step(self, batch: Any, lr: float) -> StepStats:
        import torch.nn.functional as F

        from models.cores.stack import map_state

        x, y = (t.to(self.device) for t in batch)
        carry = self.carry
        if carry is None and self.config.compile:  # a zero state: one graph for every chunk
            carry = self.model.rnn.initial_state(x.shape[0], x.device)
        logits, state = self.step_model(x, carry)  # (B, T, V)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        norm = self.step_model.update(self.optimizer, loss, self.config.clip, lr)
        self.carry = map_state(lambda t: widen(t.detach()), state)
        return StepStats(float(loss.detach()), norm, x.numel())

    def mean_loss(self, chunks: list[Any]) -> float:
        import torch
        import torch.nn.functional as F

        self.model.eval()
        total, count, state = 0.0, 0, None
        with torch.inference_mode():
            for x, y in chunks:
                x, y = x.to(self.device), y.to(self.device)
                logits, state = self.model(x, state)
                total += float(F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum"))
                count += y.numel()
        self.model.train()
        return total / count

    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser and the carried state of every stream (under several processes
        every rank calls this: the ranks' streams are gathered)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "carry": self._whole_carry(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Weights, optimiser and the carried state (a flat list; 1 or 2 tensors for classic);
        under several processes each rank keeps its streams' rows of it."""
        from models.cores.base import CoreError
        from models.cores.stack import unflatten_state

        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        carry = [t.to(self.device) for t in state["carry"]]
        if not carry:
            self.carry = None
            return
        template = self.model.rnn.initial_state(self.config.batch)
        try:
            whole = unflatten_state(template, carry)
        except CoreError as exc:
            raise CheckpointError(f"the checkpoint's carried state: {exc}") from None
        self.carry = self._own_rows(whole)

    def _batch_dims(self) -> list[int | None]:
        """The batch axis of each tensor of the carried state, in `flatten_state` order (None
        for a tensor without one)."""
        from models.cores.stack import flatten_state

        two, three = (flatten_state(self.model.rnn.initial_state(n)) for n in (2, 3))
        return [
            next((d for d in range(a.dim()) if a.shape[d] != b.shape[d]), None)
            for a, b in zip(two, three, strict=True)
        ]

    def _whole_carry(self) -> list[Any]:
        """The carried state as a flat list of CPU tensors: under several processes every
        rank's streams put back together in rank order (all B rows, as one process has them)."""
        import torch

        from models.cores.stack import flatten_state

        carry = [t.cpu() for t in flatten_state(self.carry)]
        if world().size == 1 or not carry:  # every rank carries None at the same steps
            return carry
        parts = gather_objects(carry)
        return [
            tensor if dim is None else torch.cat([part[i] for part in parts], dim)
            for i, (tensor, dim) in enumerate(zip(carry, self._batch_dims(), strict=True))
        ]

    def _own_rows(self, state: Any) -> Any:
        """A carried state of all B streams cut to this rank's (`shard_rows`); alone, itself."""
        from models.cores.stack import flatten_state, unflatten_state

        me = world()
        if me.size == 1:
            return state
        rows = shard_rows(self.config.batch, me.rank, me.size)
        own = [
            tensor if dim is None else tensor.narrow(dim, rows.start, rows.stop - rows.start)
            for tensor, dim in zip(flatten_state(state), self._batch_dims(), strict=True)
        ]
        return unflatten_state(state, [t.contiguous() for t in own])


class _NumpyEngine:
    """The from-scratch NumPy RNN (min-char-rnn) with Adagrad; one stream (batch 1)."""

    def __init__(self, config: TrainConfig, vocab_size: int) -> None:
        from models.numpy_rnn import VanillaRNN

        if world().size > 1:
            raise ConfigError(
                "numpy-rnn trains in one process", "nproc",
                message="--arch numpy-rnn trains in one process (NumPy, no DDP): use --nproc 1",
            )  # fmt: skip
        if config.batch != 1:
            raise ConfigError("numpy-rnn trains one stream at a time: use --batch 1")
        if config.layers != 1:
            raise ConfigError("numpy-rnn has one layer: use --layers 1")
        self.config = config
        self.rnn = VanillaRNN(vocab_size, config.hidden, seed=config.seed)
        self.carry: np.ndarray | None = None

    def parameter_count(self) -> int:
        return self.rnn.num_parameters

    def train_step(self, batch: Any, lr: float) -> StepStats:
        x, y = (t[0].numpy() for t in batch)
        loss, grads, self.carry = self.rnn.loss(x, y, self.carry)
        clipped, norm = self.rnn.clip(grads, self.config.clip or None)
        if math.isfinite(loss) and math.isfinite(norm):
            self.rnn.step(clipped, lr)
        return StepStats(float(loss), float(norm), len(x))

    def mean_loss(self, chunks: list[Any]) -> float:
        total, count, h = 0.0, 0, None
        for x, y in chunks:
            loss, h = self.rnn.evaluate(x[0].numpy(), y[0].numpy(), h)
            total += loss * x.shape[1]
            count += x.shape[1]
        return total / count

    def state_dict(self) -> dict[str, Any]:
        import torch

        model = {
            k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.rnn.state_dict().items()
        }
        carry = [] if self.carry is None else [torch.from_numpy(self.carry.copy())]
        return {"model": model, "carry": carry}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rnn.load_state_dict(state["model"])
        self.carry = state["carry"][0].numpy().copy() if state["carry"] else None


def _make_engine(config: TrainConfig, vocab_size: int) -> _TorchEngine | _NumpyEngine:
    return (
        _NumpyEngine(config, vocab_size)
        if config.arch == "numpy-rnn"
        else _TorchEngine(config, vocab_size)
    )


def create(config: TrainConfig, text: str | None = None) -> CharLMTask:
    """The task registry's factory."""
    return CharLMTask(config, text=text)
