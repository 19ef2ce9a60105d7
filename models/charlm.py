"""`CharRNN`: embedding -> stacked recurrent layers -> linear head over the vocabulary."""

from __future__ import annotations

from torch import Tensor, nn

from models.recurrent import Recurrent

State = Tensor | tuple[Tensor, Tensor]
"""h (L, B, H) for RNN/GRU, (h, c) for LSTM."""


class CharRNN(nn.Module):
    """A character-level language model (char-rnn): predicts the next character at every step.

    Args:
        vocab_size: distinct characters V.
        embed: embedding size E.
        hidden: hidden size H of each recurrent layer.
        layers: stacked layers L.
        cell: rnn, lstm or gru.
        dropout: between layers and before the head (training only).
        backend: fused (nn.LSTM and friends) or scratch (our cells); same parameter names.
    """

    def __init__(
        self,
        vocab_size: int,
        embed: int = 64,
        hidden: int = 512,
        layers: int = 2,
        cell: str = "lstm",
        dropout: float = 0.0,
        backend: str = "fused",
    ) -> None:
        super().__init__()
        self.cell = cell
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = Recurrent(
            cell, embed, hidden, num_layers=layers, batch_first=True,
            dropout=dropout, backend=backend,
        )  # fmt: skip
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, idx: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """idx (B, T) of character ids -> logits (B, T, V) and the final state."""
        x = self.embed(idx)  # (B, T, E)
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state  # (B, T, V)


def detach_state(state: State | None) -> State | None:
    """Cut the graph between BPTT chunks while carrying the values (`repackage_hidden`)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)  # type: ignore[return-value]
    return state.detach()


def as_tensor_list(state: State | None) -> list[Tensor]:
    """A state as a plain list of tensors (what a checkpoint stores)."""
    if state is None:
        return []
    return list(state) if isinstance(state, tuple) else [state]


def from_tensor_list(tensors: list[Tensor]) -> State | None:
    """Inverse of `as_tensor_list`."""
    if not tensors:
        return None
    return tuple(tensors) if len(tensors) == 2 else tensors[0]  # type: ignore[return-value]


__all__ = ["CharRNN", "State", "as_tensor_list", "detach_state", "from_tensor_list"]
