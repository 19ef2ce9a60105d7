"""IndRNN (Li et al. 2018, "Independently Recurrent Neural Network"): one recurrent weight a unit.

Each unit sees only its own past (``u ⊙ h_{t-1}``, not ``W_hh h_{t-1}``), so the gradient
through T steps is a product of scalars ``u_j · relu'(...)``: bounding ``|u_j|`` by
``γ^(1/T)`` keeps it from growing more than ``γ`` over the horizon ``T``, and with ReLU it does
not vanish through saturation either. The units mix across layers, not across time.

Equations::

    h_t = relu(W x_t + u ⊙ h_{t-1} + b)
    |u_j| <= γ^(1/T)                      T the horizon, γ the largest gradient growth allowed
    initialisation: u_j ~ U[ε^(1/T), γ^(1/T)]  (ε = 1/2: a unit keeps half its value T steps)

The bound is kept by clipping ``u`` where it is used (the paper clips it after each update;
the forward pass is the same). The recurrence is not linear, so there is only the
"sequential" scan.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from models.cores.base import (
    CoreError,
    Lengths,
    RecurrentCore,
    run_steps,
    zero_padding,
)

__all__ = ["IndRNN"]


class IndRNN(RecurrentCore):
    """IndRNN over ``(B, T, input_size)`` -> ``(B, T, hidden_size)``; state ``h`` ``(B, H)``.

    Args:
        input_size, hidden_size: as `nn.RNN`.
        horizon: ``T``, the number of steps the bound is chosen for.
        max_gain: ``γ``, the largest growth of a gradient over ``horizon`` steps.
        min_memory: ``ε``, the smallest fraction of its value a unit keeps over ``horizon``
            steps at initialisation.

    Parameters: ``linear`` (``W`` ``(H, I)``, ``b`` ``(H,)``), ``u`` ``(H,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        horizon: int = 100,
        max_gain: float = 2.0,
        min_memory: float = 0.5,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if horizon < 1 or max_gain <= 0 or not 0 <= min_memory <= max_gain:
            raise CoreError(
                "IndRNN: need horizon >= 1 and 0 <= min_memory <= max_gain, got "
                f"horizon={horizon}, min_memory={min_memory}, max_gain={max_gain}"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.horizon, self.max_gain, self.min_memory = horizon, max_gain, min_memory
        self.linear = nn.Linear(input_size, hidden_size, device=device, dtype=dtype)
        self.u = nn.Parameter(torch.empty(hidden_size, device=device, dtype=dtype))
        self.reset_parameters()

    @property
    def u_max(self) -> float:
        """The bound ``γ^(1/T)`` on ``|u|``."""
        return self.max_gain ** (1 / self.horizon)

    @torch.no_grad()
    def reset_parameters(self) -> None:
        self.linear.reset_parameters()
        nn.init.uniform_(self.u, self.min_memory ** (1 / self.horizon), self.u_max)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, horizon={self.horizon}, "
            f"|u| <= {self.u_max:.4g}"
        )

    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """Zeros ``(B, H)``."""
        return self._zeros(batch, self.hidden_size, device=device, dtype=dtype)

    def _recurrent_weight(self) -> Tensor:
        return self.u.clamp(-self.u_max, self.u_max)

    def step(self, x_t: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self._start_step(x_t, state)
        h = torch.relu(self.linear(x_t) + self._recurrent_weight() * h)
        return h, h

    def forward(
        self, x: Tensor, state: Tensor | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, Tensor]:
        h0, mask = self._start(x, state, lengths)  # mask (B, T) or None
        u = self._recurrent_weight()  # (H,)

        def update(wx_t: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
            h = torch.relu(wx_t + u * h)
            return h, h

        h, last = run_steps(update, (self.linear(x),), h0, mask)  # W x_t + b for all t at once
        return zero_padding(h, mask), last
