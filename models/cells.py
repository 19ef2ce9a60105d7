"""Recurrent cells written from the equations.

`RNNCell`, `LSTMCell` and `GRUCell` are drop-in replacements for `nn.RNNCell`, `nn.LSTMCell` and
`nn.GRUCell`: same constructor arguments, same parameter names, shapes, gate order and
initialisation, so a `state_dict` copies across 1:1 and the outputs match. They use only matmuls
and elementwise ops (no `torch._VF` cell kernels), so the maths is on the page.

The step maths lives in plain functions (`rnn_step`, `lstm_step`, `gru_step`). Each takes the
input-gate pre-activations ``gi = x @ weight_ih.T + bias_ih`` already computed, so a layer that
runs a cell over a whole sequence (`models.recurrent`) can project every time step with a single
matmul and only do the recurrent half inside its time loop.

Shapes: ``B`` batch, ``I`` input_size, ``H`` hidden_size, ``G`` gate chunks (RNN 1, LSTM 4, GRU 3).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = [
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "RNNCellBase",
    "gru_step",
    "lstm_step",
    "rnn_step",
]


# --------------------------------------------------------------------------------------------
# Step functions: one time step, input projection already done.
# --------------------------------------------------------------------------------------------


def rnn_step(
    gi: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    r"""One Elman RNN step.

    .. math::
        h' = \tanh(\underbrace{W_{ih} x + b_{ih}}_{gi} + W_{hh} h + b_{hh})

    (ReLU in place of tanh when ``nonlinearity="relu"``.)

    Args:
        gi: ``(B, H)`` input projection ``x @ weight_ih.T + bias_ih``.
        h: ``(B, H)`` previous hidden state.
        weight_hh: ``(H, H)`` recurrent weights.
        bias_hh: ``(H,)`` recurrent bias, or None. A layer may fold it into ``gi`` and pass None.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        ``(B, H)`` next hidden state.

    Equivalent to ``torch.tanh(gi + h @ weight_hh.T + bias_hh)``.
    """
    pre = torch.addmm(gi, h, weight_hh.t())  # (B, H)
    if bias_hh is not None:
        pre = pre + bias_hh
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_step(
    gi: Tensor,
    h: Tensor,
    c: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""One LSTM step, gates in PyTorch's order (input, forget, cell, output).

    .. math::
        \begin{array}{ll}
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')
        \end{array}

    Args:
        gi: ``(B, 4H)`` input projection ``x @ weight_ih.T + bias_ih``.
        h: ``(B, H)`` previous hidden state.
        c: ``(B, H)`` previous cell state.
        weight_hh: ``(4H, H)`` recurrent weights.
        bias_hh: ``(4H,)`` recurrent bias, or None (a layer may fold it into ``gi``).

    Returns:
        ``(h', c')``, each ``(B, H)``.

    Equivalent to::

        i, f, g, o = (gi + h @ weight_hh.T + bias_hh).chunk(4, 1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)
    """
    gates = torch.addmm(gi, h, weight_hh.t())  # (B, 4H)
    if bias_hh is not None:
        gates = gates + bias_hh
    i, f, g, o = gates.chunk(4, 1)  # each (B, H)
    i = torch.sigmoid(i)
    f = torch.sigmoid(f)
    g = torch.tanh(g)
    o = torch.sigmoid(o)
    c = torch.addcmul(f * c, i, g)  # (B, H) f*c + i*g
    h = o * torch.tanh(c)  # (B, H)
    return h, c


def gru_step(
    gi: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
) -> Tensor:
    r"""One GRU step, gates in PyTorch's order (reset, update, new).

    .. math::
        \begin{array}{ll}
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' = (1 - z) \odot n + z \odot h
        \end{array}

    The reset gate multiplies the recurrent part of ``n`` *including* its bias ``b_hn``, so
    ``bias_hh`` cannot be folded into ``gi`` as a whole (only its r and z thirds could).

    Args:
        gi: ``(B, 3H)`` input projection ``x @ weight_ih.T + bias_ih``.
        h: ``(B, H)`` previous hidden state.
        weight_hh: ``(3H, H)`` recurrent weights.
        bias_hh: ``(3H,)`` recurrent bias, or None.

    Returns:
        ``(B, H)`` next hidden state.

    Equivalent to::

        gh = h @ weight_hh.T + bias_hh
        r, z = sigmoid(gi[:, :2H] + gh[:, :2H]).chunk(2, 1)
        n = tanh(gi[:, 2H:] + r * gh[:, 2H:])
        h = (1 - z) * n + z * h
    """
    hidden = h.size(1)
    w_hh_t = weight_hh.t()  # (H, 3H)
    gh = torch.mm(h, w_hh_t) if bias_hh is None else torch.addmm(bias_hh, h, w_hh_t)  # (B, 3H)
    rz = torch.sigmoid(gi[:, : 2 * hidden] + gh[:, : 2 * hidden])  # (B, 2H)
    r, z = rz.chunk(2, 1)  # each (B, H)
    n = torch.tanh(torch.addcmul(gi[:, 2 * hidden :], r, gh[:, 2 * hidden :]))  # (B, H)
    return torch.addcmul(n, z, h - n)  # (B, H) n + z*(h-n) = (1-z)*n + z*h


# --------------------------------------------------------------------------------------------
# Cells: nn.Module wrappers with PyTorch's parameter layout.
# --------------------------------------------------------------------------------------------


class RNNCellBase(nn.Module):
    """Shared parameters of the three cells; ``num_chunks`` (1, 4 or 3) is the only difference.

    Parameters (as in `torch.nn.RNNCellBase`):
        weight_ih: ``(num_chunks*H, I)``; weight_hh: ``(num_chunks*H, H)``;
        bias_ih, bias_hh: ``(num_chunks*H,)`` or None when ``bias=False``.
    """

    __constants__: ClassVar[list[str]] = ["input_size", "hidden_size", "bias"]

    input_size: int
    hidden_size: int
    bias: bool
    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None
    bias_hh: Tensor | None

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = nn.Parameter(
            torch.empty((num_chunks * hidden_size, input_size), **factory_kwargs)
        )
        self.weight_hh = nn.Parameter(
            torch.empty((num_chunks * hidden_size, hidden_size), **factory_kwargs)
        )
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(num_chunks * hidden_size, **factory_kwargs))
            self.bias_hh = nn.Parameter(torch.empty(num_chunks * hidden_size, **factory_kwargs))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            nn.init.uniform_(weight, -stdv, stdv)

    def _project(self, x: Tensor) -> Tensor:
        """Input-gate pre-activations ``x @ weight_ih.T + bias_ih``: (B, I) -> (B, G*H)."""
        return F.linear(x, self.weight_ih, self.bias_ih)

    def _check_input(self, name: str, x: Tensor) -> None:
        if x.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.dim()}D instead")

    def _zeros(self, x: Tensor) -> Tensor:
        return torch.zeros(x.size(0), self.hidden_size, dtype=x.dtype, device=x.device)

    def _initial_hidden(self, x: Tensor, hx: Tensor | None, is_batched: bool) -> Tensor:
        """``hx`` as ``(B, H)``: zeros when None, a batch of one when unbatched."""
        if hx is None:
            return self._zeros(x)
        return hx if is_batched else hx.unsqueeze(0)


class RNNCell(RNNCellBase):
    r"""An Elman RNN cell with tanh or ReLU non-linearity.

    .. math::
        h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})

    Args:
        input_size: features in the input ``x``.
        hidden_size: features in the hidden state ``h``.
        bias: if False, no ``bias_ih``/``bias_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Shapes:
        input ``(B, I)`` or ``(I,)``; hx ``(B, H)`` or ``(H,)`` (zeros if omitted);
        output ``(B, H)`` or ``(H,)``.

    Equivalent to ``nn.RNNCell`` with the same ``state_dict``. Over a sequence::

        for t in range(T):
            h = cell(x[t], h)
    """

    __constants__: ClassVar[list[str]] = ["input_size", "hidden_size", "bias", "nonlinearity"]
    nonlinearity: str

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_input("RNNCell", input)
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)  # (B, I)
        h = self._initial_hidden(x, hx, is_batched)  # (B, H)
        h = rnn_step(self._project(x), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""A long short-term memory (LSTM) cell.

    .. math::
        \begin{array}{ll}
        i = \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g = \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' = f \odot c + i \odot g \\
        h' = o \odot \tanh(c')
        \end{array}

    ``weight_ih`` is ``(W_ii|W_if|W_ig|W_io)``, shape ``(4H, I)``; ``weight_hh`` is ``(4H, H)``.

    Shapes:
        input ``(B, I)`` or ``(I,)``; hx a tuple ``(h, c)`` of ``(B, H)`` or ``(H,)`` (zeros if
        omitted); output ``(h', c')`` of the same shape.

    Equivalent to ``nn.LSTMCell`` with the same ``state_dict``. Over a sequence::

        for t in range(T):
            h, c = cell(x[t], (h, c))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        self._check_input("LSTMCell", input)
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(
                        f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead"
                    )
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)  # (B, I)
        if hx is None:
            h = c = self._zeros(x)  # (B, H)
        else:
            h, c = hx if is_batched else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        h, c = lstm_step(self._project(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    r"""A gated recurrent unit (GRU) cell.

    .. math::
        \begin{array}{ll}
        r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' = (1 - z) \odot n + z \odot h
        \end{array}

    ``weight_ih`` is ``(W_ir|W_iz|W_in)``, shape ``(3H, I)``; ``weight_hh`` is ``(3H, H)``.

    Shapes:
        input ``(B, I)`` or ``(I,)``; hx ``(B, H)`` or ``(H,)`` (zeros if omitted);
        output ``(B, H)`` or ``(H,)``.

    Equivalent to ``nn.GRUCell`` with the same ``state_dict``. Over a sequence::

        for t in range(T):
            h = cell(x[t], h)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        self._check_input("GRUCell", input)
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)  # (B, I)
        h = self._initial_hidden(x, hx, is_batched)  # (B, H)
        h = gru_step(self._project(x), h, self.weight_hh, self.bias_hh)
        return h if is_batched else h.squeeze(0)
