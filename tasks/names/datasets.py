"""The names datasets: the PyTorch tutorial's surnames of 18 languages, and the quantities a
names model is measured in (loss, accuracy, macro-F1).

Light on purpose: imported by `tasks.registry` before torch loads. No offline default: no
surname data ships with Python, and a made-up list would teach nothing; without the download
(or a local folder, ``--dataset PATH``), training says so in one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tasks.data.info import DatasetInfo, RemoteZip, ZipMember
from tasks.engine.quantity import Baseline, Quantity

if TYPE_CHECKING:
    from tasks.data.profile.detect import Sample
    from tasks.data.profile.labelled import LabelledData
    from tasks.names.settings import NamesSettings

QUANTITIES = (
    Quantity("loss", higher_is_better=False, metrics=("val_loss", "test_loss"), train_loss=True),
    Quantity(
        "accuracy", higher_is_better=True, metrics=("val_accuracy", "test_accuracy"),
        baselines=(Baseline("majority class", "majority_accuracy", "test"),), short="acc",
    ),
    Quantity("macro-F1", higher_is_better=True, metrics=("val_macro_f1", "test_macro_f1"),
             short="F1"),
)  # fmt: skip
"""Validation accuracy selects the weights; macro-F1 weighs every language alike (Russian is
half of the names); the majority class is measured on each run's own test part."""

TUTORIAL_ZIP = "https://download.pytorch.org/tutorial/data.zip"
"""The data archive of the PyTorch tutorials "Classifying Names with a Character-Level RNN"
and "Generating Names ...": ``data/names/<Language>.txt`` and ``data/eng-fra.txt``."""
TUTORIAL_ZIP_BYTES = 2_882_130
"""The archive's size as its server reported it (2023); its sha256 is not published, so each
member is checked instead."""

_MEMBERS = tuple(
    ZipMember(f"data/names/{language}.txt", sha, size)
    for language, sha, size in (
        ("Arabic", "6f424a8dbe51cbbbabab7a57d38b617210125e4e3991f3c657cb79b8f104bafc", 13_190),
        ("Chinese", "49263ef55a8cb1740e841d65cad8214b2f9b5b869bc534c811746422496fa91e", 1_247),
        ("Czech", "145bbbd6d0816578f03388e92c264d39ef1c60df920b081d371fa5c5cc055a8e", 3_919),
        ("Dutch", "924f32b635170eae561f84538632138fc07d4c8bbd70ba3fb980de1ecc4d2af3", 2_351),
        ("English", "9cca037066d3d5989e24bc01801416162de506b5e28e15b7c092a47905d29bf2", 27_125),
        ("French", "81e65b36c60ed5b89a17422f6edcadbb89546f38ad69e960e64e7ba682012a95", 2_178),
        ("German", "7449cd590b97a733e18d613a4155decd77ec35dc5f8aadd7a82204dce4f051db", 5_610),
        ("Greek", "3555b5186de7f401e6d991b088e9e644ca3099116477818c25ab5793801389e6", 1_981),
        ("Irish", "cf8c7013256252a88d2503127b87282a11f21b2ff6db1bded68834c19a1ec058", 1_858),
        ("Italian", "f88414c27d0606a11a678b4859277828c2565d6cc4d9ee932deef6e94f3b35e4", 5_657),
        ("Japanese", "e0e717e114fec3e7eade4d9dabe0067c475f43147e36a22b47902ee76ad9e67f", 7_622),
        ("Korean", "cd54221ccb362a6cba4c78828838cf3268a0e59744767a37cf6ec4b74036b136", 423),
        ("Polish", "45bab898af2f60ed3a728bbf6980e28821011a7caa53227553b5785903a40826", 1_165),
        ("Portuguese", "50a8735f41f4f73757c8ce5b16cb0275cd86b2b214bcbc8c9805f508cb131c53", 554),
        ("Russian", "43b3e64ce351f77f1ac9e0cdf7566012d127f4371875fd25208845b5c9d6f7c3", 85_605),
        ("Scottish", "78d0252711d87d948ea86fe34826c51d2d794a8e52d15b5d6f7b6244d45d62dd", 752),
        ("Spanish", "1bcb462ed3316756a85781d68232bddae04498fdddd5d9219c53fd1fbdeba7a7", 2_284),
        ("Vietnamese", "4761c0de374ebdfd7dea7faa6fbac707d96cad9a6fc91d3626c462cbd08b6c76", 339),
    )
)
"""(language, sha256, bytes) of each file, as in the copy checked for this project."""

DATASETS = (
    DatasetInfo(
        name="names",
        title="Surnames of 18 languages (PyTorch tutorial)",
        description="20,074 surnames, one <Language>.txt per language (Arabic to Vietnamese), "
        "one per line: Russian 9,408, English 3,668 ... Vietnamese 73; many repeat.",
        url=TUTORIAL_ZIP,
        license="no data license stated (pytorch/tutorials is BSD-3-Clause; the archive states "
        "no terms of its own)",
        filename="names",
        size_bytes=TUTORIAL_ZIP_BYTES,
        shared_path="names",
        files=(RemoteZip(TUTORIAL_ZIP, None, TUTORIAL_ZIP_BYTES, _MEMBERS),),
    ),
)
"""The one dataset (the default)."""


def recognise(sample: Sample) -> bool:
    """Whether a local path is a names folder: two or more ``<Language>.txt`` files."""
    return sample.is_dir and sum(1 for p in sample.path.glob("*.txt") if p.is_file()) >= 2


def profile_data(dataset: str, settings: NamesSettings) -> LabelledData:
    """A names folder for ``data show``: `load_names` with the run's split; tokens: characters."""
    from tasks.data.profile.labelled import LabelledData
    from tasks.names.data import load_names

    data = load_names(dataset, settings.split_seed, settings.val_fraction, settings.test_fraction)
    return LabelledData(
        {"train": data.train, "val": data.val, "test": data.test},
        data.languages,
        list,
        "characters",
        [data.describe()] + ([data.note] if data.note else []),
    )
