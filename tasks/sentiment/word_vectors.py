"""Word vectors learned from unlabelled text: positive PMI of co-occurrences, then a truncated SVD.

A short-snippet data set such as rt-polarity (10k sentences) is too small to learn good word
embeddings from its labels alone; the classic fix is vectors learned first on a lot of text of
the same kind (Kim 2014 uses word2vec on Google News). Here they are counted on another review
corpus, only its texts, never its labels, and the method is the count-based twin of word2vec
(Levy, Goldberg and Dagan 2015, "Improving distributional similarity..."):

1. count how often each vocabulary word w has each of the `CONTEXTS` most frequent corpus words
   c within `WINDOW` tokens of it: ``N (V, C)``;
2. ``PPMI(w, c) = max(0, log P(w, c) / (P(w) P_a(c)))`` with the context distribution smoothed
   by ``a = 0.75`` (word2vec's negative-sampling exponent);
3. ``PPMI ≈ U S Vᵀ`` (truncated SVD); the vectors are the rows of ``U sqrt(S)`` ``(V, dim)``.

`--word-vectors imdb` counts on the IMDB reviews plus the task's own training texts (about 13M
tokens, under a minute on one core); the result is cached in ``$RNN_TUI_CACHE/word-vectors``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tasks.data.text import load_reviews, token_strings
from tasks.engine.settings import ConfigError

WINDOW = 5
"""Tokens on each side that count as context."""
CONTEXTS = 20_000
"""Context words: the most frequent ones of the corpus."""
SMOOTHING = 0.75
"""Exponent on the context counts (word2vec's)."""


def ppmi_svd(
    corpus: Sequence[Sequence[str]], words: Sequence[str], dim: int, window: int = WINDOW
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors ``(len(words), dim)`` float32 and each word's co-occurrence count ``(len(words),)``.

    A word never seen near a context word has count 0 and a zero vector.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    frequency: Counter[str] = Counter()
    for tokens in corpus:
        frequency.update(tokens)
    contexts = {w: i for i, (w, _) in enumerate(frequency.most_common(CONTEXTS))}
    rows = {w: i for i, w in enumerate(words)}
    pad = [-1] * window  # texts are joined with a gap, so windows never cross two texts
    row_ids = np.fromiter((rows.get(t, -1) for s in corpus for t in (*s, *pad)), np.int64)
    col_ids = np.fromiter((contexts.get(t, -1) for s in corpus for t in (*s, *pad)), np.int64)
    shape = (len(words), max(len(contexts), 1))
    counts = sp.csr_matrix(shape, dtype=np.float64)
    for d in range(1, window + 1):
        for w, c in ((row_ids[:-d], col_ids[d:]), (row_ids[d:], col_ids[:-d])):
            ok = (w >= 0) & (c >= 0)
            counts = counts + sp.csr_matrix((np.ones(int(ok.sum())), (w[ok], c[ok])), shape)
    counts = counts.tocoo()
    word_total = np.asarray(counts.sum(axis=1)).ravel()
    total = max(float(word_total.sum()), 1.0)
    context_p = np.asarray(counts.sum(axis=0)).ravel() ** SMOOTHING
    context_p /= max(float(context_p.sum()), 1e-12)
    pmi = np.log(counts.data / total) - np.log(word_total[counts.row] / total)
    pmi -= np.log(context_p[counts.col])
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape)
    k = min(dim, min(shape) - 1)
    if k < 1 or ppmi.nnz == 0:
        raise ConfigError("--word-vectors: the corpus has too few co-occurrences to learn from")
    u, s, _ = svds(ppmi, k=k, random_state=0)
    vectors = np.zeros((len(words), dim), dtype=np.float32)
    vectors[:, :k] = u * np.sqrt(s)
    return vectors, word_total


def corpus_texts(source: str, own_dataset: str, own_train: Sequence[str], kind: str) -> list[str]:
    """The unlabelled texts to count on: all of `source`'s texts plus the task's training texts.

    When `source` is the task's own data set only its training texts are used (its validation
    and test texts must not shape the model).
    """
    if source == own_dataset:
        return list(own_train)  # already loaded, and tokenized as the task's data
    data = load_reviews(source)
    if data.tokenizer != kind:
        raise ConfigError(
            f"--word-vectors {source} is tokenized as {data.tokenizer}, the task's data as {kind}"
        )
    return [t for part in (data.train, data.val, data.test) for t, _ in part] + list(own_train)


def cache_path(source: str, dataset: str, words: Sequence[str], dim: int) -> Path:
    """Where the vectors of this source, task data, vocabulary and size are kept."""
    from tasks.data.fetch import cache_dir

    key = "\n".join((source, dataset, str(dim), str(WINDOW), str(CONTEXTS), *words))
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_dir() / "word-vectors" / f"{Path(source).name}-{digest}.npz"


def learned_vectors(
    source: str, dataset: str, own_train: Sequence[str], words: Sequence[str], dim: int, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """`ppmi_svd` vectors for `words` from `source` (cached): vectors (V, dim), counts (V,)."""
    path = cache_path(source, dataset, words, dim)
    if path.is_file():
        with np.load(path) as saved:
            return saved["vectors"], saved["counts"]
    texts = corpus_texts(source, dataset, own_train, kind)
    vectors, counts = ppmi_svd([token_strings(t, kind) for t in texts], words, dim)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp.npz")
    np.savez(partial, vectors=vectors, counts=counts)
    partial.replace(path)
    return vectors, counts


def fill_embedding(weight: object, vectors: np.ndarray, counts: np.ndarray, pad_id: int) -> int:
    """Copy the vectors of the words that have counts into an embedding ``(V, dim)``, rescaled
    to the standard deviation of its initial weights; the others keep their initial values.

    Returns the number of rows replaced.
    """
    import torch

    assert isinstance(weight, torch.Tensor)
    known = np.flatnonzero(counts > 0)
    known = known[known != pad_id]
    if known.size == 0:
        return 0
    rows = vectors[known]
    scale = float(weight.detach().std()) / max(float(rows.std(ddof=1)), 1e-12)  # as torch
    with torch.no_grad():
        index = torch.from_numpy(known)
        weight[index] = torch.from_numpy(rows * scale).to(weight.dtype)
    return int(known.size)
