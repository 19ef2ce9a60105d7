"""`SentimentRNN`: token ids -> embeddings -> recurrent encoder -> pooling -> class logits."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from models.attention import AttentionPooling, lengths_to_mask
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

    Pooling turns the encoder's per-token outputs ``(B, T, D*H)`` into one vector per text:

    - ``last``: the final hidden state of the last layer; bidirectional: the forward state at
      the last real token joined with the backward state at the first (``2H``).
    - ``attention``: attention pooling (a learned weighted average over the real tokens) joined
      with max pooling over them (``2*D*H``); the attention weights are returned per token.

    Padding never leaks in: the encoder is exact on right-padded batches (`LengthAwareRNN`),
    attention weights are exactly 0 on padding and the max ignores it.

    Args:
        vocab_size: token ids are in ``[0, vocab_size)``; ``pad_id`` is the padding id.
        embed: embedding size E.
        hidden: hidden size H per layer and direction.
        layers: stacked recurrent layers L.
        cell: rnn, lstm or gru.
        bidirectional: D = 2 when True.
        attention: attention (+ max) pooling instead of the last state.
        dropout: on the embeddings, between layers and before the output layer.
        classes: output classes C.
        backend: fused (nn.LSTM and friends) or scratch (our cells).
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int = 128,
        hidden: int = 128,
        layers: int = 1,
        cell: str = "lstm",
        bidirectional: bool = False,
        attention: bool = False,
        dropout: float = 0.0,
        classes: int = 2,
        backend: str = "fused",
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.pooling = "attention" if attention else "last"
        self.embedding = nn.Embedding(vocab_size, embed, padding_idx=pad_id)
        self.embed_drop = nn.Dropout(dropout)
        self.rnn = LengthAwareRNN(
            cell, embed, hidden, layers, bidirectional, dropout if layers > 1 else 0.0, backend
        )
        out = self.rnn.output_size
        self.attend = AttentionPooling(out, hidden_size=out) if attention else None
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(2 * out if attention else out, classes)

    def extra_repr(self) -> str:
        return f"pooling={self.pooling!r}"

    def forward(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        """ids (B, T) int64, lengths (B,) in [1, T] -> (logits (B, C), weights (B, T) or None).

        The weights are the attention over the tokens (0 on padding); None for ``last`` pooling.
        """
        x = self.embed_drop(self.embedding(ids))  # (B, T, E)
        outputs, final = self.rnn(x, lengths)  # (B, T, D*H), (B, D*H)
        if self.attend is None:
            return self.head(self.drop(final)), None
        mask = lengths_to_mask(lengths.to(ids.device), ids.shape[1])  # (B, T)
        context, weights = self.attend(outputs, mask)  # (B, D*H), (B, T)
        peak = outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)  # (B, D*H)
        features = torch.cat([context, peak], dim=-1)  # (B, 2*D*H)
        return self.head(self.drop(features)), weights


__all__ = ["LengthAwareRNN", "SentimentRNN"]
