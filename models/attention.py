"""Attention for recurrent models: additive (Bahdanau), dot (Luong) and attention pooling.

Every module scores a query against ``S`` keys, turns the scores into weights with a softmax over
the *valid* keys, and returns the weighted sum of the values together with the weights, so the UI
can draw them::

    e_s     = score(q, k_s)                                  one score per key
    a_s     = exp(e_s) / sum_{s' valid} exp(e_{s'})           a_s = 0 where mask[s] is False
    context = sum_s a_s v_s

Shapes (``B`` batch, ``S`` source/keys length, ``T`` query steps)::

    query   (B, Hq)       one decoder step        -> context (B, Hv),    weights (B, S)
            (B, T, Hq)    all decoder steps at once -> context (B, T, Hv), weights (B, T, S)
    keys    (B, S, Hk)
    values  (B, S, Hv)    defaults to ``keys``
    mask    (B, S) bool   True = a valid (non-padding) position; None = all valid.
                          With a 3-D query a (B, T, S) mask is accepted too (e.g. causal).

Masking: the weights are exactly 0 at masked positions and sum to 1 over the valid ones, so
whatever sits in the padded keys and values cannot change the context. A row with *no* valid
position (a fully masked row) gets all-zero weights and therefore a zero context -- never NaN,
in the forward or the backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "AdditiveAttention",
    "AttentionPooling",
    "DotAttention",
    "lengths_to_mask",
    "masked_softmax",
]


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """A ``(B, max_len)`` bool mask with ``mask[b, s] = s < lengths[b]`` (True = valid)."""
    lengths = torch.as_tensor(lengths)
    if max_len is None:
        max_len = int(lengths.max()) if lengths.numel() else 0
    steps = torch.arange(max_len, device=lengths.device)  # (S,)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)  # (B, S)


def masked_softmax(scores: Tensor, mask: Tensor | None, dim: int = -1) -> Tensor:
    """Softmax of ``scores`` along ``dim`` over the positions where ``mask`` is True.

    ``mask`` must broadcast to ``scores``. Masked positions get weight exactly 0; a slice with
    no valid position gets all zeros (instead of the NaN that ``softmax`` of all ``-inf`` gives).
    """
    if mask is None:
        return torch.softmax(scores, dim=dim)
    mask = mask.expand_as(scores)
    any_valid = mask.any(dim=dim, keepdim=True)  # rows with something to attend to
    # -inf only where the row has a valid position, so no row is all -inf.
    scores = scores.masked_fill(~mask & any_valid, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    return weights.masked_fill(~mask, 0.0)  # zero the fully masked rows (and nothing else)


class _Attention(nn.Module):
    """Shared input checking and the softmax-and-sum for the query/key/value modules."""

    def _score(self, query: Tensor, keys: Tensor) -> Tensor:
        """``(B, T, Hq)``, ``(B, S, Hk)`` -> scores ``(B, T, S)``."""
        raise NotImplementedError

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Attend from ``query`` to ``keys``; returns ``(context, weights)``.

        Args:
            query: ``(B, Hq)`` one step, or ``(B, T, Hq)`` many steps at once.
            keys: ``(B, S, Hk)``.
            values: ``(B, S, Hv)``; None uses ``keys``.
            mask: ``(B, S)`` bool (or ``(B, T, S)`` for a 3-D query), True = valid; None = all.

        Returns:
            ``context`` ``(B, Hv)`` or ``(B, T, Hv)`` and ``weights`` ``(B, S)`` or ``(B, T, S)``.
        """
        return self._attend(query, keys, values, mask, lambda q: self._score(q, keys))

    def _attend(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None,
        mask: Tensor | None,
        score: Callable[[Tensor], Tensor],
    ) -> tuple[Tensor, Tensor]:
        """Check shapes, score ``(B, T, Hq) -> (B, T, S)``, softmax over valid keys, sum values."""
        name = type(self).__name__
        if query.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected query to be 2D or 3D, got {query.dim()}D instead")
        if keys.dim() != 3:
            raise ValueError(f"{name}: Expected keys to be 3D, got {keys.dim()}D instead")
        values = keys if values is None else values
        if values.dim() != 3 or values.shape[:2] != keys.shape[:2]:
            raise ValueError(
                f"{name}: Expected values of shape (B, S, Hv) matching keys {tuple(keys.shape)}, "
                f"got {tuple(values.shape)}"
            )
        if query.shape[0] != keys.shape[0]:
            raise ValueError(
                f"{name}: query batch size {query.shape[0]} != keys batch size {keys.shape[0]}"
            )
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query  # (B, T, Hq)
        scores = score(q)  # (B, T, S)
        m = _check_mask(name, mask, scores, single)  # (B, 1 or T, S) or None
        weights = masked_softmax(scores, m)  # (B, T, S)
        context = torch.bmm(weights, values)  # (B, T, Hv)
        if single:
            return context.squeeze(1), weights.squeeze(1)  # (B, Hv), (B, S)
        return context, weights


def _check_mask(name: str, mask: Tensor | None, scores: Tensor, single: bool) -> Tensor | None:
    """Validate a ``(B, S)`` (or ``(B, T, S)``) mask and shape it to broadcast to ``scores``."""
    if mask is None:
        return None
    B, T, S = scores.shape
    if mask.dtype != torch.bool:
        mask = mask != 0
    if mask.dim() == 2 and mask.shape == (B, S):
        return mask.unsqueeze(1)  # (B, 1, S)
    if mask.dim() == 3 and not single and mask.shape == (B, T, S):
        return mask
    want = "(B, S)" if single else "(B, S) or (B, T, S)"
    raise ValueError(
        f"{name}: Expected mask of shape {want} = {(B, S) if single else (B, T, S)}, "
        f"got {tuple(mask.shape)}"
    )


class AdditiveAttention(_Attention):
    r"""Additive (Bahdanau, concat) attention.

    .. math::
        e_{ts} = v^\top \tanh(W_q q_t + W_k k_s + b)

    ``W_q``: ``query_proj`` ``(hidden_size, query_size)``, ``W_k`` and ``b``: ``key_proj``
    ``(hidden_size, key_size)``, ``v``: ``(1, hidden_size)``. Scoring is a small feed-forward
    net, so query and keys may have different sizes. Forward shapes are in the module docstring.

    For step-by-step decoding, :meth:`project_keys` once per source sentence and pass the result
    as ``projected_keys`` at every step to skip the key projection.

    Args:
        query_size: ``Hq``, e.g. the decoder hidden size.
        key_size: ``Hk``, e.g. the encoder output size (``2 * hidden`` if bidirectional).
        hidden_size: the size of the scoring layer (defaults to ``query_size``).
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int | None = None):
        super().__init__()
        self.query_size = query_size
        self.key_size = key_size
        self.hidden_size = query_size if hidden_size is None else hidden_size
        self.query_proj = nn.Linear(query_size, self.hidden_size, bias=False)
        self.key_proj = nn.Linear(key_size, self.hidden_size, bias=True)
        self.v = nn.Linear(self.hidden_size, 1, bias=False)

    def extra_repr(self) -> str:
        return (
            f"query_size={self.query_size}, key_size={self.key_size}, "
            f"hidden_size={self.hidden_size}"
        )

    def project_keys(self, keys: Tensor) -> Tensor:
        """``W_k k_s + b`` for every key: ``(B, S, Hk)`` -> ``(B, S, hidden_size)``."""
        return self.key_proj(keys)

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None = None,
        mask: Tensor | None = None,
        projected_keys: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Attend from ``query`` to ``keys``; returns ``(context, weights)``.

        Shapes as in :class:`DotAttention` and the module docstring; ``projected_keys``
        ``(B, S, hidden_size)`` is :meth:`project_keys` ``(keys)``, computed once per sequence.
        """
        pk = self.key_proj(keys) if projected_keys is None else projected_keys  # (B, S, A)
        return self._attend(query, keys, values, mask, lambda q: self._score_projected(q, pk))

    def _score(self, query: Tensor, keys: Tensor) -> Tensor:
        return self._score_projected(query, self.key_proj(keys))

    def _score_projected(self, query: Tensor, pk: Tensor) -> Tensor:
        """``query`` ``(B, T, Hq)``, projected keys ``pk`` ``(B, S, A)`` -> ``(B, T, S)``."""
        pq = self.query_proj(query)  # (B, T, A)
        hidden = torch.tanh(pq.unsqueeze(2) + pk.unsqueeze(1))  # (B, T, S, A)
        return self.v(hidden).squeeze(-1)  # (B, T, S)


class DotAttention(_Attention):
    r"""Dot-product (Luong) attention, with the optional "general" form and scaling.

    .. math::
        \text{dot:}\quad e_{ts} = q_t^\top k_s \qquad
        \text{general:}\quad e_{ts} = q_t^\top W_a k_s = (W_a^\top q_t)^\top k_s

    With ``scale=True`` scores are divided by :math:`\sqrt{H_k}` (as in Transformers), which keeps
    the softmax from saturating when the vectors are long.

    The "general" map is a ``Linear(query_size, key_size, bias=False)`` applied to the *query*
    (the transpose of :math:`W_a`), so in step-by-step decoding the keys are never re-projected.
    It is added when ``general=True`` or when ``query_size`` and ``key_size`` are both given and
    differ; without it query and keys must have the same size. Forward shapes are in the module
    docstring.

    Args:
        scale: divide scores by ``sqrt(key size)``.
        query_size: ``Hq`` (needed for ``general``).
        key_size: ``Hk`` (defaults to ``query_size``).
        general: add the learned map :math:`W_a` even when the sizes agree.
    """

    def __init__(
        self,
        scale: bool = False,
        query_size: int | None = None,
        key_size: int | None = None,
        general: bool = False,
    ):
        super().__init__()
        self.scale = scale
        self.general = general
        if key_size is None:
            key_size = query_size
        self.query_size = query_size
        self.key_size = key_size
        needs_map = general or (
            query_size is not None and key_size is not None and query_size != key_size
        )
        if needs_map and query_size is None:
            raise ValueError("DotAttention: general=True needs query_size")
        self.linear = nn.Linear(query_size, key_size, bias=False) if needs_map else None

    def extra_repr(self) -> str:
        parts = [f"scale={self.scale}"]
        if self.linear is not None:
            parts.append(f"query_size={self.query_size}, key_size={self.key_size}, general=True")
        return ", ".join(parts)

    def _score(self, query: Tensor, keys: Tensor) -> Tensor:
        q = self.linear(query) if self.linear is not None else query  # (B, T, Hk)
        if q.shape[-1] != keys.shape[-1]:
            raise ValueError(
                f"DotAttention: query size {q.shape[-1]} != key size {keys.shape[-1]}; "
                "pass query_size and key_size (or general=True) to learn a map between them"
            )
        scores = torch.bmm(q, keys.transpose(1, 2))  # (B, T, S)
        if self.scale:
            scores = scores / math.sqrt(keys.shape[-1])
        return scores


class AttentionPooling(nn.Module):
    r"""Attention pooling for classifiers: a learned weighted average over time steps.

    .. math::
        e_s = w^\top x_s + b \quad\text{(hidden_size=None)} \qquad
        e_s = v^\top \tanh(W x_s + b) \quad\text{(otherwise)}

        a = \text{softmax}_{\text{valid } s}(e), \qquad c = \sum_s a_s x_s

    Shapes: ``inputs`` ``(B, S, H)`` (e.g. an encoder's outputs), ``mask`` ``(B, S)`` bool with
    True = valid; returns ``context`` ``(B, H)`` and ``weights`` ``(B, S)`` (the words the model
    looked at). A fully masked row gives zero weights and a zero context.

    Args:
        input_size: ``H``.
        hidden_size: the size of the tanh scoring layer; None scores with a single linear map.
    """

    def __init__(self, input_size: int, hidden_size: int | None = None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        if hidden_size is None:
            self.score = nn.Linear(input_size, 1)
        else:
            self.score = nn.Sequential(
                nn.Linear(input_size, hidden_size),
                nn.Tanh(),
                nn.Linear(hidden_size, 1, bias=False),
            )

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"

    def forward(self, inputs: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Pool ``inputs`` ``(B, S, H)`` into ``(context (B, H), weights (B, S))``."""
        if inputs.dim() != 3:
            raise ValueError(
                f"AttentionPooling: Expected inputs to be 3D, got {inputs.dim()}D instead"
            )
        B, S, _ = inputs.shape
        scores = self.score(inputs).squeeze(-1)  # (B, S)
        if mask is not None:
            if mask.dtype != torch.bool:
                mask = mask != 0
            if mask.shape != (B, S):
                raise ValueError(
                    f"AttentionPooling: Expected mask of shape {(B, S)}, got {tuple(mask.shape)}"
                )
        weights = masked_softmax(scores, mask)  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), inputs).squeeze(1)  # (B, H)
        return context, weights
