"""The recurrent-core contract: what every sequence layer of the project offers.

A core maps a batch of sequences to a batch of sequences and carries a state between calls::

    y, state = core(x, state=None, lengths=None)  # x (B, T, input_size) -> y (B, T, output_size)
    y_t, state = core.step(x_t, state)            # x_t (B, input_size) -> y_t (B, output_size)
    state = core.initial_state(batch)             # what ``state=None`` means
    core.parameter_count                          # sum(p.numel()) of the built module

Rules every core keeps (``tests/test_cores.py`` checks them):

- ``lengths`` (``(B,)``, each in ``[1, T]``) marks padding: outputs past a sequence's length are
  zero and do not touch its state, so the returned state is the one after its last valid step.
- Carrying ``state`` from one chunk of a sequence into the next equals one long call.
- ``step`` fed one step at a time equals ``forward``, whatever ``scan`` forward uses.
- A state is a tensor or a tuple of tensors, batch first unless the core says otherwise; treat it
  as opaque and pass back only what ``forward``, ``step`` or ``initial_state`` returned.
- A core builds on the meta device (``meta_parameter_count``), so a screen can count its
  parameters without allocating them.

A core with more than one way to run its recurrence lists them in ``scans`` ("sequential" first)
and runs the one in ``core.scan``; every way computes the same function.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar

import torch
from torch import Tensor, nn

from models.equations import equations_block

__all__ = [
    "CoreError",
    "RecurrentCore",
    "State",
    "meta_parameter_count",
    "padding_mask",
    "run_steps",
    "zero_padding",
]

State = Tensor | tuple[Tensor, ...]
"""A core's state: one tensor or a tuple of tensors."""

Lengths = Tensor | Sequence[int]


class CoreError(ValueError):
    """A combination a core cannot run; the message is one line naming it."""


class RecurrentCore(nn.Module, ABC):
    """Base class of the recurrent cores (see the module docstring for the contract).

    Subclasses set ``input_size``, ``hidden_size`` and ``output_size`` and implement `forward`,
    `step` and `initial_state`. The update equations live in the ``Equations::`` block of the
    subclass's module docstring (`equations` returns them).
    """

    scans: ClassVar[tuple[str, ...]] = ("sequential",)
    """The ways `forward` can run the recurrence; "sequential" first. A core whose options
    rule some out narrows it per instance."""

    input_size: int
    hidden_size: int
    output_size: int
    """Features per step of ``y``."""

    _scan: str = "sequential"

    @property
    def scan(self) -> str:
        """The way `forward` runs the recurrence, one of ``scans``."""
        return self._scan

    @scan.setter
    def scan(self, value: str) -> None:
        self._check_scan(value)
        if value not in self.scans:
            raise CoreError(
                f"{type(self).__name__} has no scan {value!r}; choose one of {list(self.scans)}"
            )
        self._scan = value

    def _check_scan(self, scan: str) -> None:
        """Raise `CoreError` naming the option if this core's options rule ``scan`` out."""

    @abstractmethod
    def forward(
        self, x: Tensor, state: State | None = None, lengths: Lengths | None = None
    ) -> tuple[Tensor, State]:
        """Run the core over whole sequences.

        Args:
            x: ``(B, T, input_size)``.
            state: the state to start from; ``initial_state(B)`` if None.
            lengths: ``(B,)`` valid lengths in ``[1, T]``; None when nothing is padded.

        Returns:
            ``(y, state)``: y ``(B, T, output_size)``, zero past each length; the state after
            each sequence's last valid step.
        """

    @abstractmethod
    def step(self, x_t: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Advance one step: x_t ``(B, input_size)`` -> ``(y_t (B, output_size), state)``."""

    @abstractmethod
    def initial_state(
        self, batch: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """The state ``state=None`` stands for (zeros unless the core says otherwise)."""

    @property
    def parameter_count(self) -> int:
        """Scalar parameters of the built module: ``sum(p.numel())``."""
        return sum(p.numel() for p in self.parameters())

    @classmethod
    def equations(cls) -> str:
        """The update equations: the ``Equations::`` block of the core's module docstring."""
        return equations_block(inspect.getmodule(cls).__doc__ or "")

    # ---- shared checks -----------------------------------------------------------------------

    def _zeros(
        self, *shape: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """Zeros on ``device`` in ``dtype`` (the parameters' where None): initial states."""
        p = next(self.parameters())
        return torch.zeros(*shape, device=device or p.device, dtype=dtype or p.dtype)

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 3 or x.size(-1) != self.input_size or x.size(1) < 1:
            raise CoreError(
                f"{type(self).__name__}: expected input (batch, time >= 1, {self.input_size}), "
                f"got {tuple(x.shape)}"
            )

    def _check_step_input(self, x_t: Tensor) -> None:
        if x_t.dim() != 2 or x_t.size(-1) != self.input_size:
            raise CoreError(
                f"{type(self).__name__}: expected a step input (batch, {self.input_size}), "
                f"got {tuple(x_t.shape)}"
            )

    def _start(
        self, x: Tensor, state: State | None, lengths: Lengths | None
    ) -> tuple[State, Tensor | None]:
        """What `forward` starts from: ``x`` checked, the state (`_state`) and the ``(B, T)``
        padding mask (`padding_mask`: None when nothing is padded)."""
        self._check_input(x)
        return self._state(state, x), padding_mask(lengths, x.size(0), x.size(1), x.device)

    def _start_step(self, x_t: Tensor, state: State | None) -> State:
        """What `step` starts from: ``x_t`` checked, then the state (`_state`)."""
        self._check_step_input(x_t)
        return self._state(state, x_t)

    def _state(self, state: State | None, x: Tensor) -> State:
        """``state``, checked against the shapes of `initial_state`; that state if None."""
        expected = self.initial_state(x.size(0), x.device, x.dtype)
        if state is None:
            return expected
        got = state if isinstance(state, tuple) else (state,)
        want = expected if isinstance(expected, tuple) else (expected,)
        if len(got) != len(want) or any(g.shape != w.shape for g, w in zip(got, want, strict=True)):
            raise CoreError(
                f"{type(self).__name__}: expected a state of shapes "
                f"{[tuple(w.shape) for w in want]}, got {[tuple(g.shape) for g in got]}"
            )
        return state


def padding_mask(
    lengths: Lengths | None, batch: int, steps: int, device: torch.device
) -> Tensor | None:
    """``(B, T)`` bool, True at valid steps; checks ``lengths`` (``(B,)``, each in ``[1, T]``).

    Returns None when ``lengths`` is None or nothing is padded (then the unmasked path is exact).
    """
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths, dtype=torch.int64, device=device)
    if lengths.shape != (batch,):
        raise CoreError(
            f"lengths must be 1-D with one entry per batch element ({batch}), "
            f"got shape {tuple(lengths.shape)}"
        )
    if batch and (int(lengths.min()) < 1 or int(lengths.max()) > steps):
        raise CoreError(f"lengths must lie in [1, {steps}], got {lengths.tolist()}")
    if bool((lengths == steps).all()):
        return None
    return torch.arange(steps, device=device) < lengths.unsqueeze(1)  # (B, T)


def run_steps(
    update: Callable[..., tuple[Tensor, State]],
    inputs: Sequence[Tensor],
    state: State,
    mask: Tensor | None,
) -> tuple[Tensor, State]:
    """The sequential mode: ``y_t, state = update(*inputs_t, state)`` for ``t = 1..T``.

    ``inputs`` are ``(B, T, ...)`` tensors sliced along time; ``mask`` ``(B, T)`` (or None):
    at a padded step every state tensor keeps its value. Returns ``(y (B, T, ...), state)``;
    ``y`` at padded steps is whatever ``update`` gave (callers zero it).
    """
    outputs = []
    for t, inputs_t in enumerate(zip(*(x.unbind(1) for x in inputs), strict=True)):
        y_t, new = update(*inputs_t, state)
        if mask is None:
            state = new
        elif isinstance(new, tuple):
            state = tuple(_keep(mask[:, t], n, s) for n, s in zip(new, state, strict=True))
        else:
            state = _keep(mask[:, t], new, state)
        outputs.append(y_t)
    return torch.stack(outputs, 1), state


def _keep(valid: Tensor, new: Tensor, old: Tensor) -> Tensor:
    """``new`` where ``valid`` (``(B,)``), else ``old``."""
    return torch.where(valid.view(-1, *([1] * (new.dim() - 1))), new, old)


def zero_padding(y: Tensor, mask: Tensor | None) -> Tensor:
    """``y`` ``(B, T, ...)`` with the steps past each length set to zero."""
    if mask is None:
        return y
    return y.masked_fill(~mask.view(*mask.shape, *([1] * (y.dim() - 2))), 0.0)


def meta_parameter_count(factory: Callable[..., RecurrentCore], *args, **kwargs) -> int:
    """Build ``factory(*args, **kwargs)`` on the meta device and count its parameters.

    Nothing is allocated, so an Architecture screen can show the count of a large core at once.
    """
    with torch.device("meta"):
        return factory(*args, **kwargs).parameter_count
