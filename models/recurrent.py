"""A recurrent layer over time with two interchangeable backends.

`Recurrent(mode, input_size, hidden_size, ...)` behaves like `nn.RNN`, `nn.LSTM` or `nn.GRU`
(same arguments, same input/output shapes, same ``h_n`` layout) and adds ``lengths`` for padded
batches. Its backend decides who does the work:

- ``"fused"``: PyTorch's own `nn.RNN`/`nn.LSTM`/`nn.GRU` (packing the batch when lengths are given).
  Fast; the default for training.
- ``"scratch"``: `ScratchRNN`, a Python loop over time calling the step functions of
  `models.cells` (`rnn_step`, `lstm_step`, `gru_step`). Slower, but every equation is visible.

Both keep their module at ``self.rnn`` with parameters named exactly like `nn.LSTM`'s
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``weight_ih_l0_reverse``, ...),
so a `state_dict` saved with one backend loads into the other and gives the same outputs.

Shapes: ``T`` time, ``B`` batch, ``I`` input_size, ``H`` hidden_size, ``L`` num_layers,
``D`` directions (2 if bidirectional else 1), ``G`` gate chunks (RNN 1, LSTM 4, GRU 3).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from models.cells import gru_step, lstm_step, rnn_step

__all__ = ["BACKENDS", "MODES", "Recurrent", "ScratchRNN"]

Hidden = Tensor | tuple[Tensor, Tensor]
"""A hidden state: ``h`` for RNN/GRU, ``(h, c)`` for LSTM."""

MODES: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}
"""Recurrent modes and their number of gate chunks."""

BACKENDS: tuple[str, ...] = ("fused", "scratch")
"""Ways to run a `Recurrent` layer."""

_FUSED: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_TORCH_NAMES: dict[str, str] = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


# --------------------------------------------------------------------------------------------
# Scanning one direction of one layer over time.
# --------------------------------------------------------------------------------------------


def _scan(
    mode: str,
    gi: Tensor,
    state: tuple[Tensor, ...],
    weight_hh: Tensor,
    bias_hh: Tensor | None,
    nonlinearity: str,
    reverse: bool,
    mask: Tensor | None,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run one direction of one layer over the whole sequence.

    Args:
        mode: "rnn", "lstm" or "gru".
        gi: ``(T, B, G*H)`` input projections for every step (``x @ W_ih.T + b_ih``; for RNN and
            LSTM ``b_hh`` folded in too, and ``bias_hh`` is then None).
        state: the initial state, ``(h,)`` or ``(h, c)``, each ``(B, H)``.
        weight_hh: ``(G*H, H)``.
        bias_hh: ``(G*H,)`` or None.
        nonlinearity: "tanh" or "relu" (RNN only).
        reverse: walk from the last step to the first.
        mask: ``(T, B, 1)`` bool, True at valid steps; None when nothing is padded. At a padded
            step the state is carried over unchanged, so the forward direction ends at each
            sequence's last valid step and the reverse direction starts there.

    Returns:
        ``(output, final_state)``: output ``(T, B, H)`` (zero at padded steps), the state after
        the last valid step.
    """
    steps = gi.unbind(0)  # T tensors (B, G*H); unbind, not gi[t]: its backward is far cheaper
    masks = mask.unbind(0) if mask is not None else None  # T tensors (B, 1)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    outputs: list[Tensor] = []
    if mode == "lstm":
        h, c = state
        for t in order:
            h_new, c_new = lstm_step(steps[t], h, c, weight_hh, bias_hh)  # (B, H) each
            if masks is None:
                h, c = h_new, c_new
            else:
                h = torch.where(masks[t], h_new, h)  # padded: keep the old state
                c = torch.where(masks[t], c_new, c)
            outputs.append(h_new)
        final: tuple[Tensor, ...] = (h, c)
    else:
        (h,) = state
        for t in order:
            if mode == "gru":
                h_new = gru_step(steps[t], h, weight_hh, bias_hh)  # (B, H)
            else:
                h_new = rnn_step(steps[t], h, weight_hh, bias_hh, nonlinearity)  # (B, H)
            h = h_new if masks is None else torch.where(masks[t], h_new, h)
            outputs.append(h_new)
        final = (h,)
    if reverse:
        outputs.reverse()
    output = torch.stack(outputs, 0)  # (T, B, H)
    if mask is not None:
        output = output.masked_fill(~mask, 0.0)
    return output, final


# --------------------------------------------------------------------------------------------
# The scratch backend.
# --------------------------------------------------------------------------------------------


class ScratchRNN(nn.Module):
    r"""A multi-layer RNN/LSTM/GRU built from the step functions of `models.cells`.

    Takes the same arguments as `nn.RNN`/`nn.LSTM`/`nn.GRU` plus ``mode`` and registers the same
    parameters under the same names, so ``state_dict``\ s move freely between the two:

    - ``weight_ih_l{k}{suffix}``: ``(G*H, I)`` for layer 0, ``(G*H, D*H)`` above;
    - ``weight_hh_l{k}{suffix}``: ``(G*H, H)``;
    - ``bias_ih_l{k}{suffix}``, ``bias_hh_l{k}{suffix}``: ``(G*H,)`` (absent when ``bias=False``),

    with ``suffix`` "" for the forward direction and "_reverse" for the backward one.

    For each layer and direction the inputs of all time steps are projected with one matmul;
    only the recurrent matmul and the gate maths run inside the time loop.

    Shapes (as `nn.LSTM`): input ``(T, B, I)``, ``(B, T, I)`` if batch_first, or unbatched
    ``(T, I)``; hx ``(L*D, B, H)`` (LSTM: a tuple ``(h_0, c_0)``); output ``(T, B, D*H)`` (or
    ``(B, T, D*H)``); h_n ``(L*D, B, H)`` (LSTM: ``(h_n, c_n)``).

    Equivalent to ``nn.LSTM(...)`` (or RNN/GRU) loaded with the same ``state_dict``; with
    ``lengths``, to ``nn.LSTM`` run on ``pack_padded_sequence(x, lengths, enforce_sorted=False)``
    and padded back with zeros.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}; expected one of {sorted(MODES)}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1]")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1]")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be an integer greater than zero")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError("num_layers must be an integer greater than zero")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.nonlinearity = nonlinearity

        factory_kwargs = {"device": device, "dtype": dtype}
        num_directions = 2 if bidirectional else 1
        gate_size = MODES[mode] * hidden_size
        # Registered in nn.RNNBase's order: layer, direction, then w_ih, w_hh, b_ih, b_hh.
        self._weight_names: list[tuple[str, str, str | None, str | None]] = []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                names = (
                    f"weight_ih_l{layer}{suffix}",
                    f"weight_hh_l{layer}{suffix}",
                    f"bias_ih_l{layer}{suffix}" if bias else None,
                    f"bias_hh_l{layer}{suffix}" if bias else None,
                )
                w_ih = torch.empty((gate_size, layer_input_size), **factory_kwargs)
                w_hh = torch.empty((gate_size, hidden_size), **factory_kwargs)
                self.register_parameter(names[0], nn.Parameter(w_ih))
                self.register_parameter(names[1], nn.Parameter(w_hh))
                if bias:
                    b_ih = torch.empty(gate_size, **factory_kwargs)
                    b_hh = torch.empty(gate_size, **factory_kwargs)
                    self.register_parameter(names[2], nn.Parameter(b_ih))
                    self.register_parameter(names[3], nn.Parameter(b_hh))
                self._weight_names.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            nn.init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = "{mode}, {input_size}, {hidden_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        if self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """Per layer and direction, ``[w_ih, w_hh(, b_ih, b_hh)]`` (as `nn.RNNBase`)."""
        return [[getattr(self, n) for n in names if n is not None] for names in self._weight_names]

    def forward(
        self,
        input: Tensor,
        hx: Hidden | None = None,
        lengths: Tensor | Sequence[int] | None = None,
    ) -> tuple[Tensor, Hidden]:
        """Run the layers over ``input``.

        Args:
            input: ``(T, B, I)``, ``(B, T, I)`` if batch_first, or unbatched ``(T, I)``.
            hx: initial state ``(L*D, B, H)`` (``(L*D, H)`` unbatched); LSTM: ``(h_0, c_0)``.
                Zeros if None.
            lengths: ``(B,)`` valid lengths, each in ``[1, T]``; None when not padded.
                (`Recurrent` checks them; here they are taken as given.)

        Returns:
            ``(output, h_n)`` with nn.LSTM's shapes; output is zero at padded steps.
        """
        x, is_batched = self._time_major(input)  # (T, B, I)
        h0, c0 = self._initial_state(hx, x, is_batched)  # (L*D, B, H) each
        mask = _padding_mask(lengths, x.size(0), x.device)  # (T, B, 1) or None
        layer_input = x
        finals: list[tuple[Tensor, ...]] = []  # per layer and direction: (h,) or (h, c)
        for layer in range(self.num_layers):
            layer_input, layer_finals = self._layer(layer, layer_input, h0, c0, mask)
            finals += layer_finals
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        return self._results(layer_input, finals, is_batched)

    @property
    def _num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _time_major(self, input: Tensor) -> tuple[Tensor, bool]:
        """Check ``input`` and return it as ``(T, B, I)``, and whether it was batched."""
        name = _TORCH_NAMES[self.mode]
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. "
                f"Expected {self.input_size}, got {input.size(-1)}"
            )
        is_batched = input.dim() == 3
        x = input if is_batched else input.unsqueeze(1)  # (T, B, I) or (B, T, I)
        if is_batched and self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I)
        return x, is_batched

    def _initial_state(
        self, hx: Hidden | None, x: Tensor, is_batched: bool
    ) -> tuple[Tensor, Tensor]:
        """Check ``hx`` and return ``(h0, c0)``, each ``(L*D, B, H)``; zeros when it is None.

        Row ``layer*D + direction`` starts that scan; ``c0`` is ``h0`` unless the mode is LSTM.
        """
        expected = (self.num_layers * self._num_directions, x.size(1), self.hidden_size)
        if hx is None:
            zeros = torch.zeros(expected, dtype=x.dtype, device=x.device)  # (L*D, B, H)
            return zeros, zeros
        want = 3 if is_batched else 2
        kind = "batched 3-D" if is_batched else "unbatched 2-D"
        if self.mode == "lstm":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
            if h0.dim() != want or c0.dim() != want:
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {want}-D but got "
                    f"({h0.dim()}-D, {c0.dim()}-D) tensors"
                )
            if not is_batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            _check_hidden(h0, expected, "hidden[0]")
            _check_hidden(c0, expected, "hidden[1]")
            return h0, c0
        if not isinstance(hx, Tensor):
            raise RuntimeError(f"{_TORCH_NAMES[self.mode]}: hx must be a tensor (h_0)")
        if hx.dim() != want:
            raise RuntimeError(
                f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor"
            )
        h0 = hx if is_batched else hx.unsqueeze(1)
        _check_hidden(h0, expected, "hidden")
        return h0, h0

    def _layer(
        self, layer: int, layer_input: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None
    ) -> tuple[Tensor, list[tuple[Tensor, ...]]]:
        """Run every direction of one layer over ``layer_input`` ``(T, B, I or D*H)``.

        Returns the layer's output ``(T, B, D*H)`` (the directions side by side, as nn.LSTM lays
        them out) and each direction's final state.
        """
        outputs: list[Tensor] = []
        finals: list[tuple[Tensor, ...]] = []
        for direction in range(self._num_directions):
            index = layer * self._num_directions + direction
            state = (h0[index], c0[index]) if self.mode == "lstm" else (h0[index],)  # (B, H)
            out, final = self._direction(index, layer_input, state, direction == 1, mask)
            outputs.append(out)  # (T, B, H)
            finals.append(final)
        output = outputs[0] if len(outputs) == 1 else torch.cat(outputs, 2)  # (T, B, D*H)
        return output, finals

    def _direction(
        self,
        index: int,
        layer_input: Tensor,
        state: tuple[Tensor, ...],
        reverse: bool,
        mask: Tensor | None,
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Scan one direction (weights ``index`` = layer*D + direction); see `_scan`."""
        w_ih, w_hh, b_ih, b_hh = (
            getattr(self, n) if n is not None else None for n in self._weight_names[index]
        )
        # RNN and LSTM add b_hh straight onto the gates: fold it into the projection.
        # GRU's reset gate multiplies b_hn, so GRU keeps b_hh inside the step.
        fold = self.mode != "gru" and b_ih is not None
        bias_in = b_ih + b_hh if fold else b_ih
        gi = F.linear(layer_input, w_ih, bias_in)  # (T, B, G*H): every step at once
        bias_hh = None if fold else b_hh
        return _scan(self.mode, gi, state, w_hh, bias_hh, self.nonlinearity, reverse, mask)

    def _results(
        self, output: Tensor, finals: list[tuple[Tensor, ...]], is_batched: bool
    ) -> tuple[Tensor, Hidden]:
        """``(output, h_n)`` in the caller's layout.

        From the last layer's output ``(T, B, D*H)`` and the final states, in
        ``layer*D + direction`` order.
        """
        h_n = torch.stack([f[0] for f in finals], 0)  # (L*D, B, H)
        c_n = torch.stack([f[1] for f in finals], 0) if self.mode == "lstm" else None
        if not is_batched:
            output = output.squeeze(1)  # (T, D*H)
            h_n = h_n.squeeze(1)  # (L*D, H)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)  # (B, T, D*H)
        return output, ((h_n, c_n) if c_n is not None else h_n)


def _check_hidden(hx: Tensor, expected: tuple[int, int, int], what: str) -> None:
    if hx.size() != expected:
        raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.size())}")


def _padding_mask(
    lengths: Tensor | Sequence[int] | None, seq_len: int, device: torch.device
) -> Tensor | None:
    """``(T, B, 1)`` bool, True at each sequence's valid steps; None when nothing is padded."""
    if lengths is None:
        return None
    steps = torch.arange(seq_len, device=device).unsqueeze(1)  # (T, 1)
    valid = torch.as_tensor(lengths, device=device).unsqueeze(0)  # (1, B)
    return (steps < valid).unsqueeze(2)  # (T, B, 1)


# --------------------------------------------------------------------------------------------
# The layer users build.
# --------------------------------------------------------------------------------------------


class Recurrent(nn.Module):
    r"""A (multi-layer, optionally bidirectional) RNN, LSTM or GRU with a choice of backend.

    Args:
        mode: "rnn", "lstm" or "gru".
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as
            `nn.LSTM`. ``dropout`` is applied to the outputs of every layer but the last, in
            training only.
        backend: "fused" (`nn.RNN`/`nn.LSTM`/`nn.GRU`) or "scratch" (`ScratchRNN`).
        nonlinearity: "tanh" or "relu", for mode "rnn" only.

    The backend module is ``self.rnn``; its parameters are named as `nn.LSTM`'s
    (``rnn.weight_ih_l0``, ...), so ``state_dict``\ s load across backends.

    Shapes: see `forward`.

    Equivalent to::

        out, h_n = nn.LSTM(input_size, hidden_size, num_layers, ...)(x, hx)

    and with ``lengths``::

        packed = pack_padded_sequence(x, lengths.cpu(), batch_first, enforce_sorted=False)
        out, h_n = lstm(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first, total_length=x.size(time_dim))
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        backend: str = "fused",
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}; expected one of {sorted(MODES)}")
        if backend not in BACKENDS:
            raise ValueError(f"Unknown backend {backend!r}; expected one of {list(BACKENDS)}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        if mode != "rnn" and nonlinearity != "tanh":
            raise ValueError(f"nonlinearity applies to mode 'rnn' only, not {mode!r}")
        self.mode = mode
        self.backend = backend
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.nonlinearity = nonlinearity
        kwargs = {
            "num_layers": num_layers,
            "bias": bias,
            "batch_first": batch_first,
            "dropout": dropout,
            "bidirectional": bidirectional,
            "device": device,
            "dtype": dtype,
        }
        self.rnn: nn.Module
        if backend == "scratch":
            self.rnn = ScratchRNN(
                mode, input_size, hidden_size, nonlinearity=nonlinearity, **kwargs
            )
        elif mode == "rnn":
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, **kwargs)
        else:
            self.rnn = _FUSED[mode](input_size, hidden_size, **kwargs)

    @property
    def num_directions(self) -> int:
        """2 if bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Features per time step of the output: ``D * H``."""
        return self.num_directions * self.hidden_size

    def extra_repr(self) -> str:
        return f"backend={self.backend!r}"

    def forward(
        self,
        input: Tensor,
        hx: Hidden | None = None,
        lengths: Tensor | Sequence[int] | None = None,
    ) -> tuple[Tensor, Hidden]:
        """Run the layer over a sequence.

        Args:
            input: ``(T, B, I)``, ``(B, T, I)`` if batch_first, or unbatched ``(T, I)``.
            hx: initial state ``(L*D, B, H)`` (``(L*D, H)`` unbatched), zeros if None; for LSTM a
                tuple ``(h_0, c_0)``.
            lengths: valid length of each batch element (1-D tensor or list, each in
                ``[1, T]``). Padded steps give zero output and do not touch the state: ``h_n``
                is the state at each sequence's last valid step, and the reverse direction
                starts there.

        Returns:
            ``(output, h_n)``: output ``(T, B, D*H)`` (``(B, T, D*H)`` if batch_first,
            ``(T, D*H)`` unbatched); h_n ``(L*D, B, H)``, for LSTM ``(h_n, c_n)``.
        """
        if lengths is None:
            return self.rnn(input) if hx is None else self.rnn(input, hx)
        if input.dim() != 3:
            raise ValueError("lengths needs a batched 3-D input")
        time_dim = 1 if self.batch_first else 0
        seq_len, batch = input.size(time_dim), input.size(1 - time_dim)
        lengths_cpu = torch.as_tensor(lengths, dtype=torch.int64).cpu()  # packing wants the CPU
        if lengths_cpu.shape != (batch,):
            raise ValueError(
                f"lengths must be 1-D with one entry per batch element ({batch}), "
                f"got shape {tuple(lengths_cpu.shape)}"
            )
        if batch and (lengths_cpu.min() < 1 or lengths_cpu.max() > seq_len):
            raise ValueError(f"lengths must lie in [1, {seq_len}], got {lengths_cpu.tolist()}")
        if bool((lengths_cpu == seq_len).all()):
            # Nothing is padded: the unmasked path is exact and faster.
            return self.rnn(input) if hx is None else self.rnn(input, hx)
        if isinstance(self.rnn, ScratchRNN):
            return self.rnn(input, hx, lengths=lengths_cpu)
        packed = pack_padded_sequence(
            input, lengths_cpu, batch_first=self.batch_first, enforce_sorted=False
        )
        packed_out, h_n = self.rnn(packed, hx)
        output, _ = pad_packed_sequence(
            packed_out, batch_first=self.batch_first, total_length=seq_len
        )
        return output, h_n
