"""A vanilla character-level RNN written from scratch in NumPy.

This is Karpathy's ``min-char-rnn.py`` (2015) reorganised for teaching: the forward pass,
backpropagation through time (BPTT), gradient clipping, the Adagrad update and sampling are
separate, documented steps, each checked against finite differences and torch autograd in
``tests/test_numpy_rnn.py``.

Notation (``V`` = vocabulary size, ``H`` = hidden size, ``T`` = sequence length)::

    x_t = one_hot(inputs[t])                     (V,)
    h_t = tanh(Wxh @ x_t + Whh @ h_{t-1} + bh)   (H,)    h_0 is given (zeros by default)
    y_t = Why @ h_t + by                         (V,)    logits
    p_t = softmax(y_t)                           (V,)
    L   = -(1/T) * sum_t log p_t[targets[t]]             mean cross-entropy, nats per char

Parameters (in ``VanillaRNN.params``)::

    Wxh (H, V)   input-to-hidden        bh (H,)   hidden bias
    Whh (H, H)   hidden-to-hidden       by (V,)   output bias
    Why (V, H)   hidden-to-output

Differences from min-char-rnn, on purpose:

* The loss is the *mean* cross-entropy over the sequence (nats per character), not the sum, so it
  reads like the ``val_loss`` of the torch models. Adagrad divides each update by the root of the
  accumulated squared gradients, so it is (up to ``eps``) blind to that factor ``1/T``; plain SGD
  and a clipping threshold are not, so an SGD learning rate is ``T`` times larger than with the sum.
* Biases are 1-D arrays ``(H,)`` and ``(V,)`` rather than column vectors ``(H, 1)``; the hidden
  state is a 1-D array ``(H,)``.
* :func:`clip_grad_norm` clips by the *global* norm of all gradients, as the rest of the
  project (``torch.nn.utils.clip_grad_norm_``) does; min-char-rnn clipped every entry to
  ``[-5, 5]``, which is :func:`clip_grad_value` here. The global norm keeps the direction of
  the gradient.
* Randomness comes from ``numpy.random.Generator`` objects, never from the global NumPy state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

PARAM_NAMES: tuple[str, ...] = ("Wxh", "Whh", "Why", "bh", "by")
"""The parameter names, in the order used by ``params``, grads and ``state_dict``."""

ADAGRAD_PREFIX = "adagrad."
"""Prefix of the Adagrad memory entries in :meth:`VanillaRNN.state_dict`."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: ``exp(y - max y) / sum exp(y - max y)`` along ``axis``."""
    z = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable ``log(softmax(y))`` along ``axis``."""
    z = logits - logits.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The L2 norm of all gradients taken together: ``sqrt(sum_k ||g_k||^2)``."""
    return float(
        np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))
    )


def clip_grad_norm(
    grads: Mapping[str, np.ndarray], max_norm: float | None
) -> tuple[dict[str, np.ndarray], float]:
    """Clip gradients by their global norm, like ``torch.nn.utils.clip_grad_norm_``.

    If ``n = global_norm(grads) > max_norm`` every gradient is multiplied by
    ``max_norm / (n + 1e-6)``, so the update keeps its direction and its length becomes
    ``max_norm``. ``max_norm=None`` (or ``inf``) only measures the norm.

    Returns ``(clipped, n)``: a new dict (the inputs are not modified) and the norm *before*
    clipping, which is worth logging: spikes in it are exploding gradients.
    """
    if max_norm is not None and not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be positive or None, got {max_norm}")
    norm = global_norm(grads)
    if max_norm is None or norm <= max_norm:
        return {k: g.copy() for k, g in grads.items()}, norm
    scale = max_norm / (norm + 1e-6)
    return {k: (g * scale).astype(g.dtype, copy=False) for k, g in grads.items()}, norm


def clip_grad_value(grads: Mapping[str, np.ndarray], limit: float = 5.0) -> dict[str, np.ndarray]:
    """min-char-rnn's clipping: every entry is clipped to ``[-limit, limit]`` (a new dict)."""
    return {k: np.clip(g, -limit, limit) for k, g in grads.items()}


def _as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


# --------------------------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------------------------


class Adagrad:
    """Adagrad exactly as in min-char-rnn, updating the arrays of ``params`` in place.

    For each parameter ``w`` with gradient ``g``::

        m <- m + g * g                       (elementwise; m starts at 0)
        w <- w - lr * g / sqrt(m + eps)

    Every weight gets its own step size, which shrinks as its squared gradients accumulate.
    ``memory`` holds ``m`` per parameter name.
    """

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-1, eps: float = 1e-8):
        self.params = params
        self.lr = lr
        self.eps = eps
        self.memory: dict[str, np.ndarray] = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads: Mapping[str, np.ndarray], lr: float | None = None) -> None:
        """Apply one update with ``grads`` (``lr`` overrides ``self.lr`` for this step)."""
        lr = self.lr if lr is None else lr
        for k, p in self.params.items():
            g = grads[k]
            mem = self.memory[k]
            mem += g * g
            p -= lr * g / np.sqrt(mem + self.eps)

    def reset(self) -> None:
        """Forget the accumulated squared gradients."""
        for m in self.memory.values():
            m.fill(0)


class SGD:
    """Plain stochastic gradient descent: ``w <- w - lr * g`` (in place)."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1.0):
        self.params = params
        self.lr = lr

    def step(self, grads: Mapping[str, np.ndarray], lr: float | None = None) -> None:
        """Apply one update with ``grads`` (``lr`` overrides ``self.lr`` for this step)."""
        lr = self.lr if lr is None else lr
        for k, p in self.params.items():
            p -= lr * grads[k]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class ForwardCache:
    """What the forward pass keeps for backpropagation through time.

    Attributes:
        xs: ``(T,)`` int input indices (the one-hot vectors ``x_t`` are implied).
        hs: ``(T + 1, H)`` hidden states; ``hs[0]`` is ``h_0`` and ``hs[t + 1]`` is the state
            after reading ``xs[t]``.
        logits: ``(T, V)`` the outputs ``y_t``.
        ps: ``(T, V)`` the probabilities ``p_t = softmax(y_t)`` of the next character.
    """

    xs: np.ndarray
    hs: np.ndarray
    logits: np.ndarray
    ps: np.ndarray

    @property
    def h_last(self) -> np.ndarray:
        """The final hidden state ``h_T`` ``(H,)``, to carry into the next chunk."""
        return self.hs[-1]


class VanillaRNN:
    """A one-layer character RNN with tanh units, trained by BPTT, in pure NumPy.

    Args:
        vocab_size: ``V``, the number of distinct characters (input and output size).
        hidden_size: ``H``, the number of hidden units.
        seed: seeds the weight initialisation (``numpy.random.default_rng(seed)``).
        dtype: ``np.float32`` for speed, ``np.float64`` for gradient checks.
        init_scale: weights start as ``init_scale * N(0, 1)`` (min-char-rnn uses 0.01); biases 0.

    Attributes:
        params: ``{"Wxh": (H, V), "Whh": (H, H), "Why": (V, H), "bh": (H,), "by": (V,)}``.
        optimizer: the :class:`Adagrad` used by :meth:`step` (its memory is saved by
            :meth:`state_dict`).
        dh_history: after :meth:`loss` (or :meth:`backward`), ``(T,)`` the norms
            ``||dL/dh_t||`` for ``t = 1..T`` -- the total gradient reaching each hidden state,
            through the output at ``t`` and through all later time steps. Plotted against ``t`` it
            shows gradients vanishing (or exploding) as they travel back in time.
        dh0: after :meth:`loss`, ``(H,)`` the gradient ``dL/dh_0`` reaching the initial state.

    Example (the min-char-rnn training loop)::

        rnn = VanillaRNN(vocab_size=V, hidden_size=100)
        h = rnn.init_hidden()
        for inputs, targets in chunks:                 # each a list of T indices
            loss, grads, h = rnn.loss(inputs, targets, h)
            grads, norm = rnn.clip(grads, max_norm=5.0)
            rnn.step(grads, lr=0.1)                    # Adagrad
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 100,
        seed: int | None = 0,
        dtype: type | np.dtype = np.float32,
        init_scale: float = 0.01,
    ):
        if vocab_size < 1 or hidden_size < 1:
            raise ValueError(
                f"VanillaRNN: vocab_size and hidden_size must be positive, "
                f"got {vocab_size} and {hidden_size}"
            )
        self.vocab_size = int(vocab_size)
        self.hidden_size = int(hidden_size)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        V, H = self.vocab_size, self.hidden_size
        self.params: dict[str, np.ndarray] = {
            "Wxh": (rng.standard_normal((H, V)) * init_scale).astype(self.dtype),  # (H, V)
            "Whh": (rng.standard_normal((H, H)) * init_scale).astype(self.dtype),  # (H, H)
            "Why": (rng.standard_normal((V, H)) * init_scale).astype(self.dtype),  # (V, H)
            "bh": np.zeros(H, dtype=self.dtype),  # (H,)
            "by": np.zeros(V, dtype=self.dtype),  # (V,)
        }
        self.optimizer = Adagrad(self.params)
        self.dh_history: np.ndarray | None = None
        self.dh0: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"VanillaRNN(vocab_size={self.vocab_size}, hidden_size={self.hidden_size}, "
            f"dtype={self.dtype.name})"
        )

    @property
    def num_parameters(self) -> int:
        """The number of scalar parameters."""
        return sum(p.size for p in self.params.values())

    def init_hidden(self) -> np.ndarray:
        """A zero hidden state ``(H,)``."""
        return np.zeros(self.hidden_size, dtype=self.dtype)

    # ---- checks ------------------------------------------------------------------------------

    def _indices(self, seq: Sequence[int] | np.ndarray, name: str) -> np.ndarray:
        xs = np.asarray(seq)
        if xs.ndim != 1:
            raise ValueError(f"VanillaRNN: Expected {name} to be 1D, got {xs.ndim}D instead")
        if xs.size and not np.issubdtype(xs.dtype, np.integer):
            raise TypeError(f"VanillaRNN: Expected integer {name}, got {xs.dtype}")
        xs = xs.astype(np.int64, copy=False)
        if xs.size and (xs.min() < 0 or xs.max() >= self.vocab_size):
            raise ValueError(
                f"VanillaRNN: {name} must lie in [0, {self.vocab_size}), "
                f"got values in [{xs.min()}, {xs.max()}]"
            )
        return xs

    def _hidden(self, h: np.ndarray | None) -> np.ndarray:
        if h is None:
            return self.init_hidden()
        h = np.asarray(h, dtype=self.dtype).reshape(-1)  # accepts (H,) or min-char-rnn's (H, 1)
        if h.shape != (self.hidden_size,):
            raise ValueError(
                f"VanillaRNN: Expected hidden state of size {self.hidden_size}, got {h.size}"
            )
        return h

    # ---- forward and backward ----------------------------------------------------------------

    def forward(
        self, inputs: Sequence[int] | np.ndarray, h0: np.ndarray | None = None
    ) -> ForwardCache:
        """Run the RNN over ``inputs`` (``T`` indices) from ``h0`` (``(H,)``, zeros if None).

        Returns a :class:`ForwardCache` with ``xs (T,)``, ``hs (T+1, H)``, ``logits (T, V)`` and
        ``ps (T, V)``. ``Wxh @ one_hot(i)`` is just column ``i`` of ``Wxh``, so the one-hot
        vectors are never built.
        """
        p = self.params
        xs = self._indices(inputs, "inputs")  # (T,)
        T = xs.shape[0]
        if T == 0:
            raise ValueError("VanillaRNN: Expected a non-empty input sequence")
        hs = np.empty((T + 1, self.hidden_size), dtype=self.dtype)  # (T+1, H)
        hs[0] = self._hidden(h0)
        x_proj = p["Wxh"][:, xs].T + p["bh"]  # (T, H): Wxh @ x_t + bh for every t at once
        for t in range(T):
            hs[t + 1] = np.tanh(x_proj[t] + p["Whh"] @ hs[t])  # (H,)
        logits = hs[1:] @ p["Why"].T + p["by"]  # (T, V): y_t = Why @ h_t + by
        ps = softmax(logits)  # (T, V)
        return ForwardCache(xs=xs, hs=hs, logits=logits, ps=ps)

    def backward(
        self, cache: ForwardCache, targets: Sequence[int] | np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Backpropagation through time for the mean cross-entropy of ``cache`` vs ``targets``.

        Returns ``(grads, dh)``: ``grads`` has the shapes of ``params``; ``dh`` ``(T + 1, H)``
        holds ``dL/dh_t`` for ``t = 0..T`` (``dh[0]`` is the gradient reaching ``h_0``).
        Also sets :attr:`dh_history` (the norms of ``dh[1:]``) and :attr:`dh0`.

        The equations, going backwards from ``t = T`` with ``dh_{T+1}`` contributions = 0::

            dy_t   = (p_t - one_hot(targets[t])) / T           (V,)   softmax + cross-entropy
            dh_t   = Why^T dy_t + Whh^T da_{t+1}                (H,)   output + the future
            da_t   = (1 - h_t^2) * dh_t                         (H,)   through tanh
            dWhy = sum_t dy_t h_t^T      dby = sum_t dy_t
            dWxh = sum_t da_t x_t^T      dWhh = sum_t da_t h_{t-1}^T      dbh = sum_t da_t
        """
        p = self.params
        ys = self._indices(targets, "targets")  # (T,)
        T = cache.xs.shape[0]
        if ys.shape[0] != T:
            raise ValueError(f"VanillaRNN: got {T} inputs but {ys.shape[0]} targets")
        hs = cache.hs  # (T+1, H)
        dy = cache.ps.copy()  # (T, V)
        dy[np.arange(T), ys] -= 1
        dy /= T
        grads = {
            "Why": dy.T @ hs[1:],  # (V, H)
            "by": dy.sum(axis=0),  # (V,)
        }
        dh_out = dy @ p["Why"]  # (T, H): Why^T dy_t, the gradient from each output
        dh = np.empty_like(hs)  # (T+1, H)
        da = np.empty((T, self.hidden_size), dtype=self.dtype)  # (T, H)
        dh_next = np.zeros(self.hidden_size, dtype=self.dtype)  # (H,) Whh^T da_{t+1}
        for t in reversed(range(T)):
            dh[t + 1] = dh_out[t] + dh_next  # (H,)
            da[t] = (1 - hs[t + 1] ** 2) * dh[t + 1]  # (H,) backprop through tanh
            dh_next = p["Whh"].T @ da[t]  # (H,)
        dh[0] = dh_next
        grads["Whh"] = da.T @ hs[:-1]  # (H, H)
        grads["bh"] = da.sum(axis=0)  # (H,)
        dWxh_T = np.zeros((self.vocab_size, self.hidden_size), dtype=self.dtype)  # (V, H)
        np.add.at(dWxh_T, cache.xs, da)  # row x_t gets da_t (one-hot x_t picks one column)
        grads["Wxh"] = dWxh_T.T  # (H, V)
        grads = {k: np.ascontiguousarray(grads[k], dtype=self.dtype) for k in PARAM_NAMES}
        self.dh_history = np.linalg.norm(dh[1:], axis=1)  # (T,)
        self.dh0 = dh[0].copy()
        return grads, dh

    def loss(
        self,
        inputs: Sequence[int] | np.ndarray,
        targets: Sequence[int] | np.ndarray,
        h0: np.ndarray | None = None,
    ) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
        """Forward and backward over one chunk, as min-char-rnn's ``lossFun``.

        Args:
            inputs: ``T`` character indices.
            targets: ``T`` indices, usually ``inputs`` shifted by one.
            h0: ``(H,)`` the state to start from (zeros if None).

        Returns:
            ``(loss, grads, h_last)``: the mean cross-entropy in nats per character (a float;
            multiply by ``T`` for min-char-rnn's summed loss), the gradients (a dict with the
            shapes of ``params``), and the final hidden state ``(H,)`` to pass as the next
            chunk's ``h0`` (truncated BPTT). :attr:`dh_history` is set as a side effect.
        """
        cache = self.forward(inputs, h0)
        ys = self._indices(targets, "targets")
        if ys.shape != cache.xs.shape:
            raise ValueError(
                f"VanillaRNN: got {cache.xs.shape[0]} inputs but {ys.shape[0]} targets"
            )
        logp = log_softmax(cache.logits)  # (T, V)
        loss = -float(np.mean(logp[np.arange(ys.shape[0]), ys]))
        grads, _ = self.backward(cache, ys)
        return loss, grads, cache.h_last.copy()

    def evaluate(
        self,
        inputs: Sequence[int] | np.ndarray,
        targets: Sequence[int] | np.ndarray,
        h0: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """The mean cross-entropy (nats/char) and final state, without gradients."""
        cache = self.forward(inputs, h0)
        ys = self._indices(targets, "targets")
        if ys.shape != cache.xs.shape:
            raise ValueError(
                f"VanillaRNN: got {cache.xs.shape[0]} inputs but {ys.shape[0]} targets"
            )
        logp = log_softmax(cache.logits)
        return -float(np.mean(logp[np.arange(ys.shape[0]), ys])), cache.h_last.copy()

    # ---- updates -----------------------------------------------------------------------------

    @staticmethod
    def clip(
        grads: Mapping[str, np.ndarray], max_norm: float | None = 5.0
    ) -> tuple[dict[str, np.ndarray], float]:
        """Clip by global norm; returns ``(clipped grads, norm before clipping)``.

        See :func:`clip_grad_norm`; :func:`clip_grad_value` is min-char-rnn's elementwise clip.
        """
        return clip_grad_norm(grads, max_norm)

    def step(
        self, grads: Mapping[str, np.ndarray], lr: float = 1e-1, optimizer: str = "adagrad"
    ) -> None:
        """Update ``params`` in place: ``optimizer="adagrad"`` (min-char-rnn, uses and updates
        the Adagrad memory) or ``"sgd"`` (``w <- w - lr * g``)."""
        if optimizer == "adagrad":
            self.optimizer.step(grads, lr)
        elif optimizer == "sgd":
            SGD(self.params).step(grads, lr)
        else:
            raise ValueError(f"VanillaRNN: unknown optimizer {optimizer!r} (adagrad or sgd)")

    # ---- generation --------------------------------------------------------------------------

    def step_logits(self, ix: int, h: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Feed one character index ``ix`` from state ``h`` ``(H,)``.

        Returns ``(logits (V,), h_new (H,))``, so callers can apply their own sampling
        function (greedy, top-k, nucleus) to the logits.
        """
        p = self.params
        if not 0 <= int(ix) < self.vocab_size:
            raise ValueError(f"VanillaRNN: index {ix} is outside [0, {self.vocab_size})")
        h = self._hidden(h)
        h_new = np.tanh(p["Wxh"][:, int(ix)] + p["Whh"] @ h + p["bh"])  # (H,)
        logits = p["Why"] @ h_new + p["by"]  # (V,)
        return logits, h_new

    def prime(
        self, inputs: Sequence[int] | np.ndarray, h: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read a priming sequence; returns ``(logits after the last char (V,), state (H,))``."""
        cache = self.forward(inputs, h)
        return cache.logits[-1].copy(), cache.h_last.copy()

    def sample_iter(
        self,
        h: np.ndarray | None,
        seed_ix: int,
        n: int,
        temperature: float = 1.0,
        rng: np.random.Generator | int | None = None,
    ) -> Iterator[int]:
        """Yield ``n`` character indices, one at a time, starting by feeding ``seed_ix``.

        Each step draws from ``softmax(logits / temperature)``; ``temperature <= 0`` means
        greedy (argmax). ``rng`` is a ``numpy.random.Generator`` or a seed.
        """
        rng = _as_rng(rng)
        ix = int(seed_ix)
        for _ in range(n):
            logits, h = self.step_logits(ix, h)
            if temperature <= 0:
                ix = int(np.argmax(logits))
            else:
                probs = softmax(logits.astype(np.float64) / temperature)
                ix = int(rng.choice(self.vocab_size, p=probs / probs.sum()))
            yield ix

    def sample(
        self,
        h: np.ndarray | None,
        seed_ix: int,
        n: int,
        temperature: float = 1.0,
        rng: np.random.Generator | int | None = None,
    ) -> list[int]:
        """``n`` sampled indices as a list (see :meth:`sample_iter`); min-char-rnn's ``sample``."""
        return list(self.sample_iter(h, seed_ix, n, temperature=temperature, rng=rng))

    # ---- checkpoints -------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters and the Adagrad memory as plain arrays.

        Keys: ``Wxh, Whh, Why, bh, by`` and ``adagrad.Wxh`` ... ``adagrad.by``. Sizes follow from
        the shapes (see :meth:`from_state_dict`); each array converts to a tensor with
        ``torch.from_numpy`` for a ``weights_only`` checkpoint.
        """
        state = {k: self.params[k].copy() for k in PARAM_NAMES}
        state.update({ADAGRAD_PREFIX + k: self.optimizer.memory[k].copy() for k in PARAM_NAMES})
        return state

    def load_state_dict(self, state: Mapping[str, object], strict: bool = True) -> None:
        """Copy arrays (NumPy arrays, tensors or nested lists) from ``state`` in place.

        With ``strict=True`` every parameter and Adagrad entry must be present and no other key;
        with ``strict=False`` a missing Adagrad memory is reset to zeros.
        """
        expected = set(PARAM_NAMES) | {ADAGRAD_PREFIX + k for k in PARAM_NAMES}
        missing = [k for k in PARAM_NAMES if k not in state]
        if strict:
            missing += [k for k in sorted(expected - set(PARAM_NAMES)) if k not in state]
        unexpected = sorted(set(state) - expected)
        if missing or (strict and unexpected):
            raise KeyError(
                f"VanillaRNN.load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        new: dict[str, np.ndarray] = {}
        for k in sorted(expected):
            if k not in state:
                continue
            arr = _to_numpy(state[k])
            name = k.removeprefix(ADAGRAD_PREFIX)
            want = self.params[name].shape
            if arr.shape != want:
                raise ValueError(
                    f"VanillaRNN.load_state_dict: {k} has shape {arr.shape}, expected {want}"
                )
            new[k] = arr
        for k, arr in new.items():  # only after every check passed
            if k.startswith(ADAGRAD_PREFIX):
                self.optimizer.memory[k.removeprefix(ADAGRAD_PREFIX)][...] = arr
            else:
                self.params[k][...] = arr
        if not any(k.startswith(ADAGRAD_PREFIX) for k in new):
            self.optimizer.reset()

    @classmethod
    def from_state_dict(
        cls, state: Mapping[str, object], dtype: type | np.dtype | None = None
    ) -> VanillaRNN:
        """Build a model whose sizes (and, by default, dtype) come from ``state``'s arrays."""
        wxh = _to_numpy(state["Wxh"])
        hidden_size, vocab_size = wxh.shape
        model = cls(vocab_size, hidden_size, seed=None, dtype=wxh.dtype if dtype is None else dtype)
        model.load_state_dict(state, strict=False)
        return model


def _to_numpy(value: object) -> np.ndarray:
    """A NumPy copy of an array, a (CPU or not) torch tensor or a nested list."""
    if hasattr(value, "detach"):  # a torch tensor; avoids importing torch here
        value = value.detach().cpu().numpy()  # type: ignore[attr-defined]
    return np.array(value)
