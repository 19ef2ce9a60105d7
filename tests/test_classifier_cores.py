"""The text classifiers (sentiment, names) on the modern cores: exact on padding in both
directions, pooling that reads the whole text, exact resume, and checkpoints the players load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from engine_fixtures import INPUTS, engine_config
from test_trainer import assert_same_state, model_metrics, run_all

from models.classifier import SentimentRNN
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.player import load_player
from tasks.engine.trainer import Trainer
from tasks.registry import create_task

CORES = ("mingru", "lru", "mlstm", "slstm")


def model(arch: str, block: bool, attention: bool, layers: int = 2) -> SentimentRNN:
    """A small bidirectional classifier over 40 token ids, 3 classes, in eval mode."""
    torch.manual_seed(0)
    return SentimentRNN(40, 8, 8, layers, arch, True, attention, 0.0, 3, block=block).eval()


@pytest.mark.parametrize("block", [False, True])
@pytest.mark.parametrize("arch", CORES)
def test_a_padded_batch_gives_each_text_its_logits_alone(arch: str, block: bool) -> None:
    texts = [
        torch.randint(2, 40, (n,), generator=torch.Generator().manual_seed(n)) for n in (3, 9, 5)
    ]
    batch = torch.zeros(3, 9, dtype=torch.int64)
    for row, text in enumerate(texts):
        batch[row, : len(text)] = text
    lengths = torch.tensor([len(t) for t in texts])
    for attention in (False, True):
        classifier = model(arch, block, attention)
        logits, weights = classifier(batch, lengths)
        for row, text in enumerate(texts):
            alone, alone_weights = classifier(text.unsqueeze(0), lengths[row : row + 1])
            torch.testing.assert_close(logits[row], alone[0])
            if attention:
                assert weights is not None and alone_weights is not None
                torch.testing.assert_close(weights[row, : len(text)], alone_weights[0])
                assert torch.all(weights[row, len(text) :] == 0)
        if attention:
            torch.testing.assert_close(weights.sum(1), torch.ones(3))
        else:
            assert weights is None


@pytest.mark.parametrize("block", [False, True])
@pytest.mark.parametrize("arch", CORES)
def test_last_pooling_reads_the_first_and_the_last_token(arch: str, block: bool) -> None:
    """The final vector changes with the first and with the last real token, in every half
    of it (forward and backward parts when the directions are joined). One layer: in two,
    the second's backward part at the last token has read the first layer's forward part."""
    classifier = model(arch, block, attention=False, layers=1)
    ids, lengths = torch.tensor([[5, 6, 7, 8, 0, 0]]), torch.tensor([4])
    x = classifier.embedding(ids)
    _, final = classifier.encode(x, lengths)
    halves = 2 if classifier.split_directions else 1
    assert classifier.split_directions == (not block and arch in ("mingru", "mlstm", "slstm"))
    for position in (0, 3):
        changed = ids.clone()
        changed[0, position] = 9
        _, other = classifier.encode(classifier.embedding(changed), lengths)
        for part, part_other in zip(final.chunk(halves, -1), other.chunk(halves, -1), strict=True):
            assert not torch.allclose(part, part_other), (position, halves)


@pytest.mark.parametrize("stop_at", ["epoch end", "mid-epoch"])
def test_sentiment_resume_is_exact_with_a_modern_core(tmp_path: Path, stop_at: str) -> None:
    config = engine_config("sentiment", tmp_path, "mingru", epochs=2, block=True)
    assert config.block and config.bidirectional and config.attention and config.dropout > 0
    straight = run_all(Trainer(create_task(config), tmp_path / "straight"))
    per_epoch = straight[0].steps_per_epoch
    k = per_epoch if stop_at == "epoch end" else per_epoch + 1
    run_all(
        Trainer(create_task(config), tmp_path / "resumed"),
        stop_when=lambda e: e.kind == "step" and e.step == k,
    )
    resumed = run_all(Trainer.resume(tmp_path / "resumed"))
    assert resumed[0].resumed_from_step == k
    assert model_metrics(resumed[-1]) == model_metrics(straight[-1])
    ends = [load_checkpoint(tmp_path / run / "last.pt") for run in ("straight", "resumed")]
    assert_same_state(ends[0]["task_state"], ends[1]["task_state"])


@pytest.mark.parametrize(("task", "arch"), [("sentiment", "mlstm"), ("names", "lru")])
def test_a_modern_checkpoint_loads_in_the_player_and_predicts(
    tmp_path: Path, task: str, arch: str
) -> None:
    """Trained bidirectional with attention: one epoch, then the best weights in the player."""
    config = engine_config(
        task, tmp_path, arch, epochs=1, bidirectional=True, attention=True, block=True
    )
    run_all(Trainer(create_task(config), tmp_path / "run"))
    player = load_player(tmp_path / "run" / "best.pt")
    assert player.describe().startswith(f"{arch} 1×8 blocks bidirectional")
    many = list(player.answer_many(INPUTS[task]))
    alone = [player.answer(text) for text in INPUTS[task]]
    if task == "names":
        for a, b in zip(many, alone, strict=True):
            assert [lang for lang, _ in a.top] == [lang for lang, _ in b.top]
            assert [p for _, p in a.top] == pytest.approx([p for _, p in b.top], abs=1e-5)
        return
    for a, b in zip(many, alone, strict=True):
        assert a.label == b.label and a.positive == pytest.approx(b.positive, abs=1e-5)
        weights = [w for *_, w in a.tokens]  # attention highlighting: a weight per token read
        assert all(w is not None and w >= 0 for w in weights)
        assert sum(weights) == pytest.approx(1.0, abs=1e-4)
        assert weights == pytest.approx([w for *_, w in b.tokens], abs=1e-5)
