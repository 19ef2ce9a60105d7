"""The names task: reading and cleaning a folder, the split, metrics, one train step, and a tiny
checkpoint through the CLI (`train`, `predict`, `eval --json`) with its bad inputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line_error, run_cli
from engine_fixtures import ENDINGS, SIZES, names_data, surnames

from tasks.data.info import DatasetError
from tasks.engine.player import InputError, load_player
from tasks.engine.settings import ConfigError
from tasks.names.data import clean, fold, load_folder, parse_name
from tasks.names.task import classification_metrics, create
from tasks.registry import default_config
from tui.cli import main

TINY = ["--hidden", "32", "--embed", "16", "--batch", "16", "--threads", "1", "--dropout", "0",
        "--warmup-steps", "0"]  # fmt: skip


def write_folder(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def config(dataset: str | Path, **overrides: object) -> object:
    """The task's defaults on `dataset`, tiny (engine_fixtures' sizes), no quick evaluations."""
    values = SIZES["names"] | {"log_every_s": 0.0, "eval_every_s": 1e9} | overrides
    return default_config("names", dataset=str(dataset), **values)


# -- reading and cleaning ----------------------------------------------------------------------


def test_fold_keeps_ascii_letters_and_name_punctuation() -> None:
    assert fold("Müller") == "Muller"
    assert fold("Śmigielski") == "Smigielski"
    assert fold("Groß") == "Gross" and fold("Marszałek") == "Marszalek"
    assert fold("O'Néàl") == "O'Neal"
    assert fold("Shirinsky-Shikhmatov") == "Shirinsky-Shikhmatov"
    assert fold("Rafaj1") == "Rafaj" and fold("Maxa/B") == "MaxaB"
    assert fold("  De la   Fuente ") == "De la Fuente"
    assert fold("Jevolojnov,") == "Jevolojnov" and fold("Lu:") == "Lu"


def test_clean_lower_cases_and_drops_junk() -> None:
    assert clean("Dostoevsky") == "dostoevsky"
    assert clean("To The First\xa0 Page") is None  # Russian.txt's scraped page text
    assert clean("to the first page") is None
    assert clean("123") is None and clean(" - ") is None
    assert clean("Sze ") == "sze"


def test_folder_counts_dedupe_and_keeps_a_name_under_each_language(tmp_path: Path) -> None:
    russian = "\n".join([*surnames("Russian", 12), "Ivanov", "Ivanov", "To The First Page", ""])
    english = "\n".join([*surnames("Italian", 12), "Kelly", "Ivanov"])
    irish = "\n".join([*surnames("Japanese", 12), "Kelly", "KELLY"])
    folder = write_folder(
        tmp_path / "f", {"Russian.txt": russian, "English.txt": english, "Irish.txt": irish}
    )
    data = load_folder(folder, seed=0)
    assert data.languages == ("English", "Irish", "Russian")
    assert (data.lines, data.junk, data.duplicates) == (43, 1, 2)  # the blank line is not read
    pairs = data.train + data.val + data.test
    assert len(pairs) == 43 - 1 - 2
    assert Counter(pairs)[("ivanov", 2)] == 1 and ("ivanov", 0) in pairs
    assert ("kelly", 0) in pairs and ("kelly", 1) in pairs
    assert "43 lines -> 40 (name, language) pairs (1 junk lines and 2 exact" in data.describe()


def test_split_is_by_name_stratified_and_seeded(tmp_path: Path) -> None:
    folder = Path(names_data(tmp_path, count=40))
    shared = surnames("Russian", 40)[0]  # also Italian: one part holds both its labels
    italian = folder / "Italian.txt"
    italian.write_text(italian.read_text() + shared + "\n", encoding="utf-8")
    data = load_folder(folder, seed=3)
    parts = [{n for n, _ in part} for part in (data.train, data.val, data.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    for part, share in ((data.val, 4), (data.test, 4)):
        counts = Counter(y for _, y in part)
        assert all(abs(counts[y] - share) <= 1 for y in range(len(data.languages))), counts
    again = load_folder(folder, seed=3)
    assert (again.train, again.val, again.test) == (data.train, data.val, data.test)
    other = load_folder(folder, seed=4)
    assert {n for n, _ in other.test} != parts[2]
    assert sum(len(p) for p in (data.train, data.val, data.test)) == 121
    smaller = load_folder(folder, seed=3, val_fraction=0.2, test_fraction=0.25)
    assert len(smaller.test) > len(data.test) and len(smaller.val) > len(data.val)


def test_bad_folders_fail_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a folder"):
        load_folder(tmp_path / "missing", seed=0)
    one = write_folder(tmp_path / "one", {"Russian.txt": "Ivanov\n"})
    with pytest.raises(DatasetError, match="at least two"):
        load_folder(one, seed=0)
    latin1 = write_folder(
        tmp_path / "latin1", {"A.txt": "Ab\n", "B.txt": "M\xfcller\n".encode("latin-1")}
    )
    with pytest.raises(DatasetError, match=r"B\.txt is not UTF-8"):
        load_folder(latin1, seed=0)
    junk = write_folder(tmp_path / "junk", {"A.txt": "Ab\n", "B.txt": "123\nTo The First Page\n"})
    with pytest.raises(DatasetError, match=r"no names left in B\.txt"):
        load_folder(junk, seed=0)


def test_parse_name_refuses_what_is_no_name() -> None:
    assert parse_name("  Dvořák ") == "dvorak"
    assert parse_name("Mu\u0308ller") == "muller"  # a decomposed ü, as some keyboards type it
    for text, needle in (
        ("", "the name is empty"),
        ("   \t", "the name is empty"),
        ("R2D2", "has no digits"),
        ("Достоевский", "cannot be in a name"),
        ("O'Brien?", "'?' cannot be in a name"),
        ("--", "has no letters"),
        ("x" * 101, "the limit is 100"),
    ):
        with pytest.raises(ValueError, match=needle):
            parse_name(text)


# -- metrics, settings, one step -------------------------------------------------------------


def test_metrics_match_scikit_learn() -> None:
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 6, 300)
    predictions = np.where(rng.random(300) < 0.6, labels, rng.integers(0, 5, 300))
    m = classification_metrics(labels, predictions, classes=7)  # class 6 never occurs
    assert m["accuracy"] == pytest.approx(accuracy_score(labels, predictions))
    assert m["macro_f1"] == pytest.approx(f1_score(labels, predictions, average="macro"))
    assert np.asarray(m["confusion"]).sum() == 300 and len(m["confusion"]) == 7
    assert np.trace(np.asarray(m["confusion"])) == (labels == predictions).sum()


def test_settings_check_the_split_shares() -> None:
    with pytest.raises(ConfigError) as bad:
        default_config("names", val_fraction=0.3, test_fraction=0.3)
    assert bad.value.field == "val_fraction" and "at least half" in str(bad.value)
    with pytest.raises(ConfigError) as zero:
        default_config("names", test_fraction=0.0)
    assert zero.value.field == "test_fraction"
    with pytest.raises(ConfigError):
        default_config("names", arch="numpy-rnn")


def test_one_step_batches_and_class_weights(tmp_path: Path) -> None:
    folder = Path(names_data(tmp_path))
    (folder / "Italian.txt").write_text("\n".join(surnames("Italian", 10)) + "\n")
    task = create(config(folder))
    assert task.batches(1) is task.batches(1)
    assert [b.tolist() for b in task.batches(2)] != [b.tolist() for b in task.batches(1)]
    again = create(config(folder))
    assert [b.tolist() for b in again.batches(1)] == [b.tolist() for b in task.batches(1)]
    stats = task.train_step(task.batches(1)[0], lr=1e-2)
    assert np.isfinite(stats.loss) and stats.tokens > 0 and task.steps == 1
    assert task.class_weight is None
    weighted = create(config(folder, class_weights=True))
    weights = weighted.class_weight.tolist()
    assert weights[0] > weights[1] == pytest.approx(weights[2])  # Italian is the rare one
    counts = np.bincount(weighted.train_y)
    assert float((weighted.class_weight.cpu().numpy() * counts).sum()) == pytest.approx(
        len(weighted.train_y), rel=1e-5
    )
    metrics = task.evaluate()
    assert {"val_accuracy", "val_macro_f1", "test_accuracy", "test_macro_f1"} <= set(metrics)
    majority = float((task.test_y == np.bincount(task.train_y).argmax()).mean())
    assert metrics["majority_accuracy"] == pytest.approx(majority, abs=1e-5)
    assert task.details()["confusion_matrix"]["labels"] == list(task.languages)


def test_a_folder_too_small_to_split(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "tiny", {"A.txt": "Ab\nAc\n", "B.txt": "Bd\n"})
    with pytest.raises(ConfigError, match="too small to hold out"):
        create(config(folder))


# -- a tiny checkpoint through the CLI ---------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run on surnames whose language shows in the ending (learns them in 12 epochs)."""
    folder = tmp_path_factory.mktemp("names")
    data = names_data(folder, count=40)
    code = main(["train", "names", "--dataset", data, *TINY, "--epochs", "12", "--lr", "1e-2",
                 "--out", str(folder / "run"), "--json"])  # fmt: skip
    assert code == 0
    return folder / "run"


def test_train_reports_accuracy_and_macro_f1(trained: Path) -> None:
    metrics = json.loads((trained / "summary.json").read_text())["metrics"]
    assert metrics["test_accuracy"] >= 0.9 and metrics["test_macro_f1"] >= 0.9
    assert metrics["majority_accuracy"] < 0.5


def test_predict_gives_the_top_three_languages(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "predict", str(trained / "last.pt"), "Dostoevsky")
    assert code == 0
    line = out.strip()
    assert line.startswith("Dostoevsky: Russian 0.") and line.count(" · ") == 2, line
    assert all(lang in line for lang in ENDINGS)
    code, out, _ = run_cli(capsys, "predict", str(trained / "last.pt"), "Yamamoto", "Bellini",
                           "--json")  # fmt: skip
    first, second = (json.loads(row) for row in out.splitlines())
    assert first["languages"][0]["language"] == "Japanese"
    assert second["languages"][0]["language"] == "Italian"
    assert sum(g["probability"] for g in first["languages"]) == pytest.approx(1.0, abs=1e-4)
    assert first["read"] == "yamamoto" and first["unknown_chars"] == 0


def test_eval_json_has_the_confusion_matrix(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "eval", str(trained / "last.pt"), "--json")
    assert code == 0
    report = json.loads(out)
    matrix = report["confusion_matrix"]
    assert matrix["labels"] == ["Italian", "Japanese", "Russian"]
    assert sum(map(sum, matrix["matrix"])) == 12  # 4 test names per language
    accuracy = np.trace(np.asarray(matrix["matrix"])) / 12
    assert report["metrics"]["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_predict_bad_input(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = str(trained / "last.pt")
    for text, needle in (("R2D2", "has no digits"), ("   ", "the name is empty"),
                         ("", "the name is empty")):  # fmt: skip
        code, _, err = run_cli(capsys, "predict", checkpoint, text)
        one_line_error(code, err, needle)


def test_answer_equals_answer_many(trained: Path) -> None:
    player = load_player(trained / "last.pt", "names")
    names = ["Dostoevsky", "Yamamoto", "Bellini", "Ng", "de la Cruz"]
    alone = [player.answer(n) for n in names]
    together = list(player.answer_many(names, batch_size=2))
    assert [a.top[0][0] for a in alone] == [t.top[0][0] for t in together]
    for a, t in zip(alone, together, strict=True):
        assert [p for _, p in a.top] == pytest.approx([p for _, p in t.top], abs=1e-5)
    assert "gru 1×32" in player.describe() and "3 languages" in player.describe()
    with pytest.raises(InputError) as bad:
        list(player.answer_many(["Ivanov", "Petrov", "R2D2"], batch_size=2))
    assert bad.value.index == 2 and "has no digits" in str(bad.value)
    long = player.answer("Ab" * 40)
    assert player.config.seq_len == 32 and long.read == "ab" * 16  # the first --seq-len chars
    unknown = player.answer("Quxley")  # q and x are in no training name
    assert unknown.unknown >= 2
    assert len(load_player(trained / "last.pt", "names", top=5).answer("Ng").top) == 3
    with pytest.raises(ValueError, match="top must be a positive integer"):
        load_player(trained / "last.pt", "names", top=0)


# -- the real data -------------------------------------------------------------------------------


@pytest.fixture
def real_names(real_data: Path) -> Path:
    return real_data / "names"


def test_the_real_folder(real_names: Path, tmp_path: Path) -> None:
    data = load_folder(real_names, seed=0)
    assert len(data.languages) == 18 and data.lines == 20_074
    assert data.junk == 24  # Russian.txt's "To The First Page" lines
    arabic = data.languages.index("Arabic")
    pairs = data.train + data.val + data.test
    assert sum(y == arabic for _, y in pairs) == 108  # 2,000 lines, 108 names
    assert len(pairs) == data.lines - data.junk - data.duplicates
    parts = [{n for n, _ in p} for p in (data.train, data.val, data.test)]
    assert not (parts[0] & parts[2] or parts[0] & parts[1])
    test_counts = Counter(y for _, y in data.test)
    assert all(test_counts[y] >= 7 for y in range(18))  # every language is tested
    # a slice (the first 40 lines of each file) trains through the engine
    sliced = tmp_path / "slice"
    sliced.mkdir()
    for path in real_names.glob("*.txt"):
        lines = path.read_text(encoding="utf-8").splitlines()[:40]
        (sliced / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = create(config(sliced))
    for batch in task.batches(1)[:3]:
        assert np.isfinite(task.train_step(batch, lr=1e-2).loss)
    assert len(task.languages) == 18 and 0.0 <= task.evaluate()["test_accuracy"] <= 1.0
