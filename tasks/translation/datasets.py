"""The translation datasets: Multi30k English-German (the default) and two Tatoeba pair files,
and the quantities a translation model is measured in (the training loss, BLEU).

Light on purpose: imported by `tasks.registry` before torch loads. No offline default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.data.info import DatasetInfo, Reference, RemoteFile, github_raw
from tasks.engine.quantity import Quantity

if TYPE_CHECKING:
    from tasks.data.profile.detect import Sample

QUANTITIES = (
    Quantity("loss", higher_is_better=False, train_loss=True),
    Quantity("BLEU", higher_is_better=True, metrics=("val_bleu", "test_bleu")),
)
"""Greedy validation BLEU selects; a full evaluation adds test BLEU with beam search."""

_BENTREVETT = "bentrevett/pytorch-seq2seq tutorial"

_M30K = ("multi30k/dataset", "a3d2e0d26b56f3846f66a952536ffed4e401d05a")
_TATOEBA = "CC-BY 2.0 (France); attribution: tatoeba.org and manythings.org/anki"

_FRA_ZIP = github_raw("modelexlab/data", "adddaf33ac35572bcfeb421efec29435e7ea9332", "fra-eng.zip")
_FRA_ZIP_SHA = "161c93f18da3a7e6df611ed961426613260de8af06ccf8c79c977afe5135ac44"

_M30K_FILES = tuple(
    RemoteFile(github_raw(*_M30K, f"data/task1/raw/{name}.gz"), sha, size, name, unpack="gzip")
    for name, sha, size in (
        ("train.en", "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f", 568929),
        ("train.de", "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6", 637044),
        ("val.en", "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28", 21650),
        ("val.de", "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a", 24681),
        (
            "test_2016_flickr.en",
            "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
            21077,
        ),
        (
            "test_2016_flickr.de",
            "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
            22890,
        ),
    )
)

DATASETS = (
    DatasetInfo(
        name="multi30k",
        title="Multi30k English-German (task 1)",
        description="Image captions and their German translations, one sentence per line: "
        "train 29,000, val 1,014, test_2016_flickr 1,000 pairs ({split}.en / {split}.de).",
        url=f"https://github.com/{_M30K[0]}/tree/{_M30K[1]}/data/task1/raw",
        filename="multi30k-en-de",
        license="no license stated; Flickr30K terms of use apply; cite Elliott et al., 2016",
        size_bytes=sum(f.size_bytes for f in _M30K_FILES),
        shared_path="translation/multi30k-en-de",
        files=_M30K_FILES,
        references=(
            Reference("GRU", 20.6, "BLEU", "test", f"{_BENTREVETT} 2 (GPU), test2016"),
            Reference("GRU + attention", 28.3, "BLEU", "test", f"{_BENTREVETT} 3 (GPU), test2016"),
        ),
    ),
    DatasetInfo(
        name="tatoeba-cmn-eng",
        title="Tatoeba English-Chinese sentence pairs",
        description="28,447 pairs, tab-separated English<TAB>Chinese<TAB>attribution "
        "(manythings.org Anki release).",
        url=github_raw(
            "JimEverest/transformer-ready-go",
            "7745df43beea3501a578e17090277ea2d755cb82",
            "data/cmn.txt",
        ),
        filename="cmn.txt",
        sha256="3a8ac6cb8cdaab6e235d3075ec3680084044d975882d6139c903bf7893097ff6",
        license=_TATOEBA,
        size_bytes=4052123,
        shared_path="translation/cmn-eng/cmn.txt",
    ),
    DatasetInfo(
        name="tatoeba-fra-eng",
        title="Tatoeba English-French sentence pairs",
        description="167,130 pairs, tab-separated English<TAB>French (manythings.org Anki "
        "release of 2019-04-07; fra.txt from fra-eng.zip).",
        url=_FRA_ZIP,
        filename="fra.txt",
        sha256=_FRA_ZIP_SHA,
        license=_TATOEBA,
        size_bytes=3424571,
        shared_path="translation/fra-eng/fra.txt",
        files=(
            RemoteFile(
                _FRA_ZIP, _FRA_ZIP_SHA, 3424571, "fra.txt", unpack="zip", member="fra-eng/fra.txt"
            ),
        ),
    ),
)
"""multi30k first: the default."""


def recognise(sample: Sample) -> bool:
    """Whether a local path is what `tasks.data.parallel.load_corpus` reads: a folder with
    Multi30k's ``train.en`` and ``train.de``, or a file (not a .csv or .tsv table) whose first
    lines all hold a tab (Tatoeba's pairs)."""
    if sample.is_dir:
        return (sample.path / "train.en").is_file() and (sample.path / "train.de").is_file()
    lines = sample.lines
    table = sample.name.endswith((".csv", ".tsv"))
    return not table and bool(lines) and all("\t" in line for line in lines)
