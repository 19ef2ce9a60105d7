"""Recurrent cores behind one contract (`models.cores.base.RecurrentCore`).

``forward(x, state=None, lengths=None) -> (y, state)`` over whole ``(B, T, input_size)``
sequences, ``step(x_t, state)`` for generation, ``initial_state(batch)`` and
``parameter_count`` (countable on the meta device, `meta_parameter_count`).

- `TorchRecurrent` (torch_rnn.py): today's RNN/LSTM/GRU (`models.recurrent.Recurrent`, fused or
  scratch) under the contract; the module docstring maps the NumPy RNN onto it.
- `MinGRU`, `MinLSTM` (Feng et al. 2024), `LRU` (Orvieto et al. 2023), `S6` (Gu & Dao 2023),
  `MLSTM` and `SLSTM` (Beck et al. 2024), `IndRNN` (Li et al. 2018): one file each, its
  equations in the module docstring (``RecurrentCore.equations()``).
- `ResidualBlock` (block.py): norm -> core -> residual -> MLP, around any width-keeping core.
- scan.py: the parallel scans the linear recurrences share.

Names are imported lazily, as in `models`.
"""

from importlib import import_module

_EXPORTS = {
    "CoreError": "models.cores.base",
    "RecurrentCore": "models.cores.base",
    "meta_parameter_count": "models.cores.base",
    "TorchRecurrent": "models.cores.torch_rnn",
    "MinGRU": "models.cores.mingru",
    "MinLSTM": "models.cores.minlstm",
    "LRU": "models.cores.lru",
    "S6": "models.cores.s6",
    "MLSTM": "models.cores.mlstm",
    "SLSTM": "models.cores.slstm",
    "IndRNN": "models.cores.indrnn",
    "ResidualBlock": "models.cores.block",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'models.cores' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
