"""Fuzzing the readers of parallel text: `tasks.data.parallel.load_corpus`, what the
translation task's ``--dataset`` and ``--direction`` reach, on a Tatoeba/Anki file and on a
Multi30k folder. A `Corpus` in a direction the format has, or a one-line `DatasetError`;
nothing written."""

from __future__ import annotations

from fuzzing import inputs, sandbox
from hypothesis import given
from hypothesis import strategies as st

from tasks.data.info import DatasetError
from tasks.data.parallel import DIRECTIONS, MULTI30K_SPLITS, Corpus, load_corpus

TATOEBA = (
    "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\nHi.\tSalut !\n"
    "Run!\tCours\u00a0!\nRun!\tCourez\u202f!\nWho?\tQui ?\n".encode(),
    "Hi.\t嗨。\nHi.\t你好。\nRun.\t你用跑的。\nWait!\t等等！\nI try.\t让我来。\n".encode(),
)
MULTI30K = {
    "en": b"A man in an orange hat.\nTwo dogs play in the snow.\n",
    "de": b"Ein Mann mit einem orangefarbenen Hut.\nZwei Hunde spielen im Schnee.\n",
}
DIRECTION = st.sampled_from(["auto", "fr-en", "en-fr", "zh-en", "en-zh", "de-en", "en-de"])
ALLOWED = {direction for options in DIRECTIONS.values() for direction in options}
CHOICES = (*["keep"] * 4, *["mutate"] * 5, "leave out")
"""What happens to each file of the folder, and how often."""


def _check(corpus: Corpus, direction: str) -> None:
    assert corpus.direction in ALLOWED and direction in ("auto", corpus.direction)
    for part in (corpus.train, corpus.val, corpus.test):
        assert all(isinstance(s, str) and isinstance(t, str) for s, t in part)


@given(data=inputs(*TATOEBA), direction=DIRECTION)
def test_a_tatoeba_file_reads_or_fails_in_one_line(data: bytes, direction: str) -> None:
    with sandbox() as box:
        path = box.write("pairs.txt", data)
        corpus = box.call(lambda: load_corpus(str(path), direction), DatasetError)
    if isinstance(corpus, Corpus):
        _check(corpus, direction)


@st.composite
def multi30k_folder(draw: st.DrawFn) -> dict[str, bytes | None]:
    """File name -> bytes (None: the file is missing); each file kept, mutated or left out."""
    out: dict[str, bytes | None] = {}
    for stem in MULTI30K_SPLITS.values():
        for lang, valid in MULTI30K.items():
            choice = draw(st.sampled_from(CHOICES))
            name = f"{stem}.{lang}"
            out[name] = None if choice == "leave out" else valid
            if choice == "mutate":
                out[name] = draw(inputs(valid))
    return out


@given(files=multi30k_folder(), direction=DIRECTION)
def test_a_multi30k_folder_reads_or_fails_in_one_line(
    files: dict[str, bytes | None], direction: str
) -> None:
    with sandbox() as box:
        (box.inputs / "multi30k").mkdir()
        for name, data in files.items():
            if data is not None:
                box.write(f"multi30k/{name}", data)
        folder = str(box.inputs / "multi30k")
        corpus = box.call(lambda: load_corpus(folder, direction), DatasetError)
    if isinstance(corpus, Corpus):
        _check(corpus, direction)
        assert all(source for source, _ in corpus.train + corpus.val + corpus.test)
