"""Sentiment data: tokenizers, vocabulary, truncation and the three loaders (with bad input)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tasks.data.info import DatasetError
from tasks.data.text import (
    Vocab,
    guess_tokenizer,
    load_reviews,
    read_imdb_archive,
    token_strings,
    tokenize,
    truncate,
)

# -- helpers ---------------------------------------------------------------------------------


def imdb_tree(root: Path, splits: tuple[str, ...] = ("train", "test"), per_label: int = 5) -> Path:
    """A tiny aclImdb folder: {split}/{pos,neg}/<i>_<rating>.txt."""
    for split in splits:
        for label, rating in (("pos", 9), ("neg", 2)):
            folder = root / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for i in range(per_label):
                (folder / f"{i}_{rating}.txt").write_text(f"{label} review {i} of {split}")
    return root


def add_member(archive: tarfile.TarFile, name: str, text: str = "", **kind: object) -> None:
    info = tarfile.TarInfo(name)
    data = text.encode()
    info.size = len(data)
    for key, value in kind.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data) if info.isfile() else None)


# -- tokenizers and vocabulary ---------------------------------------------------------------


def test_word_tokenizer_lowercases_splits_punctuation_and_keeps_offsets() -> None:
    text = "Great film!<br /><br />It's NOT bad, really..."
    tokens = tokenize(text)
    assert [t.text for t in tokens] == [
        "great", "film", "!", "it's", "not", "bad", ",", "really", ".", ".", ".",
    ]  # fmt: skip
    for t in tokens:
        assert text[t.start : t.end].lower() == t.text  # offsets point into the original text
    assert token_strings(text) == [t.text for t in tokens]


def test_char_tokenizer_reads_cjk_by_character_and_latin_by_word() -> None:
    text = "房间很大，WiFi不错!"
    assert token_strings(text, "chars") == ["房", "间", "很", "大", "，", "wifi", "不", "错", "!"]
    assert guess_tokenizer(["房间很大，服务很好", "早餐一般"]) == "chars"
    assert guess_tokenizer(["a fine film", "dull"]) == "words"
    with pytest.raises(ValueError, match="unknown tokenizer"):
        tokenize("x", "bytes")


def test_vocab_cutoff_size_and_special_tokens() -> None:
    texts = [["good", "good", "bad"], ["good", "bad", "rare"]]
    vocab = Vocab.build(texts, max_size=10, min_freq=2, kind="words")
    assert vocab.itos == ("<pad>", "<unk>", "good", "bad")
    assert vocab.encode(["bad", "rare", "never"]) == [3, 1, 1]
    assert Vocab.build(texts, max_size=3, min_freq=1, kind="words").itos == (
        "<pad>",
        "<unk>",
        "good",
    )


def test_truncate_keeps_head_and_tail() -> None:
    ids = list(range(100))
    assert truncate(ids, 200) == ids
    kept = truncate(ids, 8)
    assert kept == [0, 1, 94, 95, 96, 97, 98, 99]


# -- loaders ---------------------------------------------------------------------------------


def test_imdb_folder_without_val_carves_a_seeded_tenth(tmp_path: Path) -> None:
    imdb_tree(tmp_path, per_label=10)
    data = load_reviews(str(tmp_path))
    assert (len(data.train), len(data.val), len(data.test)) == (18, 2, 20)
    assert load_reviews(str(tmp_path)).val == data.val  # same split every time


def test_imdb_archive_is_read_in_place_and_ignores_path_tricks(tmp_path: Path) -> None:
    path = tmp_path / "imdb.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for split in ("train", "val", "test"):
            for label in ("pos", "neg"):
                add_member(archive, f"aclImdb/{split}/{label}/0_5.txt", f"{label} {split}")
        add_member(archive, "../../evil/train/pos/1_9.txt", "escape")
        add_member(archive, "/abs/train/pos/2_9.txt", "absolute")
        add_member(archive, "aclImdb/train/pos/link.txt", type=tarfile.SYMTYPE, linkname="/etc/x")
    data = read_imdb_archive(path)
    texts = [t for t, _ in data.train + data.val + data.test]
    assert "escape" not in texts and "absolute" not in texts and "/etc/x" not in texts
    assert len(data.val) == 2 and len(data.test) == 2
    assert not (tmp_path / "aclImdb").exists() and not (tmp_path.parent / "evil").exists()


def test_folder_without_the_expected_layout_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DatasetError, match="not a sentiment dataset"):
        load_reviews(str(tmp_path))
    imdb_tree(tmp_path / "only-train", splits=("train",))
    (tmp_path / "only-train" / "aclImdb" / "test").mkdir()
    with pytest.raises(DatasetError, match="expected aclImdb train/ and test/"):
        load_reviews(str(tmp_path / "only-train"))
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar file")
    with pytest.raises(DatasetError, match="cannot read the archive"):
        load_reviews(str(broken))


def test_csv_skips_empty_reviews_and_names_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "reviews.csv"
    rows = [f'{i % 2},"评论 {i}, 很好"' for i in range(30)] + ["0,", "1,  "]
    good.write_text("label,review\n" + "\n".join(rows) + "\n", encoding="utf-8")
    data = load_reviews(str(good))
    assert data.skipped == 2 and len(data.train + data.val + data.test) == 30
    assert data.tokenizer == "chars"
    bad_label = tmp_path / "bad_label.csv"
    bad_label.write_text("label,review\n1,good\n2,what\n")
    with pytest.raises(DatasetError, match=r"line 3: label must be 0 or 1 \(got '2'\)"):
        load_reviews(str(bad_label))
    bad_fields = tmp_path / "bad_fields.csv"
    bad_fields.write_text("label,review\n1,good\n0,bad,extra\n")
    with pytest.raises(DatasetError, match="line 3: expected 2 fields"):
        load_reviews(str(bad_fields))
    no_header = tmp_path / "no_header.csv"
    no_header.write_text("1,good\n0,bad\n")
    with pytest.raises(DatasetError, match="expected a 'label,review' header"):
        load_reviews(str(no_header))
    one_class = tmp_path / "one_class.csv"
    one_class.write_text("label,review\n1,good\n1,great\n")
    with pytest.raises(DatasetError, match="only label 1"):
        load_reviews(str(one_class))


# -- the real data ---------------------------------------------------------------------------


def test_rt_polarity_split_is_fixed_and_balanced(
    real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    data = load_reviews("rt-polarity")
    assert (len(data.train), len(data.val), len(data.test)) == (8530, 1066, 1066)
    assert load_reviews("rt-polarity").test == data.test
    assert not {t for t, _ in data.test} & {t for t, _ in data.train}
    assert 0.45 < sum(y for _, y in data.test) / len(data.test) < 0.55


def test_chnsenticorp_counts_the_empty_review(
    real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    data = load_reviews("chnsenticorp")
    assert data.skipped == 1 and len(data.train + data.val + data.test) == 7765
    assert data.tokenizer == "chars"
    assert "1 empty review(s) skipped" in data.describe()


def test_imdb_archive_from_the_data_root(real_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNN_TUI_DATA", str(real_data))
    data = load_reviews("imdb")
    assert (len(data.train), len(data.val), len(data.test)) == (20000, 5000, 25000)
    assert sum(y for _, y in data.test) == 12500
