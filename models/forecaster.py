"""`SeriesRNN`: a window of a series -> stacked recurrent layers -> the next value(s)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from models.registry import get_architecture


class SeriesRNN(nn.Module):
    """Reads a window of `features` per time step and predicts the next `outputs` values.

    Args:
        features: inputs per time step F (the scaled value, plus date features if any).
        hidden: hidden size H of each recurrent layer.
        layers: stacked layers L.
        arch: an architecture of `models.registry` (rnn, lstm, gru, mingru, lru, ...).
        outputs: values predicted at once (1: one step; H: a direct multi-step forecast).
        residual: predict the change from the last input value (feature 0) rather than the
            value itself, so the untrained model starts as the persistence forecast and only
            learns a correction (series are short; this keeps the RNN from regressing to the
            training mean when the test part sits at another level).
        dropout: between layers (inside the blocks) and before the head (training only).
        backend: fused (nn.LSTM and friends) or scratch (our cells); same parameter names.
        **core: `Architecture.build_layers`' options (block, scan, state_size, heads, horizon).
    """

    def __init__(
        self,
        features: int,
        hidden: int = 32,
        layers: int = 2,
        arch: str = "lstm",
        outputs: int = 1,
        dropout: float = 0.0,
        backend: str = "fused",
        residual: bool = True,
        **core: Any,
    ) -> None:
        super().__init__()
        self.arch = arch
        self.residual = residual
        self.rnn = get_architecture(arch).build_layers(
            features, hidden, layers, dropout=dropout, backend=backend, **core
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.rnn.output_size, outputs)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, W, F) -> the next values (B, outputs), in the scaled units of the inputs."""
        out, _ = self.rnn(x)  # (B, W, H)
        y = self.head(self.drop(out[:, -1]))  # (B, outputs)
        return y + x[:, -1, :1] if self.residual else y


__all__ = ["SeriesRNN"]
