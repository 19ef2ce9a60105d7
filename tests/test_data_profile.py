"""`rnn-tui data show`: every figure it prints, against an independent computation on small
fixed files (the task's own loader gives the split; counts, percentiles and coverage are
computed here again in plain Python), and bad input as one line."""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import math
import random
import statistics
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tasks.data import parallel as pairs_data
from tasks.data.info import DatasetError
from tasks.data.profile import DataProfile, labelled
from tasks.data.profile.common import quiet
from tasks.data.profile.core import profile
from tasks.data.profile.detect import resolve_task
from tasks.data.series import load_series
from tasks.data.text import Vocab, load_reviews, token_strings
from tasks.names.settings import NamesSettings
from tasks.registry import TASKS, default_config
from tui.cli import main
from tui.data_report import pct

WORDS = ["good", "bad", "film", "plot", "actor", "great", "awful", "boring", "fine", "dull",
         "superb", "story", "scene", "music", "cast", "ending", "slow", "funny", "sad", "long",
         "short", "best", "worst", "ever", "never", "script"]  # fmt: skip


def nearest_rank(values: list[int], p: float) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered) / 100) - 1]


def run_show(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["data", "show", *args])
    out, err = capsys.readouterr()
    return code, out, err


def check_lengths(figure: dict, lengths: list[int]) -> None:
    """Count, total, mean, min, max, percentiles and histogram bins of `lengths`."""
    assert figure["count"] == len(lengths)
    assert figure["total"] == sum(lengths)
    assert figure["mean"] == pytest.approx(statistics.mean(lengths))
    assert (figure["min"], figure["max"]) == (min(lengths), max(lengths))
    for p in ("50", "90", "95", "99"):
        assert figure["percentiles"][p] == nearest_rank(lengths, float(p))
    for lo, hi, count in figure["histogram"]:
        assert count == sum(1 for n in lengths if n >= lo and (hi is None or n < hi))
    assert sum(b[2] for b in figure["histogram"]) == len(lengths)


# -- labelled text (sentiment) ---------------------------------------------------------------


@pytest.fixture
def polarity(tmp_path: Path) -> Path:
    """rt-polarity's format: 60 seeded snippets per label, 2 to 30 words, some punctuation."""
    rng = random.Random(7)
    folder = tmp_path / "polarity"
    folder.mkdir()
    for suffix, lean in (("pos", WORDS[:12]), ("neg", WORDS[12:])):
        lines = []
        for _ in range(60):
            words = [rng.choice(lean if rng.random() < 0.6 else WORDS)
                     for _ in range(rng.randint(2, 30))]  # fmt: skip
            lines.append(" ".join(words) + rng.choice([" .", " !", "", " , ok ."]))
        (folder / f"rt-polarity.{suffix}").write_text("\n".join(lines) + "\n")
    return folder


def z_scores(per_label: list[Counter[str]], floor: int) -> list[list[tuple[float, str]]]:
    """The log-odds z-score of every token for each label (see `tasks.data.profile.labelled`)."""
    total = sum(per_label, Counter())
    grand = sum(total.values())
    out = []
    for counts in per_label:
        n_l = sum(counts.values())
        scores = []
        for t, n in total.items():
            if n < floor:
                continue
            a = 1000.0 * n / grand
            y, r = counts[t], n - counts[t]
            d = math.log((y + a) / (n_l + 1000 - y - a)) - math.log(
                (r + a) / (grand - n_l + 1000 - r - a)
            )
            scores.append((d / math.sqrt(1 / (y + a) + 1 / (r + a)), t))
        out.append(sorted(scores, key=lambda s: (-s[0], s[1])))
    return out


def test_labelled_figures_match_an_independent_count(
    polarity: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(labelled, "TOP_N", (5, 10, 20, 50))  # sizes that matter on 120 texts
    settings = default_config("sentiment", seq_len=12, vocab_size=20, min_freq=2)
    report = profile(str(polarity), settings=settings).report(settings)
    data = load_reviews(str(polarity))  # the split the task trains on
    tokens = {s: [token_strings(t) for t, _ in getattr(data, s)] for s in ("train", "val", "test")}
    labels = {s: [y for _, y in getattr(data, s)] for s in ("train", "val", "test")}
    for split in ("train", "val", "test"):
        assert report["splits"][split] == {
            "examples": len(labels[split]),
            "per_label": [labels[split].count(0), labels[split].count(1)],
        }
    majority = Counter(labels["train"]).most_common(1)[0][0]
    assert report["majority"]["label"] == ("negative", "positive")[majority]
    for split in ("val", "test"):
        share = labels[split].count(majority) / len(labels[split])
        assert report["majority"]["accuracy"][split] == pytest.approx(share)
    lengths = [len(t) for split in ("train", "val", "test") for t in tokens[split]]
    check_lengths(report["lengths"], lengths)
    cut = report["live"]["seq_len"]
    assert cut["texts"] == pytest.approx(sum(n > 12 for n in lengths) / len(lengths))
    assert cut["tokens"] == pytest.approx(sum(max(0, n - 12) for n in lengths) / sum(lengths))

    train = Counter(t for text in tokens["train"] for t in text)
    assert report["vocabulary"]["train_types"] == len(train)
    assert report["vocabulary"]["train_tokens"] == sum(train.values())
    every = {t for split in tokens.values() for text in split for t in text}
    assert report["vocabulary"]["all_types"] == len(every)

    def covered(vocab: Vocab, split: str) -> float:
        flat = [t for text in tokens[split] for t in text]
        return sum(i != 1 for i in vocab.encode(flat)) / len(flat)

    for row, n in zip(report["coverage"], (5, 10, 20, 50, None), strict=True):
        vocab = Vocab.build(tokens["train"], n or 10**9, 1, "words")
        assert row["val"] == pytest.approx(covered(vocab, "val"))
        assert row["test"] == pytest.approx(covered(vocab, "test"))
    current = Vocab.build(tokens["train"], 20, 2, "words")  # as the task builds it
    assert report["live"]["vocabulary"]["entries"] == len(current)
    assert report["live"]["vocabulary"]["val"] == pytest.approx(covered(current, "val"))
    ranked = sorted(train.items(), key=lambda p: (-p[1], p[0]))
    assert report["frequent"] == [list(p) for p in ranked[:20]]
    per_label = [Counter(), Counter()]
    for text, y in zip(tokens["train"], labels["train"], strict=True):
        per_label[y].update(text)
    floor = max(10, round(sum(train.values()) * 1e-5))
    for label, scores in zip(("negative", "positive"), z_scores(per_label, floor), strict=True):
        assert [t for t, _, _ in report["skewed"][label]] == [t for _, t in scores[:5]]
    for y, label in enumerate(("negative", "positive")):
        texts = {t for t, label_of in data.train if label_of == y}
        assert all(sample in texts for sample in report["samples"][label])

    code, out, _ = run_show(capsys, str(polarity), "--seq-len", "12", "--vocab-size", "20",
                            "--min-freq", "2")  # fmt: skip
    assert code == 0
    p = report["lengths"]["percentiles"]
    assert f"p50 {p['50']} · p90 {p['90']} · p95 {p['95']} · p99 {p['99']}" in out
    assert f"--seq-len 12 cuts {pct(cut['texts'])} of the texts" in out
    top5 = next(line for line in out.splitlines() if line.strip().startswith("top 5 "))
    assert top5.split()[-2:] == [
        pct(report["coverage"][0]["val"]),
        pct(report["coverage"][0]["test"]),
    ]
    assert f"({len(current):,} entries)" in out
    assert f"{len(labels['train']):,}" in out and f"{len(train):,} distinct in training" in out
    code, out, _ = run_show(capsys, str(polarity), "--json", "--seq-len", "12",
                            "--vocab-size", "20", "--min-freq", "2")  # fmt: skip
    assert json.loads(out) == report


def test_names_are_profiled_with_their_split_and_characters(tmp_path: Path) -> None:
    from tasks.names.data import load_names

    folder = tmp_path / "names"
    folder.mkdir()
    rng = random.Random(3)
    for language, letters in (("Czech", "cvzkr"), ("Italian", "aoilt"), ("Korean", "kimhn")):
        names = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(40)}
        (folder / f"{language}.txt").write_text("\n".join(sorted(names)).title() + "\n")
    settings = NamesSettings(task="names", dataset=str(folder), epochs=1, seq_len=6)
    figures, tables = labelled.compute("names", str(folder), folder, settings, quiet)
    data = load_names(str(folder), 0, 0.1, 0.1)
    assert figures["labels"] == ["Czech", "Italian", "Korean"] and figures["unit"] == "characters"
    for split in ("train", "val", "test"):
        ys = [y for _, y in getattr(data, split)]
        assert figures["splits"][split]["per_label"] == [ys.count(i) for i in range(3)]
    lengths = [len(n) for split in ("train", "val", "test") for n, _ in getattr(data, split)]
    check_lengths(figures["lengths"], lengths)
    live = labelled.live(figures, {k: np.asarray(v) if isinstance(v, list) else v
                                   for k, v in tables.items()}, settings)  # fmt: skip
    assert live["seq_len"]["texts"] == pytest.approx(sum(n > 6 for n in lengths) / len(lengths))
    assert "vocabulary" not in live  # names has no --vocab-size


# -- text (char LM) --------------------------------------------------------------------------


def test_text_figures_match_an_independent_count(
    small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tasks.charlm.task import split_ids, stream_chunks

    settings = default_config("charlm", batch=4, seq_len=50)
    report = profile(str(small_text), settings=settings).report(settings)
    text = small_text.read_text()
    chars = Counter(text)
    assert (report["characters"], report["distinct"]) == (len(text), len(chars))
    assert report["most"][0] == list(chars.most_common(1)[0])
    assert sorted(report["least"], key=lambda p: (p[1], p[0]))[0][1] == min(chars.values())
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    assert report["lines"] == len(lines)
    check_lengths(report["line_lengths"], [len(line) for line in lines])
    ids = np.arange(len(text))
    train, val = split_ids(ids)
    assert report["split"]["train_chars"] == len(train)
    assert report["split"]["val_chars"] == len(val)
    assert report["split"]["val_only"] == sorted(set(text[len(train) :]) - set(text[: len(train)]))
    chunks = stream_chunks(train, 4, 50, full_only=True)
    assert report["live"]["bptt"]["chunks"] == len(chunks)
    code, out, _ = run_show(capsys, str(small_text), "--batch", "4", "--seq-len", "50")
    assert code == 0
    assert f"{len(text):,} characters · {len(chars)} distinct · {len(lines):,} lines" in out
    assert f"{len(chunks):,} chunks per epoch" in out


# -- parallel text (translation) -------------------------------------------------------------


@pytest.fixture
def multi30k(tmp_path: Path) -> Path:
    """Multi30k's format with seeded pairs: 50 train (two of them long, one with an empty
    English side), 10 val, 10 test."""
    rng = random.Random(11)
    de = ["ein", "mann", "hund", "frau", "kind", "läuft", "spielt", "ball", "rot", "blau",
          "auf", "dem", "gras"]  # fmt: skip
    en = ["a", "man", "dog", "woman", "child", "runs", "plays", "ball", "red", "blue", "on",
          "the", "grass"]  # fmt: skip
    folder = tmp_path / "m30k"
    folder.mkdir()
    for stem, n in (("train", 50), ("val", 10), ("test_2016_flickr", 10)):
        src, tgt = [], []
        for i in range(n):
            k = 30 if stem == "train" and i < 2 else rng.randint(3, 12)
            src.append(" ".join(rng.choice(de) for _ in range(k)) + ".")
            tgt.append("" if stem == "train" and i == 5 else " ".join(rng.choice(en)
                       for _ in range(k + rng.randint(-2, 2))) + ".")  # fmt: skip
        (folder / f"{stem}.de").write_text("\n".join(src) + "\n")
        (folder / f"{stem}.en").write_text("\n".join(tgt) + "\n")
    return folder


def test_parallel_figures_match_an_independent_count(
    multi30k: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = default_config("translation", min_freq=3, max_len=20)
    report = profile(str(multi30k), settings=settings).report(settings)
    corpus = pairs_data.load_corpus(str(multi30k), "de-en")
    assert report["pairs"] == {s: len(getattr(corpus, s)) for s in ("train", "val", "test")}
    tok = {s: [(pairs_data.tokenize(a, "de"), pairs_data.tokenize(b, "en"))
               for a, b in getattr(corpus, s)] for s in ("train", "val", "test")}  # fmt: skip
    every = [p for s in ("train", "val", "test") for p in tok[s]]
    check_lengths(report["lengths"]["src"], [len(a) for a, _ in every])
    check_lengths(report["lengths"]["tgt"], [len(b) for _, b in every])
    ratios = [len(b) / len(a) for a, b in every if a]
    assert report["ratio"]["mean"] == pytest.approx(statistics.mean(ratios))
    assert report["ratio"]["median"] == pytest.approx(statistics.median(ratios))
    vocabs = [pairs_data.Vocab.build([p[i] for p in tok["train"]], 3) for i in (0, 1)]
    for i, side in enumerate(("src", "tgt")):
        row = report["live"]["vocabulary"][side]
        assert row["entries"] == len(vocabs[i])
        for split in ("val", "test"):
            flat = [t for p in tok[split] for t in p[i]]
            unknown = sum(x == pairs_data.UNK_ID for x in vocabs[i].encode(flat)) / len(flat)
            assert row[f"{split}_oov"] == pytest.approx(unknown)
    encoded = pairs_data.encode_pairs(corpus.train, *vocabs, "de", "en")
    _, dropped = pairs_data.filter_lengths(encoded.src, encoded.tgt, 20)
    assert dropped == 3  # two long pairs and the one with an empty side
    assert report["live"]["max_len"]["dropped"] == dropped
    assert report["live"]["max_len"]["share"] == pytest.approx(dropped / len(corpus.train))
    code, out, _ = run_show(capsys, str(multi30k), "--min-freq", "3", "--max-len", "20")
    assert code == 0
    assert f"--max-len 20 drops {pct(dropped / len(corpus.train))} of the training pairs (3)" in out
    assert f"mean {statistics.mean(ratios):.2f} · median {statistics.median(ratios):.2f}" in out


# -- series ----------------------------------------------------------------------------------


@pytest.fixture
def series_csv(tmp_path: Path) -> Path:
    """72 months of trend + a 12-month cycle + seeded noise; one value missing, one month twice."""
    rng = random.Random(5)
    rows = ["month,value"]
    for t in range(72):
        value = 100 + t + 10 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 2)
        rows.append(f"{2000 + t // 12}-{t % 12 + 1:02d},{'' if t == 30 else f'{value:.3f}'}")
    rows.append(rows[10].split(",")[0] + ",150")  # a duplicated date, out of order
    path = tmp_path / "monthly.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def acf(y: list[float], k: int) -> float:
    m = statistics.mean(y)
    return sum((y[t] - m) * (y[t + k] - m) for t in range(len(y) - k)) / sum(
        (v - m) ** 2 for v in y
    )


def test_series_figures_match_an_independent_computation(
    series_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = default_config("timeseries", seq_len=10, transform="diff")
    report = profile(str(series_csv), settings=settings).report(settings)
    y = [float(v) for v in load_series(str(series_csv)).values]  # repaired by the loader
    assert report["repairs"] == [
        "sorted the rows by date", "averaged the values of 1 duplicated dates",
        "filled 1 missing values by linear interpolation",
    ]  # fmt: skip
    s = report["summary"]
    assert (s["count"], s["min"], s["max"]) == (72, min(y), max(y))
    assert s["mean"] == pytest.approx(statistics.mean(y))
    assert s["std"] == pytest.approx(statistics.pstdev(y))
    assert s["median"] == pytest.approx(statistics.median(y))
    n_test, n_val = round(0.2 * 72), round(0.1 * 72)
    assert report["split"]["val"] == {"start": 72 - n_test - n_val, "count": n_val,
                                      "from": "2004-04", "to": "2004-10"}  # fmt: skip
    assert len(report["acf"]) == 25
    for k in (1, 12, 24):
        assert report["acf"][k] == pytest.approx(acf(y, k), abs=1e-5)
    d = report["decomposition"]
    trend = [None] * 6 + [(0.5 * y[t - 6] + sum(y[t - 5 : t + 6]) + 0.5 * y[t + 6]) / 12
                          for t in range(6, 66)] + [None] * 6  # fmt: skip
    assert d["trend"] == pytest.approx(trend, rel=1e-5)  # kept to 6 digits
    detrended = {k: [y[t] - trend[t] for t in range(6, 66) if t % 12 == k] for k in range(12)}
    index = [statistics.mean(v) for v in detrended.values()]
    index = [v - statistics.mean(index) for v in index]
    assert d["seasonal_index"] == pytest.approx(index, abs=1e-4)
    resid = [y[t] - trend[t] - index[t % 12] for t in range(6, 66)]
    seasonal_plus = [index[t % 12] + r for t, r in zip(range(6, 66), resid, strict=True)]
    strength = 1 - statistics.pvariance(resid) / statistics.pvariance(seasonal_plus)
    assert d["seasonal_strength"] == pytest.approx(max(0.0, strength), abs=1e-6)
    diff = next(t for t in report["transforms"] if t["name"] == "diff")
    z = [y[t] - y[t - 1] for t in range(1, 72)]
    assert diff["std"] == pytest.approx(statistics.pstdev(z))
    assert diff["acf1"] == pytest.approx(acf(z, 1))
    val_start = 72 - n_test - n_val
    lo, hi = min(z[: val_start - 1]), max(z[: val_start - 1])
    scaled = [2 * (v - lo) / (hi - lo) - 1 for v in z]
    assert diff["values"][1:] == pytest.approx(scaled, abs=1e-4)
    beyond = sum(abs(v) > 1 for v in scaled[val_start - 1 :]) / (72 - val_start)
    assert diff["outside"] == pytest.approx(beyond)
    assert report["live"]["windows"]["count"] == val_start - 1 - 10  # lag 1, window 10, 1 target
    code, out, _ = run_show(capsys, str(series_csv), "--seq-len", "10", "--transform", "diff")
    assert code == 0
    assert f"lag 1 {acf(y, 1):.2f} · lag 12 {acf(y, 12):.2f} · lag 24 {acf(y, 24):.2f}" in out
    assert f"--seq-len 10: {val_start - 11} training windows with diff" in out
    assert "filled 1 missing values by linear interpolation" in out


# -- bad input ---------------------------------------------------------------------------------


def _tar(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    return path


@pytest.mark.parametrize(
    ("make", "args", "expected"),
    [
        (lambda d: (d / "photo.png").write_bytes(bytes(range(256)) * 8), [],
         "is in no dataset's format: it is not UTF-8 text"),
        (lambda d: (d / "empty.txt").write_bytes(b""), [], "is empty"),
        (lambda d: (d / "empty.txt").write_bytes(b""), ["--task", "charlm"], "is empty"),
        (lambda d: (d / "f").mkdir() or (d / "f" / "notes.md").write_text("hi"), [],
         "is a folder in no dataset's format"),
        (lambda d: _tar(d / "other.tar.gz", {"stuff/a.txt": "x", "b.txt": "y"}), [],
         "expected aclImdb train/ and test/ folders"),
        (lambda d: (d / "prices.csv").write_text("when,a,b\n2020-01-01,1,2\n2020-01-02,3,4\n"),
         [], "choose the value column"),
        (lambda d: (d / "words.csv").write_text("month,value\n2020-01,abc\n2020-02,def\n"),
         [], "is not numeric"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, args: list[str], expected: str
) -> None:
    make(tmp_path)
    path = next(p for p in tmp_path.iterdir() if p.name != "cache")
    code, out, err = run_show(capsys, str(path), *args)
    assert code == 2 and out == ""
    assert err.startswith("rnn-tui: error: ") and err.count("\n") == 1, err
    assert expected in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["no-such-dataset"], "unknown dataset 'no-such-dataset'"),
        (["synthetic"], "gradflow generates its data as it trains"),
        (["rt-polarity", "--max-len", "5"], "--max-len does not apply to sentiment data"),
        (["rt-polarity", "--seq-len", "0"], "--seq-len must be a positive integer (got 0)"),
        (["rt-polarity", "--task", "charlm"], "'rt-polarity' is a sentiment dataset"),
    ],
)
def test_bad_names_and_settings_are_one_clear_line(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, _, err = run_show(capsys, *args)
    assert code == 2 and err.count("\n") == 1 and expected in err, err


# -- which task reads a path: declared by each registry entry ---------------------------------


def test_every_task_declares_how_its_data_is_read() -> None:
    """A task with datasets on disk names its kind of data, a reader where the kind needs one,
    and readers, recognisers and reading settings that exist."""
    for name, info in TASKS.items():
        declared = info.profile
        assert (declared is None) == all(d.generated for d in info.datasets), name
        if declared is None:
            continue
        assert set(declared.reading) <= set(info.settings.settings()), name
        for path in (declared.reader, declared.recognise):
            if path:
                module, _, function = path.partition(":")
                assert callable(getattr(importlib.import_module(module), function)), path
    with pytest.raises(ValueError, match="unknown data kind 'poems'"):
        DataProfile("poems")
    with pytest.raises(ValueError, match="labelled data needs the task's reader"):
        DataProfile("labelled")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _folder(path: Path, *files: str) -> Path:
    """A folder holding `files` (a name ending in / is a folder), each a line of text."""
    for name in files:
        if name.endswith("/"):
            (path / name).mkdir(parents=True)
        else:
            _write(path / name, "x\n")
    return path


@pytest.mark.parametrize(
    ("make", "task"),
    [
        (lambda d: _folder(d / "mr", "rt-polarity.pos", "rt-polarity.neg"), "sentiment"),
        (lambda d: _folder(d / "imdb", "aclImdb/train/", "aclImdb/test/"), "sentiment"),
        (lambda d: _tar(d / "reviews.tar.gz", {"aclImdb/train/pos/0_9.txt": "great"}),
         "sentiment"),
        (lambda d: _write(d / "hotels.csv", "\ufefflabel, review\n1,好\n"), "sentiment"),
        (lambda d: _write(d / "sales.csv", "month,value\n2020-01,3\n"), "timeseries"),
        (lambda d: _write(d / "sales.tsv", "month\tvalue\n2020-01\t3\n"), "timeseries"),
        (lambda d: _folder(d / "m30k", "train.en", "train.de"), "translation"),
        (lambda d: _write(d / "fra.txt", "Go.\tVa !\nHi.\tSalut !\n"), "translation"),
        (lambda d: _folder(d / "langs", "Czech.txt", "Irish.txt"), "names"),
        (lambda d: _write(d / "poem.txt", "Shall I compare thee\nto a summer's day?\n"),
         "charlm"),
    ],
)  # fmt: skip
def test_a_path_is_guessed_by_its_tasks_recogniser(tmp_path: Path, make, task: str) -> None:
    assert resolve_task(str(make(tmp_path)), None) == task


def test_a_task_without_a_recogniser_is_never_guessed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path / "langs", "Czech.txt", "Irish.txt")
    names = TASKS["names"]
    unrecognised = dataclasses.replace(names.profile, recognise="", formats="")
    monkeypatch.setitem(TASKS, "names", dataclasses.replace(names, profile=unrecognised))
    with pytest.raises(DatasetError, match="is a folder in no dataset's format") as err:
        resolve_task(str(folder), None)
    assert "Language>.txt" not in str(err.value) and "train.en/train.de" in str(err.value)
    assert resolve_task(str(folder), "names") == "names"
