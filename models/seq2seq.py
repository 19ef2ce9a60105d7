"""An encoder-decoder for translation, with or without attention, and its decoders.

The encoder embeds the source ids and runs the architecture's recurrent layers over them
(`models.registry.Architecture.build_layers`: a (bidirectional) GRU/LSTM, or any modern core of
`models.cores`, optionally in residual blocks); padded positions are skipped (packed, or masked
by the core, which is exact on padded batches) and masked out of attention. The decoder is
Luong's: at step t

    h_t   = RNN(embed(y_{t-1}), h_{t-1})                 decoder state        (B, H)
    c_t   = sum_s a_ts e_s,  a_t = softmax_valid(score(h_t, e_s))   context   (B, D*H)
    h~_t  = tanh(W_c [c_t; h_t])                         attentional state    (B, H)
    p_t   = softmax(W_o h~_t)                            next-token probabilities

with ``score`` the "general" dot product ``h_t^T W_a e_s`` (``attention="dot"``, Luong) or the
additive ``v^T tanh(W_q h_t + W_k e_s)`` (``attention="additive"``, Bahdanau's score). With
``attention="none"`` the context is the same for every step: the encoder's summary (the top
layer's forward and backward final outputs), as in Cho et al.'s encoder-decoder.

There is no input feeding (``h~_{t-1}`` is not fed back into the next input), so the recurrence
reads only the target embeddings: under full teacher forcing the whole target runs through the
decoder in one call (a modern core's parallel scan, a fused GRU/LSTM) and attention covers all
steps in one batched product afterwards; `step` runs the same decoder one token at a time for
decoding. The decoder has the encoder's architecture (unidirectional). A teacher-forcing ratio
below 1 runs step by step, feeding the model's own argmax with probability ``1 - ratio``.

The bridge, from the encoder to the decoder's initial state:

- classic cells (GRU/LSTM without blocks): each layer's final states (forward and backward
  side by side) through ``tanh(bridge(.))`` (and ``bridge_cell`` for LSTM's cell) start the
  decoder's layers; the parameter names are those of the first version, so its checkpoints load.
- modern cores and blocks: a core's internal state differs in shape per core (matrix memories,
  complex states), so the summary comes from the encoder's *outputs*: the top layer's output at
  each source's last real token (bidirectional: the forward half there and the backward half at
  the first token; a bidirectional layer that merges its directions: the mean of its outputs at
  the first and the last token). The decoder reads ``tanh(bridge(summary))`` (B, E) as its first
  input, from its zero state; the state after that step is the decoder's initial state.

`greedy` (batched) and `beam_search` (one sentence, width N, length normalisation) decode until
``<eos>`` or ``max_len`` tokens, so decoding always stops. Decoder states are reordered along
their batch axis (`Encoded.batch_dim`: 1 for torch's RNN layout, 0 for modern cores).

Shapes: ``B`` batch, ``S`` source length, ``T`` target length, ``E`` embedding, ``H`` hidden,
``D`` encoder directions, ``V`` target vocabulary, ``L`` layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.attention import AdditiveAttention, DotAttention, lengths_to_mask
from models.cores.stack import Nested, map_state
from models.registry import get_architecture

ATTENTIONS = ("none", "dot", "additive")
PAD_ID, SOS_ID, EOS_ID = 0, 2, 3


@dataclass
class Encoded:
    """The encoder's view of a batch of sources."""

    outputs: Tensor
    """(B, S, D*H) one vector per source token."""
    mask: Tensor
    """(B, S) True at real (non-padding) tokens."""
    summary: Tensor
    """(B, D*H) the top layer's final outputs (forward last, backward first)."""
    state: Nested
    """The decoder's initial state: (L, B, H) (a pair for LSTM) for classic cells, else one
    state per layer of the decoder's `models.cores.stack.CoreStack`."""
    batch_dim: int = 1
    """The batch axis of every tensor of ``state``."""

    def repeat_interleave(self, k: int) -> Encoded:
        """Each sentence repeated k times in a row along the batch: row b*k + j is sentence b."""
        return Encoded(
            self.outputs.repeat_interleave(k, 0), self.mask.repeat_interleave(k, 0),
            self.summary.repeat_interleave(k, 0),
            map_state(lambda s: s.repeat_interleave(k, self.batch_dim), self.state),
            self.batch_dim,
        )  # fmt: skip

    def select(self, state: Nested, rows: Tensor) -> Nested:
        """A decoder ``state`` of this batch with its rows reordered to ``rows`` (beam search)."""
        return map_state(lambda s: s.index_select(self.batch_dim, rows), state)


@dataclass
class Hypothesis:
    """A decoded sentence: target ids (no ``<sos>``/``<eos>``), its log-probability, and the
    attention of each output step over the source, ``(len(ids) + 1, S)`` when finished (the
    last row is the step that chose ``<eos>``), ``(len(ids), S)`` when cut; None without
    attention)."""

    ids: list[int]
    log_prob: float
    attention: Tensor | None
    finished: bool
    """False when the length limit cut it before ``<eos>``."""


class Seq2Seq(nn.Module):
    """Encoder-decoder with optional attention; see the module docstring."""

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        arch: str = "gru",
        embed: int = 256,
        hidden: int = 512,
        layers: int = 1,
        bidirectional: bool = True,
        attention: str = "dot",
        dropout: float = 0.0,
        backend: str = "fused",
        *,
        block: bool = False,
        **core: Any,
    ) -> None:
        """``block`` and ``core`` (scan, state_size, heads, horizon) go to `build_layers`."""
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS} (got {attention!r})")
        spec = get_architecture(arch)
        if spec.name == "numpy-rnn":
            raise ValueError("numpy-rnn cannot translate: it has no torch layers to batch")
        self.arch, self.attention_kind, self.layers = arch, attention, layers
        self.directions = 2 if bidirectional else 1
        self.classic = not spec.modern and not block  # torch's layers: the bridge maps states
        self.state_batch_dim = 0 if spec.modern else 1  # a classic cell keeps torch's layout
        self.src_embed = nn.Embedding(src_vocab, embed, padding_idx=PAD_ID)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed, padding_idx=PAD_ID)
        options = {"dropout": dropout, "backend": backend, "block": block, **core}
        self.encoder = spec.build_layers(embed, hidden, layers, bidirectional=bidirectional,
                                         **options)  # fmt: skip
        self.decoder = spec.build_layers(embed, hidden, layers, **options)
        enc_size = self.encoder.output_size
        self.joined = bidirectional and enc_size == 2 * hidden  # outputs [forward; backward]
        self.bridge = nn.Linear(enc_size, hidden if self.classic else embed)
        self.bridge_cell = nn.Linear(enc_size, hidden) if self.classic and arch == "lstm" else None
        self.attn: nn.Module | None = None
        if attention == "dot":
            self.attn = DotAttention(query_size=hidden, key_size=enc_size, general=True)
        elif attention == "additive":
            self.attn = AdditiveAttention(hidden, enc_size, hidden)
        self.combine = nn.Linear(enc_size + hidden, hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, tgt_vocab)

    # -- encoding ---------------------------------------------------------------------------

    def encode(self, src: Tensor, src_len: Tensor) -> Encoded:
        """``src`` (B, S) ids, ``src_len`` (B,) -> `Encoded`."""
        emb = self.drop(self.src_embed(src))  # (B, S, E)
        outputs, final = self.encoder(emb, lengths=src_len)  # (B, S, D*H)
        src_len = src_len.to(src.device)
        mask = lengths_to_mask(src_len, src.shape[1])  # (B, S)
        if not self.classic:
            summary = self._summary(outputs, src_len)  # (B, D*H)
            _, state = self.decoder.step(torch.tanh(self.bridge(summary)))  # reads the summary
            return Encoded(outputs, mask, summary, state, self.state_batch_dim)
        h_n, c_n = final if isinstance(final, tuple) else (final, None)
        state = self._bridge(h_n, self.bridge)
        summary = self._layers(h_n)[-1]  # (B, D*H)
        if c_n is not None and self.bridge_cell is not None:
            state = (state, self._bridge(c_n, self.bridge_cell))
        return Encoded(outputs, mask, summary, state)

    def _summary(self, outputs: Tensor, src_len: Tensor) -> Tensor:
        """The top layer's outputs (B, S, O) -> (B, O) at the ends (see the module docstring)."""
        index = (src_len - 1).view(-1, 1, 1).expand(-1, 1, outputs.shape[-1])
        last, first = outputs.gather(1, index).squeeze(1), outputs[:, 0]  # (B, O)
        if self.directions == 1:
            return last
        if self.joined:
            half = outputs.shape[-1] // 2
            return torch.cat([last[:, :half], first[:, half:]], dim=-1)
        return (last + first) / 2

    def _layers(self, h_n: Tensor) -> Tensor:
        """(L*D, B, H) -> (L, B, D*H): each layer's directions side by side."""
        L, D = self.layers, self.directions
        return h_n.view(L, D, *h_n.shape[1:]).permute(0, 2, 1, 3).reshape(L, h_n.shape[1], -1)

    def _bridge(self, h_n: Tensor, layer: nn.Linear) -> Tensor:
        return torch.tanh(layer(self._layers(h_n))).contiguous()  # (L, B, H)

    # -- decoding ---------------------------------------------------------------------------

    def head(self, dec: Tensor, enc: Encoded) -> tuple[Tensor, Tensor | None]:
        """Decoder states ``dec`` (B, T, H) -> logits (B, T, V) and attention (B, T, S) or None."""
        if self.attn is None:
            context, weights = enc.summary.unsqueeze(1).expand(-1, dec.shape[1], -1), None
        else:
            context, weights = self.attn(dec, enc.outputs, mask=enc.mask)  # (B, T, D*H)
        attentional = torch.tanh(self.combine(torch.cat([context, dec], dim=-1)))  # (B, T, H)
        return self.out(self.drop(attentional)), weights

    def step(
        self, prev: Tensor, state: Nested, enc: Encoded
    ) -> tuple[Tensor, Nested, Tensor | None]:
        """One decoder step: previous ids (B,) -> logits (B, V), new state, attention (B, S)."""
        emb = self.drop(self.tgt_embed(prev))  # (B, E)
        dec, state = self.decoder.step(emb, state)  # (B, H)
        logits, weights = self.head(dec.unsqueeze(1), enc)
        return logits.squeeze(1), state, None if weights is None else weights.squeeze(1)

    def forward(
        self, src: Tensor, src_len: Tensor, tgt_in: Tensor, teacher_forcing: float = 1.0
    ) -> Tensor:
        """Training logits (B, T, V) for ``tgt_in`` (B, T) = ``<sos>`` y_1 .. y_{T-1}.

        With ``teacher_forcing < 1`` each step after the first reads the model's own argmax
        instead of the true previous token with probability ``1 - teacher_forcing``.
        """
        enc = self.encode(src, src_len)
        if teacher_forcing >= 1.0:
            dec, _ = self.decoder(self.drop(self.tgt_embed(tgt_in)), enc.state)  # (B, T, H)
            return self.head(dec, enc)[0]
        state, prev, steps = enc.state, tgt_in[:, 0], []
        for t in range(tgt_in.shape[1]):
            logits, state, _ = self.step(prev, state, enc)
            steps.append(logits)
            if t + 1 < tgt_in.shape[1]:
                own = bool(torch.rand(()) >= teacher_forcing)
                prev = logits.argmax(-1) if own else tgt_in[:, t + 1]
        return torch.stack(steps, dim=1)

    @torch.no_grad()
    def greedy(self, src: Tensor, src_len: Tensor, max_len: int) -> list[Hypothesis]:
        """Argmax decoding of a batch, each sentence until ``<eos>`` or `max_len` tokens."""
        enc = self.encode(src, src_len)
        B = src.shape[0]
        prev = torch.full((B,), SOS_ID, dtype=torch.long, device=src.device)
        state, done = enc.state, torch.zeros(B, dtype=torch.bool, device=src.device)
        ids, logps, weights = [], torch.zeros(B, device=src.device, dtype=self.out.weight.dtype), []
        for t in range(max_len + 1):  # max_len tokens, then <eos> or the cut
            logits, state, w = self.step(prev, state, enc)
            logp = torch.log_softmax(logits, dim=-1)
            prev = logp.argmax(-1)  # (B,)
            counts = ~done if t < max_len else ~done & (prev == EOS_ID)  # a cut token is not kept
            logps += torch.where(counts, logp.gather(1, prev[:, None]).squeeze(1), 0.0)
            ids.append(prev)
            weights.append(w)
            done = done | (prev == EOS_ID)
            if bool(done.all()):
                break
        out = torch.stack(ids, 1).tolist()  # (B, steps)
        att = None if weights[0] is None else torch.stack(weights, 1)  # (B, steps, S)
        hyps = []
        for b, row in enumerate(out):
            finished = EOS_ID in row
            end = row.index(EOS_ID) if finished else min(len(row), max_len)
            rows = end + 1 if finished else end
            a = None if att is None else att[b, :rows, : int(src_len[b])].cpu()
            hyps.append(Hypothesis(row[:end], float(logps[b]), a, finished))
        return hyps

    @torch.no_grad()
    def beam_search(
        self, src: Tensor, src_len: Tensor, width: int, max_len: int, alpha: float = 1.0
    ) -> list[Hypothesis]:
        """Beam search for a batch: for each sentence the best of `width` hypotheses by
        ``log p / ((5 + len) / 6) ** alpha`` (length normalisation; ``alpha = 0``: raw log p).

        A hypothesis ends at ``<eos>`` or after `max_len` tokens (the cut); a sentence is done
        when `width` hypotheses have ended and no live one can still beat the best ended one
        (log-probabilities only fall as a hypothesis grows). All sentences advance together:
        beams are rows ``b * width + j`` of one decoder batch.
        """
        if width <= 1:
            return self.greedy(src, src_len, max_len)
        B, k, dev = src.shape[0], width, src.device
        enc = self.encode(src, src_len).repeat_interleave(k)  # (B*k, ...)
        n_src = src_len.tolist()

        def norm(logp: float, length: int) -> float:
            return logp / ((5 + length) / 6) ** alpha

        scores = torch.full((B, k), float("-inf"), device=dev)
        scores[:, 0] = 0.0  # one live beam per sentence at the start
        prev = torch.full((B * k,), SOS_ID, dtype=torch.long, device=dev)
        state = enc.state
        hist = torch.zeros(B * k, 0, dtype=torch.long, device=dev)  # tokens so far
        att: Tensor | None = None  # (B*k, t, S) attention so far
        ended: list[list[tuple[float, Hypothesis]]] = [[] for _ in range(B)]
        done = [False] * B

        def finish(b: int, row: int, score: float, rows: Tensor | None, eos: bool) -> None:
            ids = hist[row].tolist()
            a = None if rows is None else rows[:, : n_src[b]].cpu()
            ended[b].append((norm(score, len(ids) + eos), Hypothesis(ids, score, a, eos)))

        for t in range(max_len + 1):
            logits, new_state, w = self.step(prev, state, enc)
            logp = torch.log_softmax(logits, dim=-1)  # (B*k, V)
            V = logp.shape[1]
            total = scores.unsqueeze(-1) + logp.view(B, k, V)  # (B, k, V)
            with_w = None if w is None else torch.cat([att, w.unsqueeze(1)], 1) if att is not None \
                else w.unsqueeze(1)  # fmt: skip
            if t == max_len:  # the cut: every live beam ends, with <eos> or without
                for b in (b for b in range(B) if not done[b]):
                    for j in range(k):
                        row = b * k + j
                        if math.isfinite(float(scores[b, j])):
                            eos = float(total[b, j, EOS_ID])
                            finish(b, row, eos, None if w is None else with_w[row], True)
                            rows = None if att is None else att[row]
                            finish(b, row, float(scores[b, j]), rows, False)
                break
            top_v, top_i = total.view(B, k * V).topk(2 * k)  # (B, 2k): at most k are <eos>
            origin, token = top_i // V, top_i % V
            is_eos = token == EOS_ID
            for b, c in (is_eos & torch.isfinite(top_v)).nonzero().tolist():
                if not done[b]:
                    row = b * k + int(origin[b, c])
                    finish(b, row, float(top_v[b, c]), None if w is None else with_w[row], True)
            order = (is_eos.long() * 2 * k + torch.arange(2 * k, device=dev)).argsort(dim=1)
            pick = order[:, :k]  # the k best that go on
            scores = top_v.gather(1, pick)
            rows = (torch.arange(B, device=dev)[:, None] * k + origin.gather(1, pick)).view(-1)
            token = token.gather(1, pick).view(-1)
            state = enc.select(new_state, rows)
            hist = torch.cat([hist[rows], token[:, None]], 1)
            att = None if with_w is None else with_w[rows]
            prev = token
            for b in range(B):
                if not done[b] and len(ended[b]) >= k:
                    best_live = max(float(v) for v in scores[b])
                    if alpha > 0:
                        best_live = norm(best_live, max_len + 1)
                    done[b] = max(e[0] for e in ended[b]) >= best_live
            if all(done):
                break
        return [max(e, key=lambda x: x[0])[1] for e in ended]


def label_smoothed_loss(logits: Tensor, target: Tensor, smoothing: float) -> Tensor:
    """Mean cross-entropy over non-padding targets: logits (B, T, V), target (B, T)."""
    return F.cross_entropy(
        logits.flatten(0, 1), target.flatten(), ignore_index=PAD_ID, label_smoothing=smoothing
    )
