"""Today's cores under the contract: `models.recurrent.Recurrent` (RNN/LSTM/GRU, fused, scratch).

`TorchRecurrent` is `Recurrent` built ``batch_first=True`` plus `step` and `initial_state`;
its `forward` is `Recurrent`'s own, which already keeps the contract (``lengths`` zero the
output past each length and leave the state at the last valid step). Parameters and their
names are `Recurrent`'s (``rnn.weight_ih_l0``, ...), so a `Recurrent` ``state_dict`` loads
into it unchanged. Its state keeps torch's layout, batch in the *second* axis: ``h``
``(L*D, B, H)``, for LSTM ``(h, c)``.

The NumPy RNN (`models.numpy_rnn.VanillaRNN`) is not a torch module, so it does not subclass
`RecurrentCore`, but its methods are the contract's, one sequence at a time and from
character indices (the one-hot ``x_t`` is column ``x_t`` of ``Wxh``)::

    contract                          VanillaRNN
    forward(x, state) -> (y, state)   forward(inputs, h0) -> cache: y = cache.hs[1:] (T, H),
                                      state = cache.h_last (H,)
    step(x_t, state) -> (y_t, state)  step_logits(ix, h) -> (logits, h_new): y_t = h_new
    initial_state(batch)              init_hidden() -> zeros (H,)
    parameter_count                   num_parameters minus the output head Why, by
                                      (= H*V + H*H + H, as models.registry counts the core)

It has no ``lengths`` (it trains on unpadded chunks of one text) and one scan, "sequential".

Equations::

    RNN:  h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
    LSTM: i, f, g, o = σ, σ, tanh, σ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
          c_t = f ⊙ c_{t-1} + i ⊙ g,  h_t = o ⊙ tanh(c_t)
    GRU:  r, z = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr), σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
          n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn)),  h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

Each layer runs over the whole sequence before the next; bidirectional layers also run
backwards in time and concatenate the two outputs.
"""

from __future__ import annotations

import torch
from torch import Tensor

from models.cores.base import CoreError, RecurrentCore
from models.recurrent import Hidden, Recurrent

__all__ = ["TorchRecurrent"]


class TorchRecurrent(Recurrent, RecurrentCore):
    """`Recurrent` (``batch_first=True``) as a `RecurrentCore`: RNN, LSTM or GRU.

    Args: as `Recurrent`, without ``batch_first``. ``output_size`` is ``D * H``.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        backend: str = "fused",
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers=num_layers,
            bias=bias,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
            backend=backend,
            nonlinearity=nonlinearity,
            device=device,
            dtype=dtype,
        )

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Hidden:
        """Zeros ``(L*D, B, H)``; for LSTM the pair ``(h, c)``."""
        h = self._zeros(
            self.num_layers * self.num_directions,
            batch,
            self.hidden_size,
            device=device,
            dtype=dtype,
        )
        return (h, h.clone()) if self.mode == "lstm" else h

    def step(self, x_t: Tensor, state: Hidden | None = None) -> tuple[Tensor, Hidden]:
        """One step: x_t ``(B, I)`` -> ``(y_t (B, H), state)``; unidirectional only.

        ``y_t`` is the state's top-layer ``h`` itself (equal to the op's output), so the one
        tensor h_t reaches the next step and what reads y_t (`models.probe` relies on it).
        """
        if self.bidirectional:
            raise CoreError(
                f"a bidirectional {self.mode.upper()} cannot step: its backward direction "
                "needs the steps that have not come yet"
            )
        self._check_step_input(x_t)
        _, state = self(x_t.unsqueeze(1), state)
        h = state[0] if self.mode == "lstm" else state  # (L, B, H)
        return h[-1], state
