"""Networks and cells (torch) and the NumPy from-scratch RNN.

Names are imported lazily so that `import models.registry` does not load torch.
"""

from importlib import import_module

_EXPORTS = {
    "RNNCell": "models.cells",
    "LSTMCell": "models.cells",
    "GRUCell": "models.cells",
    "Recurrent": "models.recurrent",
    "VanillaRNN": "models.numpy_rnn",
    "AdditiveAttention": "models.attention",
    "DotAttention": "models.attention",
    "AttentionPooling": "models.attention",
    "CharRNN": "models.charlm",
    "ARCHITECTURES": "models.registry",
    "Architecture": "models.registry",
    "get_architecture": "models.registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
