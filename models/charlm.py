"""`CharRNN`: embedding -> stacked recurrent layers -> linear head over the vocabulary."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from models.registry import get_architecture

State = Any
"""The recurrent layers' state: h ``(L, B, H)`` or ``(h, c)`` for a classic cell without blocks
(torch's layout), else one state per layer (`models.cores.stack.CoreStack`); treat as opaque
and carry it with `models.cores.stack.map_state` / `flatten_state` / `unflatten_state`."""


class CharRNN(nn.Module):
    """A character-level language model (char-rnn): predicts the next character at every step.

    Args:
        vocab_size: distinct characters V.
        embed: embedding size E.
        hidden: hidden size H of each recurrent layer.
        layers: stacked layers L.
        arch: an architecture of `models.registry` (rnn, lstm, gru, mingru, lru, ...).
        dropout: between layers (inside the blocks) and before the head (training only).
        backend: fused (nn.LSTM and friends) or scratch (our cells); same parameter names.
        **core: `Architecture.build_layers`' options (block, scan, state_size, heads, horizon).

    ``self.rnn`` is the recurrent core; a classic cell without blocks keeps the parameter names
    of `models.recurrent.Recurrent` (``rnn.rnn.weight_ih_l0``, ...), which `models.stepper` reads.
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int = 64,
        hidden: int = 512,
        layers: int = 2,
        arch: str = "lstm",
        dropout: float = 0.0,
        backend: str = "fused",
        **core: Any,
    ) -> None:
        super().__init__()
        self.arch = arch
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = get_architecture(arch).build_layers(
            embed, hidden, layers, dropout=dropout, backend=backend, **core
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.rnn.output_size, vocab_size)

    def forward(
        self, idx: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """idx (B, T) of character ids -> logits (B, T, V) and the final state.

        ``lengths`` (B,) marks right padding: the state is the one after each row's last id.
        """
        x = self.embed(idx)  # (B, T, E)
        out, state = self.rnn(x, state, lengths)  # (B, T, H)
        return self.head(self.drop(out)), state  # (B, T, V)

    def step(self, ids: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """One id per row, through the core's `step`: ids (B,) -> logits (B, V) and the state."""
        out, state = self.rnn.step(self.embed(ids), state)  # (B, H)
        return self.head(self.drop(out)), state  # (B, V)


__all__ = ["CharRNN", "State"]
