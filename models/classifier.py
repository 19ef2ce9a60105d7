"""`SentimentRNN`: token ids -> embeddings -> recurrent encoder -> pooling -> class logits."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from models.attention import AttentionPooling, lengths_to_mask
from models.cores.stack import Bidirectional, CoreStack
from models.registry import get_architecture


class LengthAwareRNN(nn.Module):
    """A stacked, optionally bidirectional RNN/LSTM/GRU over right-padded batches, exact
    without packing.

    Why not `pack_padded_sequence`: on the CPU its backward pass is 12x (GRU) to 70x (LSTM)
    slower than the plain fused call (measured here, batch 64 x 300 steps; BENCHMARKS.md). So
    every direction of every layer is a plain one-directional `Recurrent` from the registry:

    - forward: with padding on the right, the output at a real step t depends on steps <= t
      only, so the padding after a text cannot reach it;
    - backward: each text is reversed *within its length* (``x'_t = x_{len-1-t}``, padding
      stays on the right), run forward, and the outputs are reversed back the same way.

    The outputs at real steps therefore equal those of the packed run (checked in
    tests/test_sentiment_model.py); outputs at padded steps are meaningless and must be masked.

    Shapes: x ``(B, T, I)``, lengths ``(B,)`` in ``[1, T]`` -> outputs ``(B, T, D*H)`` and the
    final states ``(B, D*H)`` (forward at the last real step, backward at the first).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        backend: str = "fused",
    ) -> None:
        super().__init__()
        self.num_directions = 2 if bidirectional else 1
        self.output_size = self.num_directions * hidden_size
        arch = get_architecture(cell)
        self.layers = nn.ModuleList(
            nn.ModuleList(
                arch.build(
                    input_size=input_size if layer == 0 else self.output_size,
                    hidden_size=hidden_size,
                    batch_first=True,
                    backend=backend,
                )
                for _ in range(self.num_directions)
            )
            for layer in range(num_layers)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, I), lengths (B,) -> outputs (B, T, D*H), final states (B, D*H)."""
        B, T, _ = x.shape
        lengths = lengths.to(x.device)
        steps = torch.arange(T, device=x.device)  # (T,)
        flip = lengths.unsqueeze(1) - 1 - steps.unsqueeze(0)  # (B, T): len-1-t
        flip = torch.where(flip >= 0, flip, steps.unsqueeze(0)).unsqueeze(-1)  # padding stays
        for depth, directions in enumerate(self.layers):
            if depth:
                x = self.drop(x)
            outputs = [directions[0](x)[0]]  # (B, T, H)
            if self.num_directions == 2:
                reversed_x = x.gather(1, flip.expand(-1, -1, x.shape[-1]))
                out, _ = directions[1](reversed_x)  # (B, T, H) in reversed time
                outputs.append(out.gather(1, flip.expand(-1, -1, out.shape[-1])))
            x = torch.cat(outputs, dim=-1)  # (B, T, D*H)
        last_step = (lengths - 1).view(B, 1, 1).expand(-1, 1, x.shape[-1])
        final = x.gather(1, last_step).squeeze(1)  # (B, D*H): forward part at len-1
        if self.num_directions == 2:
            H = x.shape[-1] // 2
            final = torch.cat([final[:, :H], x[:, 0, H:]], dim=-1)  # backward part at step 0
        return x, final


class SentimentRNN(nn.Module):
    """A text classifier over padded batches of token ids with their lengths.

    The encoder ``rnn`` is `LengthAwareRNN` for a classic cell (rnn, lstm, gru) without blocks,
    so its parameter names and speed stay those of earlier checkpoints; for a modern core (or
    a classic cell with ``block=True``) it is the architecture's `CoreStack`
    (`models.registry.Architecture.build_layers`). Both are exact on right-padded batches
    (outputs past each length are zero or masked; the backward direction reverses each text
    within its length). ``rnn.output_size`` (O) sets every width below.

    Pooling turns the encoder's per-token outputs ``(B, T, O)`` into one vector per text:

    - ``last``: when the last layer's two directions are joined (``O = 2H``: a classic cell,
      or a bidirectional stack without blocks whose core does not keep the width), the forward
      part at the last real token and the backward part at the first; otherwise (one direction,
      or directions merged back to ``H`` by the stack: blocks, LRU, S6) the output at the last
      real token.
    - ``attention``: attention pooling (a learned weighted average over the real tokens) joined
      with max pooling over them (``2O``); the attention weights are returned per token.

    Padding never leaks in: the encoder is exact on padding, attention weights are exactly 0 on
    padding and the max ignores it.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; ``pad_id`` is the padding id.
        embed: embedding size E.
        hidden: hidden size H per layer and direction.
        layers: stacked recurrent layers L.
        arch: an architecture of `models.registry` (rnn, lstm, gru or a modern core).
        bidirectional: D = 2 when True.
        attention: attention (+ max) pooling instead of the last state.
        dropout: on the embeddings, between layers (inside the blocks with ``block``) and
            before the output layer.
        classes: output classes C.
        backend: fused (nn.LSTM and friends) or scratch (our cells); classic cells only.
        **core: `build_layers`' core options (``block``, ``scan``, ``state_size``, ``heads``,
            ``horizon``: `tasks.engine.settings.TrainConfig.core_options`).
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int = 128,
        hidden: int = 128,
        layers: int = 1,
        arch: str = "lstm",
        bidirectional: bool = False,
        attention: bool = False,
        dropout: float = 0.0,
        classes: int = 2,
        backend: str = "fused",
        pad_id: int = 0,
        **core: Any,
    ) -> None:
        super().__init__()
        self.pooling = "attention" if attention else "last"
        self.embedding = nn.Embedding(vocab_size, embed, padding_idx=pad_id)
        self.embed_drop = nn.Dropout(dropout)
        spec = get_architecture(arch)
        self.rnn: LengthAwareRNN | CoreStack
        if spec.modern or core.get("block", False):
            self.rnn = spec.build_layers(
                embed, hidden, layers, dropout=dropout, bidirectional=bidirectional,
                backend=backend, **core,
            )  # fmt: skip
        else:  # a classic cell runs sequentially: its only scan option changes nothing
            self.rnn = LengthAwareRNN(
                arch, embed, hidden, layers, bidirectional, dropout if layers > 1 else 0.0, backend
            )
        out = self.rnn.output_size
        self.attend = AttentionPooling(out, hidden_size=out) if attention else None
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * out if attention else out, classes)

    def extra_repr(self) -> str:
        return f"pooling={self.pooling!r}"

    @property
    def split_directions(self) -> bool:
        """True when the outputs are the two directions joined, ``[forward, backward]``."""
        if isinstance(self.rnn, LengthAwareRNN):
            return self.rnn.num_directions == 2
        last = self.rnn.layers[-1]
        return isinstance(last, Bidirectional) and last.merge is None

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, T, E), lengths (B,) -> outputs (B, T, O), final vectors (B, O) (see pooling)."""
        if isinstance(self.rnn, LengthAwareRNN):
            return self.rnn(x, lengths)
        lengths = lengths.to(x.device)
        outputs, _ = self.rnn(x, lengths=lengths)  # (B, T, O), zero past each length
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
        final = outputs.gather(1, last).squeeze(1)  # (B, O): at the last real token
        if self.split_directions:
            H = outputs.shape[-1] // 2
            final = torch.cat([final[:, :H], outputs[:, 0, H:]], dim=-1)  # backward at step 0
        return outputs, final

    def forward(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        """ids (B, T) int64, lengths (B,) in [1, T] -> (logits (B, C), weights (B, T) or None).

        The weights are the attention over the tokens (0 on padding); None for ``last`` pooling.
        """
        return self.forward_embedded(self.embed_drop(self.embedding(ids)), lengths)

    def forward_embedded(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        """`forward` from the embeddings on: x (B, T, E), lengths (B,) -> (logits, weights).

        Gradients with respect to ``x`` give token saliency (`tasks.sentiment.explain`).
        """
        outputs, final = self.encode(x, lengths)  # (B, T, O), (B, O)
        if self.attend is None:
            return self.head(self.drop(final)), None
        mask = lengths_to_mask(lengths.to(x.device), x.shape[1])  # (B, T)
        context, weights = self.attend(outputs, mask)  # (B, O), (B, T)
        peak = outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)  # (B, O)
        features = torch.cat([context, peak], dim=-1)  # (B, 2O)
        return self.head(self.drop(features)), weights


__all__ = ["LengthAwareRNN", "SentimentRNN"]
