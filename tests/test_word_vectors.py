"""Word vectors from co-occurrences (PPMI + SVD) and `--word-vectors` in the sentiment task."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import one_line_error, run_cli
from test_sentiment_task import TINY, word_csv

from tasks.engine.settings import ConfigError
from tasks.registry import create_task, default_config
from tasks.sentiment.word_vectors import corpus_texts, fill_embedding, ppmi_svd


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_words_used_alike_get_alike_vectors() -> None:
    rng = np.random.default_rng(0)
    corpus = []
    for _ in range(400):  # good/great around "film"-ish words, bad/awful around "plot"-ish ones
        corpus.append([*rng.choice(["film", "actor", "scene"], 3), rng.choice(["good", "great"])])
        corpus.append([*rng.choice(["plot", "script", "pace"], 3), rng.choice(["bad", "awful"])])
    words = ["<pad>", "<unk>", "good", "great", "bad", "awful", "missing"]
    vectors, counts = ppmi_svd(corpus, words, dim=2, window=3)
    v = dict(zip(words, vectors, strict=True))
    assert vectors.shape == (7, 2) and vectors.dtype == np.float32
    assert cosine(v["good"], v["great"]) > 0.9
    assert cosine(v["good"], v["great"]) > cosine(v["good"], v["bad"]) + 0.5
    assert counts[words.index("missing")] == 0 and not v["missing"].any()


def test_windows_stop_at_the_end_of_a_text() -> None:
    words = ["a", "b", "c", "d"]
    _, counts = ppmi_svd([["a", "b"], ["c", "d"]], words, dim=2, window=5)
    assert counts.tolist() == [1, 1, 1, 1]  # b never sees c or d


def test_fill_embedding_replaces_known_rows_at_the_initial_scale() -> None:
    torch.manual_seed(0)
    weight = torch.nn.Embedding(5, 3, padding_idx=0).weight
    before = weight.detach().clone()
    vectors = np.arange(15, dtype=np.float32).reshape(5, 3) * 100
    counts = np.array([9, 0, 4, 4, 4])  # the pad row and an unseen word keep their values
    assert fill_embedding(weight, vectors, counts, pad_id=0) == 3
    after = weight.detach()
    assert torch.equal(after[:2], before[:2])
    assert not torch.equal(after[2:], before[2:])
    assert float(after[2:].std()) == pytest.approx(float(before.std()), rel=1e-5)


def test_the_task_s_own_data_gives_its_training_texts_only(tmp_path: Path) -> None:
    data = word_csv(tmp_path / "reviews.csv", n=60)
    own = ["only these", "two texts"]
    assert corpus_texts(str(data), str(data), own, "words") == own
    other = corpus_texts(str(data), "another", own, "words")
    assert len(other) == 60 + 2 and other[-2:] == own


def test_train_with_word_vectors_says_so_and_caches_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RNN_TUI_CACHE", str(tmp_path / "cache"))
    data = word_csv(tmp_path / "task.csv")
    corpus = word_csv(tmp_path / "corpus.csv", n=400, seed=1)
    argv = ["train", "sentiment", "--dataset", str(data), *TINY, "--epochs", "1",
            "--word-vectors", str(corpus), "--json"]  # fmt: skip
    code, out, _ = run_cli(capsys, *argv, "--out", str(tmp_path / "run"))
    assert code == 0
    started = next(json.loads(line) for line in out.splitlines() if '"started"' in line)
    assert "word vectors from" in started["dataset_note"]
    cached = list((tmp_path / "cache" / "word-vectors").glob("corpus.csv-*.npz"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    code, _, _ = run_cli(capsys, *argv, "--out", str(tmp_path / "run2"))
    assert code == 0 and cached[0].stat().st_mtime_ns == stamp  # read back, not counted again


def test_word_vectors_change_the_initial_embeddings(tmp_path: Path) -> None:
    data = str(word_csv(tmp_path / "task.csv"))
    corpus = str(word_csv(tmp_path / "corpus.csv", n=400, seed=1))
    plain = create_task(default_config("sentiment", "gru", dataset=data, embed=8, hidden=8))
    config = default_config(
        "sentiment", "gru", dataset=data, embed=8, hidden=8, word_vectors=corpus
    )
    vectors = create_task(config)
    a, b = plain.model.embedding.weight, vectors.model.embedding.weight
    good = plain.vocab.stoi["good"]
    assert not torch.equal(a[good], b[good])
    assert torch.equal(a[0], b[0])  # padding stays zero


def test_word_vectors_and_init_from_conflict(tmp_path: Path) -> None:
    data = str(word_csv(tmp_path / "task.csv"))
    config = default_config("sentiment", "gru", dataset=data, word_vectors=data,
                            init_from=str(tmp_path / "x.pt"))  # fmt: skip
    with pytest.raises(ConfigError, match="--word-vectors and --init-from"):
        create_task(config)


def test_a_corpus_in_another_script_is_refused(
    real_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chinese = real_data / "chnsenticorp" / "ChnSentiCorp_htl_all.csv"
    data = word_csv(tmp_path / "task.csv")
    code, _, err = run_cli(capsys, "train", "sentiment", "--dataset", str(data), *TINY,
                           "--epochs", "1", "--word-vectors", str(chinese))  # fmt: skip
    one_line_error(code, err, "tokenized as chars")
