"""The sentiment classifier: exact on padded batches (checked against packed sequences)."""

from __future__ import annotations

import pytest
import torch

from models.classifier import LengthAwareRNN, SentimentRNN
from models.recurrent import Recurrent


def packed_twin(encoder: LengthAwareRNN, cell: str, layers: int) -> Recurrent:
    """A bidirectional `Recurrent` (run on packed sequences) with the encoder's weights."""
    twin = Recurrent(cell, 5, 4, num_layers=layers, batch_first=True, bidirectional=True)
    state = {}
    for layer in range(layers):
        for direction, suffix in enumerate(("", "_reverse")):
            own = encoder.layers[layer][direction].rnn.state_dict()
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                state[f"rnn.{name}_l{layer}{suffix}"] = own[f"{name}_l0"]
    twin.load_state_dict(state)
    return twin


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_length_aware_rnn_equals_packed_sequences(cell: str) -> None:
    torch.manual_seed(0)
    encoder = LengthAwareRNN(cell, 5, 4, num_layers=2, bidirectional=True)
    twin = packed_twin(encoder, cell, 2)
    x, lengths = torch.randn(3, 7, 5), torch.tensor([7, 3, 1])
    outputs, final = encoder(x, lengths)
    expected, h_n = twin(x, lengths=lengths)
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n
    valid = torch.arange(7)[None, :] < lengths[:, None]
    torch.testing.assert_close(outputs[valid], expected[valid])
    torch.testing.assert_close(final, torch.cat([h_n[-2], h_n[-1]], dim=-1))


@pytest.mark.parametrize("attention", [True, False])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_padding_never_changes_a_prediction(attention: bool, bidirectional: bool) -> None:
    torch.manual_seed(1)
    model = SentimentRNN(50, 8, 6, 2, "lstm", bidirectional, attention).eval()
    alone = torch.randint(2, 50, (1, 4))
    batch = torch.zeros(2, 9, dtype=torch.int64)
    batch[0, :4] = alone[0]
    batch[1] = torch.randint(2, 50, (9,))
    logits_alone, w_alone = model(alone, torch.tensor([4]))
    logits_batch, w_batch = model(batch, torch.tensor([4, 9]))
    torch.testing.assert_close(logits_batch[0], logits_alone[0])
    if attention:
        assert w_batch is not None and w_alone is not None
        torch.testing.assert_close(w_batch[0, :4], w_alone[0])
        assert torch.all(w_batch[0, 4:] == 0)
        torch.testing.assert_close(w_batch.sum(1), torch.ones(2))
    else:
        assert w_batch is None


def test_scratch_backend_matches_fused() -> None:
    torch.manual_seed(2)
    fused = SentimentRNN(30, 6, 5, 1, "gru", True, True).eval()
    scratch = SentimentRNN(30, 6, 5, 1, "gru", True, True, backend="scratch").eval()
    scratch.load_state_dict(fused.state_dict())
    ids, lengths = torch.randint(2, 30, (3, 6)), torch.tensor([6, 2, 4])
    torch.testing.assert_close(scratch(ids, lengths)[0], fused(ids, lengths)[0])


def test_gradients_reach_every_parameter() -> None:
    model = SentimentRNN(30, 6, 5, 3, "rnn", True, True, dropout=0.1)
    logits, _ = model(torch.randint(2, 30, (4, 5)), torch.tensor([5, 1, 3, 2]))
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
