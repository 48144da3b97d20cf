"""graphnets.protein.train: config validation, leave-one-target-out folds never test a training target."""

from __future__ import annotations

import pytest
import torch

from graphnets.protein import synthetic_decoy_set
from graphnets.protein.train import QualityTrainConfig, build_quality_model, leave_one_target_out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be an int >= 1"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"lr": float("nan")}, "need lr > 0"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QualityTrainConfig(**kwargs)


def test_unknown_model():
    with pytest.raises(ValueError, match="build_quality_model: name must be one of"):
        build_quality_model("transformer", QualityTrainConfig())


def test_folds_hold_out_their_target():
    data = synthetic_decoy_set(3, 2, 12, generator=torch.Generator().manual_seed(0), order=1)
    epochs, folds = [], []
    r = leave_one_target_out(
        data,
        "gcn",
        QualityTrainConfig(epochs=2, order=1),
        on_epoch=epochs.append,
        on_fold=lambda fold, model: folds.append(fold),
    )
    assert folds == [0, 1, 2]
    assert [(e["fold"], e["epoch"]) for e in epochs] == [(f, e) for f in range(3) for e in (1, 2)]
    assert r["names"] == [g.names[0] for t in data.targets for g in data.graphs if g.targets[0] == t]
    assert set(r["residue"]["per_target"]) == set(data.targets) and r["num_parameters"] > 0
    again = leave_one_target_out(data, "gcn", QualityTrainConfig(epochs=2, order=1))
    assert again["pred_global"] == r["pred_global"]  # seeded: the same run twice
    with pytest.raises(ValueError, match=">= 2 targets"):
        leave_one_target_out(data.subset(["syn000"]), "gcn", QualityTrainConfig(epochs=1))


@pytest.mark.data
def test_decoy_download_table_matches_the_shared_files():
    from graphnets.protein.download import PROTEINGCN_DECOYS, download_decoys
    from tests.helpers import data_path

    root = data_path("proteins") / "proteingcn_decoys"
    assert sorted(PROTEINGCN_DECOYS) == ["1ew0A", "1eyvA", "1ez3A", "1ezgA"]
    assert all(len(files) == 12 for files in PROTEINGCN_DECOYS.values())
    assert download_decoys(root, opener=None) == root  # every file present and verified: no network


def test_non_finite_loss_names_epoch_and_batch():
    from graphnets.protein.train import train_quality_model

    data = synthetic_decoy_set(2, 2, 12, generator=torch.Generator().manual_seed(0), order=1)
    graphs = list(data.graphs)
    graphs[0] = graphs[0].with_labels(graphs[0].y * float("nan"), graphs[0].y_global)  # a corrupt .error file
    with pytest.raises(FloatingPointError, match=r"train_quality_model: non-finite loss nan at epoch 1, batch \d"):
        train_quality_model(
            "gcn",
            graphs,
            graphs[1:],
            QualityTrainConfig(epochs=1, order=1, batch_size=1),
            torch.Generator().manual_seed(0),
        )
