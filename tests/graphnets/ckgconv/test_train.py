"""graphnets.ckgconv.train: config validation, exact state round trip, non-finite loss named."""

from __future__ import annotations

import copy

import pytest
import torch

from graphnets.ckgconv import AddRRWP, CKGCNConfig, GCNRegressor, synthetic_molecules
from graphnets.ckgconv.train import GraphRegressionTrainer, RegressionTrainConfig


def _setup(epochs=3):
    g = torch.Generator().manual_seed(0)
    tr = AddRRWP(4)
    train, test = [tr(d) for d in synthetic_molecules(16, g)], [tr(d) for d in synthetic_molecules(8, g)]
    torch.manual_seed(0)
    model = GCNRegressor(CKGCNConfig(num_node_types=6, K=4, dim=8, num_layers=1))
    return GraphRegressionTrainer(
        model, train, test, RegressionTrainConfig(epochs, 1, batch_size=4), torch.Generator().manual_seed(0)
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs must be an int >= 1"),
        ({"epochs": 2, "warmup": 2}, "warmup < epochs"),
        ({"lr": -1.0}, "lr must be finite and > 0"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RegressionTrainConfig(**kwargs)


def test_state_round_trip_continues_exactly():
    a = _setup()
    a.train_epoch()
    state = copy.deepcopy(a.state_dict())
    rng = torch.get_rng_state()
    first = [a.train_epoch()["train_mae"] for _ in range(2)]
    b = _setup()
    b.load_state_dict(state)
    torch.set_rng_state(rng)
    assert [b.train_epoch()["train_mae"] for _ in range(2)] == first and b.epoch == 3
    assert b.eval_due() and b.evaluate() == a.evaluate()


def test_non_finite_loss_names_epoch_and_batch():
    t = _setup()
    with torch.no_grad():
        next(iter(t.model.parameters())).fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="non-finite loss nan at epoch 1, batch 0"):
        t.train_epoch()


def test_non_finite_target_stops_before_the_update():
    t = _setup()
    for b in t.train_loader.dataset:
        b.y = b.y * float("nan")  # every batch has a NaN target
    before = copy.deepcopy(dict(t.model.named_parameters()))
    with pytest.raises(ValueError, match="GraphRegressionTrainer: non-finite loss nan at epoch 1, batch 0"):
        t.train_epoch()
    assert all(torch.equal(v, before[k]) for k, v in t.model.named_parameters())  # no optimiser step taken


def test_mean_absolute_error_refuses_nan_predictions():
    from graphnets.ckgconv.train import mean_absolute_error

    t = _setup()
    assert mean_absolute_error(t.model, t.test_loader) >= 0.0
    with torch.no_grad():
        for p in t.model.parameters():
            p.fill_(float("nan"))
    with pytest.raises(ValueError, match=r"mean_absolute_error: \|prediction - target\| of graph 0 must be finite"):
        mean_absolute_error(t.model, t.test_loader)
