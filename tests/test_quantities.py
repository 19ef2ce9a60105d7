"""What each task measures: its quantities and the reference results declared with its datasets.

A reference is drawn only on the chart of its quantity (tests/tui/test_quantity_charts.py draws
each one); here, every declaration names quantities its task has, and each quantity's metric
keys are ones the task really reports.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from engine_fixtures import engine_config

from tasks.data.info import Reference
from tasks.engine.quantity import Baseline, Quantity, split_of
from tasks.registry import TASKS, create_task

REFERENCES = [
    (task.name, dataset.name, ref)
    for task in TASKS.values()
    for dataset in task.datasets
    for ref in dataset.references
]
"""Every declared reference, with its task and dataset."""


@pytest.mark.parametrize("task", list(TASKS))
def test_each_task_has_a_loss_and_a_primary_quantity(task: str) -> None:
    info = TASKS[task]
    assert info.loss_quantity.train_loss
    assert info.primary_metric in info.primary_quantity.metrics
    assert info.primary_quantity.higher_is_better is not info.lower_is_better
    charts = info.chart_quantities
    assert charts[0] == info.loss_quantity and set(charts) == set(info.quantities)
    assert info.primary_quantity in charts[:2]


@pytest.mark.parametrize(
    ("task", "dataset", "ref"), REFERENCES, ids=[f"{t}-{d}-{r.label}" for t, d, r in REFERENCES]
)
def test_a_reference_names_a_quantity_of_its_task(task: str, dataset: str, ref: Reference) -> None:
    info = TASKS[task]
    [quantity] = [q for q in info.quantities if q.name == ref.quantity]
    assert ref.split in ("val", "test") and math.isfinite(ref.value) and ref.source
    assert ref in info.references(quantity, dataset)  # on its own data
    for other in info.quantities:
        if other != quantity:
            assert ref not in info.references(other, dataset)
    for other_data in info.datasets:
        if other_data.name != dataset:
            assert ref not in info.references(quantity, other_data.name)
    assert ref not in info.references(quantity, f"/somewhere/{dataset}")  # a local file


def test_the_references_moved_from_the_task_to_its_datasets() -> None:
    found = {(t, d, r.label): (r.value, r.quantity, r.split) for t, d, r in REFERENCES}
    assert found == {
        ("charlm", "tiny-shakespeare", "5-gram"): (1.69, "nats/char", "val"),
        ("charlm", "tiny-shakespeare", "nanoGPT CPU"): (1.88, "nats/char", "val"),
        ("charlm", "tiny-shakespeare", "baby GPT (A100)"): (1.47, "nats/char", "val"),
        ("sentiment", "rt-polarity", "NBSVM"): (0.794, "accuracy", "test"),
        ("sentiment", "imdb", "BiLSTM+GloVe"): (0.862, "accuracy", "test"),
        ("timeseries", "airline-passengers", "seasonal naive + drift"): (15.7, "RMSE", "test"),
        ("translation", "multi30k", "GRU"): (20.6, "BLEU", "test"),
        ("translation", "multi30k", "GRU + attention"): (28.3, "BLEU", "test"),
    }


def test_baselines_come_from_the_runs_own_metrics() -> None:
    info = TASKS["timeseries"]
    rmse = info.quantity("RMSE")
    metrics = {"val_rmse": 20.0, "persistence_rmse": 46.1, "seasonal_naive_rmse": 41.9}
    refs = info.references(rmse, "monthly-sunspots", metrics)
    assert [(r.label, r.value, r.split) for r in refs] == [
        ("persistence", 46.1, "test"), ("seasonal naive", 41.9, "test"),
    ]  # fmt: skip
    assert info.references(info.loss_quantity, "monthly-sunspots", metrics) == ()
    assert rmse.points(metrics) == [("val", 20.0)]


def test_a_declaration_that_mixes_quantities_is_refused() -> None:
    info = TASKS["sentiment"]
    data = dataclasses.replace(
        info.datasets[0], references=(Reference("a GRU", 25.0, "BLEU", "test", "somewhere"),)
    )
    with pytest.raises(ValueError, match="'BLEU', not one of its quantities"):
        dataclasses.replace(info, datasets=(data,))
    with pytest.raises(ValueError, match="val_accuracy needs one quantity"):
        dataclasses.replace(info, quantities=info.quantities[:1])
    with pytest.raises(ValueError, match="names no split"):
        Quantity("accuracy", higher_is_better=True, metrics=("accuracy",))
    assert split_of("test_bleu") == "test"
    assert Baseline("persistence", "persistence_rmse", "test").split == "test"


@pytest.mark.parametrize("task", list(TASKS))
def test_every_quantity_is_reported_by_its_task(tmp_path: Path, task: str) -> None:
    """One step and a full evaluation on the task's synthetic data report a key of every
    quantity (the training loss's is the step's), and the baselines it declares."""
    info = TASKS[task]
    model = create_task(engine_config(task, tmp_path))
    model.start_epoch(0)
    model.train_step(model.batches(0)[0], lr=1e-3)
    metrics = model.evaluate(quick=False)
    for q in info.quantities:
        assert q.points(metrics) or (q.train_loss and not q.metrics), (q.name, sorted(metrics))
        assert not q.baselines or q.measured_references(metrics), (q.name, sorted(metrics))
