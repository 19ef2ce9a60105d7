"""The sentiment datasets: rt-polarity (the default), IMDB and ChnSentiCorp, and the quantities
a sentiment model is measured in (loss, accuracy, F1).

Light on purpose: imported by `tasks.registry` before torch loads. No offline default: a
sentiment model needs real reviews.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.data.info import DatasetInfo, Reference, RemoteFile, github_raw
from tasks.engine.quantity import Quantity

if TYPE_CHECKING:
    from tasks.data.profile.detect import Sample
    from tasks.data.profile.labelled import LabelledData
    from tasks.engine.settings import TrainConfig

QUANTITIES = (
    Quantity("loss", higher_is_better=False, metrics=("val_loss", "test_loss"), train_loss=True),
    Quantity("accuracy", higher_is_better=True, metrics=("val_accuracy", "test_accuracy"),
             short="acc"),
    Quantity("F1", higher_is_better=True, metrics=("test_f1",)),
)  # fmt: skip
"""Validation accuracy selects the weights; a full evaluation tests them (test_*)."""

_RT = ("dennybritz/cnn-text-classification-tf", "18762b459e21d9c70e5c242f8d43fc4e6db37a0d")

_RT_FILES = tuple(
    RemoteFile(github_raw(*_RT, f"data/rt-polaritydata/{name}"), sha, size, name)
    for name, sha, size in (
        (
            "rt-polarity.pos",
            "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58",
            626395,
        ),
        (
            "rt-polarity.neg",
            "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd",
            612506,
        ),
    )
)

DATASETS = (
    DatasetInfo(
        name="rt-polarity",
        title="Rotten Tomatoes sentence polarity v1.0 (MR)",
        description="10,662 review snippets, one per line: rt-polarity.pos (5,331 positive) "
        "and rt-polarity.neg (5,331 negative), UTF-8, lower-cased and tokenized.",
        url=f"https://github.com/{_RT[0]}/tree/{_RT[1]}/data/rt-polaritydata",
        filename="rt-polarity",
        license="no data license stated; cite Pang & Lee, ACL 2005",
        size_bytes=sum(f.size_bytes for f in _RT_FILES),
        shared_path="rt-polarity",
        files=_RT_FILES,
        references=(
            Reference(
                "NBSVM",
                0.794,
                "accuracy",
                "test",
                "Wang & Manning, ACL 2012 (NBSVM-bi, 10-fold cross-validation)",
            ),
        ),
    ),
    # The download is Stanford's aclImdb_v1.tar.gz (aclImdb/{train,test}/{pos,neg}, plus
    # train/unsup); a common local copy is a repack of the same reviews whose train split is
    # cut into train/ and val/. Both are tar.gz archives of aclImdb/: the loader reads either.
    DatasetInfo(
        name="imdb",
        title="IMDB Large Movie Review Dataset v1.0",
        description="50,000 labeled movie reviews (25k train, 25k test, balanced pos/neg), "
        "one review per text file in a tar.gz (aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt).",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        filename="aclImdb_v1.tar.gz",
        sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
        license="no license stated; cite Maas et al., ACL 2011",
        size_bytes=84125825,
        shared_path="imdb/aclImdb_dax44.tar.gz",
        references=(
            Reference(
                "BiLSTM+GloVe",
                0.862,
                "accuracy",
                "test",
                "bentrevett/pytorch-sentiment-analysis, the 25k test reviews",
            ),
        ),
    ),
    DatasetInfo(
        name="chnsenticorp",
        title="ChnSentiCorp hotel reviews (Chinese)",
        description="7,766 Chinese hotel reviews from Ctrip, CSV with header label,review "
        "(1 positive, 0 negative; about 69/31).",
        url=github_raw(
            "SophonPlus/ChineseNlpCorpus",
            "a0b781d72158bde242c0626c9e354d2b328865ff",
            "datasets/ChnSentiCorp_htl_all/ChnSentiCorp_htl_all.csv",
        ),
        filename="ChnSentiCorp_htl_all.csv",
        sha256="1d414b9c65caf3a836abdb4efded621968502ad3338e1a9d885ae131c86083f0",
        license="no license stated (corpus compiled by Tan Songbo)",
        size_bytes=2904858,
        shared_path="chnsenticorp/ChnSentiCorp_htl_all.csv",
    ),
)
"""rt-polarity first: the default."""


def recognise(sample: Sample) -> bool:
    """Whether a local path is reviews `tasks.data.text.load_reviews` reads: an rt-polarity
    folder, an aclImdb tree or archive, a CSV with a ``label,review`` header."""
    path = sample.path
    if sample.is_dir:
        return (path / "rt-polarity.pos").is_file() or any(
            (root / "train").is_dir() and (root / "test").is_dir()
            for root in (path, path / "aclImdb")
        )
    if sample.name.endswith((".tar.gz", ".tgz", ".tar")):
        return True
    return sample.name.endswith((".csv", ".tsv")) and sample.header.startswith("label,review")


def profile_data(dataset: str, settings: TrainConfig) -> LabelledData:
    """A review set for ``data show``: `load_reviews`' split, tokenised by its own tokenizer."""
    from tasks.data.profile.labelled import LabelledData
    from tasks.data.text import load_reviews, token_strings
    from tasks.sentiment.task import LABELS

    data = load_reviews(dataset)
    kind = data.tokenizer
    notes = [data.describe(), f"tokenizer: {kind}"] + ([data.note] if data.note else [])
    return LabelledData(
        {"train": data.train, "val": data.val, "test": data.test},
        LABELS,
        lambda text: token_strings(text, kind),
        "tokens",
        notes,
    )
