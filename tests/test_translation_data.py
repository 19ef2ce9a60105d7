"""Sentence-pair loaders, tokenizers, vocabularies, length filtering and batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tasks.data.info import DatasetError
from tasks.data.parallel import (
    EOS_ID,
    PAD_ID,
    SOS_ID,
    UNK_ID,
    Vocab,
    bucketed_batches,
    capitalize_first,
    detect_format,
    detokenize,
    filter_lengths,
    load_corpus,
    make_batch,
    split_by_english,
    tokenize,
)


def write_multi30k(real_data: Path, folder: Path, n_train: int = 60, n_eval: int = 12) -> Path:
    """A small Multi30k-format folder cut from the real files (`real_data`: the fixture)."""
    src = real_data / "translation" / "multi30k-en-de"
    folder.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", n_train), ("val", n_eval), ("test_2016_flickr", n_eval)):
        for lang in ("en", "de"):
            lines = (src / f"{stem}.{lang}").read_text(encoding="utf-8").splitlines()[:n]
            (folder / f"{stem}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_tokenize_lowercases_and_splits_punctuation() -> None:
    assert tokenize("A man's hat, blue.", "en") == ["a", "man", "'", "s", "hat", ",", "blue", "."]
    assert tokenize("Zwei Männer  im Freien!", "de") == ["zwei", "männer", "im", "freien", "!"]


def test_chinese_is_split_into_characters_keeping_latin_words() -> None:
    assert tokenize("我有3个apple。", "zh") == ["我", "有", "3", "个", "apple", "。"]
    assert tokenize("我\u200b沒事\u3000。", "zh") == ["我", "沒", "事", "。"]


def test_french_non_breaking_spaces_are_normalized() -> None:
    assert tokenize("Il vient\u202f? Oui\u00a0!", "fr") == ["il", "vient", "?", "oui", "!"]


def test_detokenize_restores_the_text() -> None:
    text = "A man's dog-walker (tall) waits, then runs."
    assert capitalize_first(detokenize(tokenize(text, "en"), "en")) == text
    assert detokenize(["我", "有", "big", "dogs", "。"], "zh") == "我有big dogs。"


def test_vocab_frequency_cutoff_and_specials() -> None:
    vocab = Vocab.build([["a", "b", "a"], ["a", "c", "b"]], min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "<sos>", "<eos>", "a", "b"]
    assert vocab.encode(["a", "c"]) == [4, UNK_ID]
    assert vocab.decode([4, 5, EOS_ID, 4]) == ["a", "b"]


def test_length_filter_reports_what_it_drops() -> None:
    keep, dropped = filter_lengths([[1, 2], [1] * 9, [], [3]], [[1], [2], [3], [4] * 9], 5)
    assert keep.tolist() == [0] and dropped == 3


def test_batch_is_padded_with_shifted_targets() -> None:
    batch = make_batch([[5, 6, 7], [8]], [[9, 10], [11]])
    assert batch.src.tolist() == [[5, 6, 7], [8, PAD_ID, PAD_ID]]
    assert batch.src_len.tolist() == [3, 1]
    assert batch.tgt_in.tolist() == [[SOS_ID, 9, 10], [SOS_ID, 11, PAD_ID]]
    assert batch.tgt_out.tolist() == [[9, 10, EOS_ID], [11, EOS_ID, PAD_ID]]
    assert batch.tokens == 5


def test_buckets_cover_every_pair_once_with_similar_lengths() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=1000).astype(float)
    batches = bucketed_batches(lengths, 50, rng)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread <= 4  # sorted by length (plus noise < 2) before cutting


def test_tatoeba_split_keeps_an_english_sentence_in_one_part() -> None:
    pairs = [(f"en {i % 50}", f"fr {i}") for i in range(200)]
    parts = split_by_english(pairs, english_index=0)
    seen = [{en for en, _ in part} for part in parts]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert sum(len(p) for p in parts) == 200


def test_local_multi30k_folder_both_directions(real_data: Path, tmp_path: Path) -> None:
    folder = write_multi30k(real_data, tmp_path / "m30k")
    corpus = load_corpus(str(folder), "de-en")
    assert (len(corpus.train), len(corpus.val), len(corpus.test)) == (60, 12, 12)
    first_de = (folder / "train.de").read_text(encoding="utf-8").splitlines()[0]
    assert corpus.train[0][0] == first_de
    assert load_corpus(str(folder), "en-de").train[0][1] == first_de


def test_bad_files_and_directions_are_one_line_errors(real_data: Path, tmp_path: Path) -> None:
    folder = write_multi30k(real_data, tmp_path / "m30k")
    with pytest.raises(DatasetError, match="--direction zh-en does not apply"):
        load_corpus(str(folder), "zh-en")
    (folder / "val.de").write_text("nur eine Zeile\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line-aligned"):
        load_corpus(str(folder), "de-en")
    flat = tmp_path / "pairs.txt"
    flat.write_text("no tabs here\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not tab-separated"):
        load_corpus(str(flat))
    with pytest.raises(DatasetError, match=r"without train\.en"):
        detect_format(tmp_path)


def test_tatoeba_files_drop_the_attribution_column(tmp_path: Path) -> None:
    cmn = tmp_path / "cmn.txt"
    rows = [
        f"Hi {i}.\t嗨{i}。\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i}" for i in range(60)
    ]
    cmn.write_text("\n".join(rows) + "\n", encoding="utf-8")
    corpus = load_corpus(str(cmn))
    assert corpus.direction == "zh-en"
    assert all("tatoeba" not in s + t for s, t in corpus.train + corpus.val + corpus.test)
    assert load_corpus(str(cmn), "en-zh").train[0][0].startswith("Hi")


@pytest.mark.parametrize(
    ("name", "direction", "train", "val", "test"),
    [
        ("multi30k", "de-en", 29000, 1014, 1000),
        ("tatoeba-cmn-eng", "zh-en", 25615, 1416, 1416),
        ("tatoeba-fra-eng", "fr-en", 150523, 8318, 8289),
    ],
)
def test_real_datasets_load(
    real_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    direction: str,
    train: int,
    val: int,
    test: int,
) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    corpus = load_corpus(name)
    assert corpus.direction == direction
    assert (len(corpus.train), len(corpus.val), len(corpus.test)) == (train, val, test)
    if name == "tatoeba-fra-eng":
        assert not any("\u202f" in s or "\u00a0" in s for s, _ in corpus.train)
