"""The encoder-decoder: one-call vs step-by-step decoding, masking, greedy and beam search;
the same for the modern cores (in blocks or not), and exact resume with one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
from engine_fixtures import engine_config

from models.cores.stack import flatten_state
from models.seq2seq import EOS_ID, SOS_ID, Seq2Seq, label_smoothed_loss
from tasks.engine.checkpoint import load_checkpoint
from tasks.engine.settings import MODERN
from tasks.engine.trainer import Trainer
from tasks.registry import create_task

V_SRC, V_TGT = 20, 15


def model(attention: str = "dot", arch: str = "gru", layers: int = 1) -> Seq2Seq:
    torch.manual_seed(0)
    return Seq2Seq(V_SRC, V_TGT, arch, embed=8, hidden=12, layers=layers, bidirectional=True,
                   attention=attention, dropout=0.0).eval()  # fmt: skip


def sources() -> tuple[torch.Tensor, torch.Tensor]:
    src = torch.tensor([[4, 5, 6, 7, 8], [9, 10, 11, 0, 0]])
    return src, torch.tensor([5, 3])


@pytest.mark.parametrize("attention", ["none", "dot", "additive"])
@pytest.mark.parametrize("arch", ["gru", "lstm"])
def test_one_fused_call_equals_step_by_step(attention: str, arch: str) -> None:
    m = model(attention, arch, layers=2)
    src, src_len = sources()
    tgt_in = torch.tensor([[SOS_ID, 4, 5, 6], [SOS_ID, 7, 8, 0]])
    fused = m(src, src_len, tgt_in)  # (B, T, V)
    enc, state, steps = m.encode(src, src_len), None, []
    state = enc.state
    for t in range(tgt_in.shape[1]):
        logits, state, _ = m.step(tgt_in[:, t], state, enc)
        steps.append(logits)
    assert torch.allclose(fused, torch.stack(steps, 1), atol=1e-5)
    # Teacher forcing 0.999 takes the step-by-step path; almost always the true tokens.
    torch.manual_seed(1)
    assert torch.allclose(fused, m(src, src_len, tgt_in, teacher_forcing=0.999), atol=1e-5)


@pytest.mark.parametrize("attention", ["dot", "additive"])
def test_padding_is_masked_out(attention: str) -> None:
    m = model(attention)
    src, src_len = sources()
    longer = torch.cat([src, torch.full((2, 4), 13)], dim=1)  # junk after each sentence
    tgt_in = torch.tensor([[SOS_ID, 4], [SOS_ID, 5]])
    assert torch.allclose(m(src, src_len, tgt_in), m(longer, src_len, tgt_in), atol=1e-5)
    enc = m.encode(src, src_len)
    _, weights = m.head(torch.randn(2, 3, 12), enc)
    assert torch.all(weights[1, :, 3:] == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3), atol=1e-6)


def test_decoding_always_stops_at_the_length_limit() -> None:
    m = model()
    with torch.no_grad():
        m.out.bias.fill_(0)
        m.out.bias[EOS_ID] = -1e4  # a model that never ends a sentence
    src, src_len = sources()
    for hyp in m.greedy(src, src_len, max_len=7):
        assert len(hyp.ids) == 7 and not hyp.finished
        assert hyp.attention.shape[0] == 7  # one row per kept token, none for a cut
    beam = m.beam_search(src[:1], src_len[:1], width=3, max_len=6)[0]
    assert len(beam.ids) == 6 and not beam.finished and beam.attention.shape[0] == 6


def test_beam_width_one_is_greedy_and_scores_are_consistent() -> None:
    m = model()
    src, src_len = sources()
    greedy = m.greedy(src[:1], src_len[:1], max_len=10)[0]
    assert m.beam_search(src[:1], src_len[:1], width=1, max_len=10)[0].ids == greedy.ids
    best = m.beam_search(src[:1], src_len[:1], width=4, max_len=10, alpha=0.0)[0]
    # The reported log-probability is the model's own score of that output.
    tgt = torch.tensor([[SOS_ID, *best.ids]])
    ends = [*best.ids, EOS_ID] if best.finished else best.ids
    logp = torch.log_softmax(m(src[:1], src_len[:1], tgt[:, : len(ends)]), -1)[0]
    own = sum(float(logp[t, token].detach()) for t, token in enumerate(ends))
    assert own == pytest.approx(best.log_prob, abs=1e-4)
    assert best.log_prob >= greedy.log_prob - 1e-6 or not greedy.finished
    assert best.attention.shape[0] == len(best.ids) + (1 if best.finished else 0)


@pytest.mark.parametrize("attention", ["none", "dot"])
def test_batched_beam_search_equals_one_sentence_at_a_time(attention: str) -> None:
    m = model(attention)
    src, src_len = sources()
    together = m.beam_search(src, src_len, width=3, max_len=9)
    for b in range(2):
        alone = m.beam_search(src[b : b + 1, : src_len[b]], src_len[b : b + 1], 3, 9)[0]
        assert together[b].ids == alone.ids
        assert together[b].log_prob == pytest.approx(alone.log_prob, abs=1e-5)
        if attention != "none":
            assert torch.allclose(together[b].attention, alone.attention, atol=1e-5)


def test_without_attention_there_are_no_weights() -> None:
    m = model("none")
    src, src_len = sources()
    assert m.attn is None
    assert m.greedy(src, src_len, max_len=5)[0].attention is None


def test_a_copy_task_is_learned_with_attention() -> None:
    """Copy 3-6 random tokens: attention makes it easy; a broken decoder cannot pass."""
    torch.manual_seed(0)
    m = Seq2Seq(12, 12, "gru", embed=16, hidden=32, attention="dot").train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        lens = torch.randint(3, 7, (n,), generator=gen)
        x = torch.randint(4, 12, (n, 6), generator=gen)
        return x * (torch.arange(6) < lens[:, None]), lens

    for _ in range(250):
        x, lens = sample(32)
        tgt_out = torch.cat([x, torch.zeros(32, 1, dtype=torch.long)], 1)
        tgt_out[torch.arange(32), lens] = EOS_ID
        tgt_in = torch.cat([torch.full((32, 1), SOS_ID), x], 1)
        loss = label_smoothed_loss(m(x, lens, tgt_in), tgt_out, 0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    x, lens = sample(50)
    hyps = m.greedy(x, lens, max_len=10)
    exact = sum(h.ids == x[i, : lens[i]].tolist() for i, h in enumerate(hyps))
    assert exact >= 40


# -- modern cores ------------------------------------------------------------------------------

CORES = [(arch, True, True) for arch in MODERN] + [
    ("mingru", False, True),  # bidirectional outputs side by side: forward last, backward first
    ("lru", False, False),  # projected to the width, unidirectional
    ("mlstm", False, True),
    ("gru", True, True),  # a classic cell in blocks: CoreStack with torch's state layout
]
"""(arch, block, bidirectional) for the modern-core tests."""


def core_model(arch: str, block: bool, bidirectional: bool, attention: str = "dot") -> Seq2Seq:
    torch.manual_seed(0)
    heads = {"heads": 2} if arch in ("mlstm", "slstm") else {}
    return Seq2Seq(V_SRC, V_TGT, arch, embed=8, hidden=12, layers=2, bidirectional=bidirectional,
                   attention=attention, block=block, **heads).double().eval()  # fmt: skip


@pytest.mark.parametrize(("arch", "block", "bidirectional"), CORES)
def test_modern_teacher_forcing_in_one_call_equals_stepping(
    arch: str, block: bool, bidirectional: bool
) -> None:
    m = core_model(arch, block, bidirectional)
    assert not m.classic
    src, src_len = sources()
    tgt_in = torch.tensor([[SOS_ID, 4, 5, 6, 7], [SOS_ID, 7, 8, 0, 0]])
    fused = m(src, src_len, tgt_in)  # (B, T, V): the decoder's forward over the whole target
    enc = m.encode(src, src_len)
    state, steps = enc.state, []
    for t in range(tgt_in.shape[1]):
        logits, state, _ = m.step(tgt_in[:, t], state, enc)
        steps.append(logits)
    torch.testing.assert_close(fused, torch.stack(steps, 1), atol=1e-6, rtol=0)
    torch.manual_seed(1)  # teacher forcing below 1 takes the step-by-step path
    torch.testing.assert_close(fused, m(src, src_len, tgt_in, 0.999), atol=1e-6, rtol=0)


@pytest.mark.parametrize(("arch", "block", "bidirectional"), CORES)
def test_modern_padded_sources_encode_as_alone(arch: str, block: bool, bidirectional: bool) -> None:
    m = core_model(arch, block, bidirectional)
    src, src_len = sources()
    src = src.masked_fill(src == 0, 13)  # junk after the short sentence
    enc = m.encode(src, src_len)
    for b in range(2):
        n = int(src_len[b])
        alone = m.encode(src[b : b + 1, :n], src_len[b : b + 1])
        torch.testing.assert_close(enc.outputs[b, :n], alone.outputs[0], atol=1e-10, rtol=0)
        assert torch.all(enc.outputs[b, n:] == 0)
        torch.testing.assert_close(enc.summary[b], alone.summary[0], atol=1e-10, rtol=0)
        row = torch.tensor([b])
        for got, want in zip(
            flatten_state(enc.select(enc.state, row)), flatten_state(alone.state), strict=True
        ):
            torch.testing.assert_close(got, want, atol=1e-10, rtol=0)


@pytest.mark.parametrize(("arch", "block", "bidirectional"), CORES)
def test_modern_beam_search_reorders_states(arch: str, block: bool, bidirectional: bool) -> None:
    """Width 3 reorders the decoder states every step: each sentence decodes as alone and the
    score is the model's own; width 1 is greedy."""
    m = core_model(arch, block, bidirectional)
    src, src_len = sources()
    together = m.beam_search(src, src_len, width=3, max_len=8, alpha=0.0)
    greedy = m.greedy(src, src_len, max_len=8)
    assert [h.ids for h in m.beam_search(src, src_len, 1, 8)] == [h.ids for h in greedy]
    for b in range(2):
        n = int(src_len[b])
        alone = m.beam_search(src[b : b + 1, :n], src_len[b : b + 1], 3, 8, alpha=0.0)[0]
        best = together[b]
        assert best.ids == alone.ids
        assert best.log_prob == pytest.approx(alone.log_prob, abs=1e-9)
        ends = [*best.ids, EOS_ID] if best.finished else best.ids
        tgt = torch.tensor([[SOS_ID, *ends[:-1]]])
        with torch.no_grad():
            logp = torch.log_softmax(m(src[b : b + 1, :n], src_len[b : b + 1], tgt), -1)[0]
        own = sum(float(logp[t, token]) for t, token in enumerate(ends))
        assert own == pytest.approx(best.log_prob, abs=1e-9)


@pytest.mark.parametrize("stop_at", ["epoch end", "mid-epoch"])
def test_resume_is_exact_with_a_modern_core(tmp_path: Path, stop_at: str) -> None:
    """Stopped after k steps and resumed, a mingru run (blocks, dropout) ends with the weights
    and the metrics of a straight run."""
    config = engine_config("translation", tmp_path, "mingru", epochs=2)
    assert config.block and config.dropout > 0
    straight = list(Trainer(create_task(config), tmp_path / "straight").run())
    per_epoch = straight[0].steps_per_epoch
    assert per_epoch >= 2
    k = per_epoch if stop_at == "epoch end" else per_epoch + 1
    stop, first = threading.Event(), []
    for event in Trainer(create_task(config), tmp_path / "resumed").run(stop):
        first.append(event)
        if event.kind == "step" and event.step == k:
            stop.set()
    assert first[-1].kind == "finished" and first[-1].stopped
    resumed = list(Trainer.resume(tmp_path / "resumed").run())
    assert resumed[0].resumed_from_step == k
    clock = ("wall_s", "train_tokens_per_s")
    metrics = [{m: v for m, v in run[-1].metrics.items() if m not in clock}
               for run in (straight, resumed)]  # fmt: skip
    assert metrics[0] == metrics[1]
    ends = [load_checkpoint(tmp_path / run / "last.pt") for run in ("straight", "resumed")]
    assert ends[0]["step"] == ends[1]["step"] == 2 * per_epoch
    weights = [end["task_state"]["model"] for end in ends]
    assert weights[0].keys() == weights[1].keys()
    for name, weight in weights[0].items():
        assert torch.equal(weight, weights[1][name]), name
