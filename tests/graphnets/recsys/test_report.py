"""graphnets.recsys.report: config resolution, metric rows and the run summary of a recommender run."""

from __future__ import annotations

import types

import pytest

from graphnets.recsys import get_preset, load_dataset
from graphnets.recsys.report import (
    RANKING_KEYS,
    dataset_record,
    evaluation_row,
    format_metrics,
    paper_comparison,
    resolve_config,
    training_summary,
)


def test_auto_takes_the_dataset_preset_when_one_exists():
    config, name = resolve_config("ultragcn", "amazon-electronics", "auto", epochs=3)
    assert name == "amazon-electronics" and config == get_preset("ultragcn", "amazon-electronics", epochs=3)
    config, name = resolve_config("lightgcn", "my-data", "auto", epochs=None, num_layers=2)
    assert name is None and config == get_preset("lightgcn", None, num_layers=2)


def test_none_and_switches():
    config, name = resolve_config("ultragcn", "amazon-electronics", "none", eval_every=0, early_stop=4)
    assert name is None and config.eval_every is None and config.early_stop == 4
    assert config.embedding_dim == get_preset("ultragcn").embedding_dim


def test_unknown_preset_is_a_value_error():
    with pytest.raises(ValueError, match="get_preset"):
        resolve_config("lightgcn", "synthetic", "no-such-preset")


def test_format_metrics_and_evaluation_row():
    metrics = {"recall@20": 0.5, "hr@20": 1.0, "f1@20": 0.25, "num_users": 7, "seconds": 0.5}
    assert format_metrics(metrics) == "recall@20: 0.50000  hr@20: 1.00000"
    assert format_metrics(metrics, RANKING_KEYS) == "recall@20: 0.50000  hr@20: 1.00000  f1@20: 0.25000"
    assert evaluation_row(metrics) == {"recall@20": 0.5, "hr@20": 1.0, "f1@20": 0.25, "eval_seconds": 0.5}


def test_dataset_record():
    data = load_dataset("synthetic", synthetic={"num_users": 60, "num_items": 40}, seed=0)
    rec = dataset_record(data)
    assert rec == {
        "name": "synthetic",
        "num_users": data.num_users,
        "num_items": data.num_items,
        "num_train": data.num_train,
        "num_test": data.num_test,
    }
    with pytest.raises(TypeError, match=r"dataset_record: data must be an InteractionData \(got dict\)"):
        dataset_record({})


def test_training_summary():
    trainer = types.SimpleNamespace(
        best={"epoch": 2, "recall@20": 0.4, "ndcg@20": 0.3, "loss": 1.0}, epoch=3, setup_seconds=0.5
    )
    rows = [
        {"epoch": 0, "eval_seconds": 1.0},
        {"epoch": 1, "train_seconds": 2.0},
        {"epoch": 2, "train_seconds": 4.0, "eval_seconds": 1.0},
        {"epoch": 3, "train_seconds": 3.0, "eval_seconds": 3.0},
    ]
    got = training_summary(trainer, rows, {"recall@20": 0.35, "hr@20": 0.9}, seconds=12.0, stop_reason="epochs")
    assert got == {
        "best": {"recall@20": 0.4, "ndcg@20": 0.3, "epoch": 2},
        "final": {"recall@20": 0.35, "hr@20": 0.9, "epoch": 3},
        "seconds": 12.0,
        "stop_reason": "epochs",
        "seconds_to_best": 0.5 + 1.0 + 2.0 + 5.0,
        "median_train_seconds_per_epoch": 3.0,
        "median_eval_seconds": 1.0,
        "setup_seconds": 0.5,
    }
    with pytest.raises(ValueError, match="training_summary: the trainer has not evaluated yet"):
        training_summary(types.SimpleNamespace(best=None), rows, {}, seconds=0.0, stop_reason="epochs")


def test_paper_comparison():
    got = paper_comparison({"recall@20": 0.183, "ndcg@20": 0.1554}, {"recall@20": 0.18123})
    assert got == "paper vs ours (best): recall@20: 0.1830 vs 0.1812  ndcg@20: 0.1554 vs nan"
